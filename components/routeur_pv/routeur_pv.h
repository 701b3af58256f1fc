#pragma once

#include <string>
#include <utility>

#include "esphome/core/component.h"
#include "esphome/core/defines.h"
#include "esphome/core/helpers.h"
#include "esphome/core/preferences.h"
#include "esphome/components/uart/uart.h"
#ifdef USE_SENSOR
#include "esphome/components/sensor/sensor.h"
#endif
#ifdef USE_BINARY_SENSOR
#include "esphome/components/binary_sensor/binary_sensor.h"
#endif
#ifdef USE_TEXT_SENSOR
#include "esphome/components/text_sensor/text_sensor.h"
#endif
#ifdef USE_SELECT
#include "esphome/components/select/select.h"
#endif
#ifdef USE_NUMBER
#include "esphome/components/number/number.h"
#endif
#ifdef USE_TIME
#include "esphome/components/time/real_time_clock.h"
#endif

#include "change_gate.h"
#include "command_link.h"
#include "energy_total.h"
#include "frame_parser.h"
#include "legacy_json.h"

namespace esphome::routeur_pv {

enum SensorKind : uint8_t {
  SENSOR_GRID_POWER = 0,
  SENSOR_ROUTED_POWER,
  SENSOR_ROUTED_RATIO,
  SENSOR_CHANNEL2_RATIO,
  SENSOR_MAINS_FREQUENCY,
  SENSOR_MAINS_VOLTAGE,
  SENSOR_BUCKET_ENERGY,
  SENSOR_FIRING_DELAY,
  SENSOR_MIN_ROUTABLE_POWER,
  SENSOR_SAMPLES_PER_CYCLE,
  SENSOR_FRAMES_RECEIVED,
  SENSOR_FRAMES_REJECTED,
  // The commands' state, in frames once the ATmega received a command line (command_link.h)
  SENSOR_CHANNEL1_LEASE,
  SENSOR_COMMANDS_ACCEPTED,
  SENSOR_COMMANDS_REFUSED,
  SENSOR_SETTINGS_CHECKSUM,
  SENSOR_KIND_COUNT,
};

/// Energy totals (kWh): they keep their value while the link is down.
enum EnergyKind : uint8_t {
  ENERGY_ROUTED = 0,
  ENERGY_GRID_IMPORT,
  ENERGY_GRID_EXPORT,
  ENERGY_KIND_COUNT,
};

/// STA flags exposed as binary sensors (bit index in the STA field).
static const uint8_t STA_FLAG_COUNT = 6;

/// Hub: reads the ATmega's frames from a UART and publishes them; with the uart's TX (the command
/// line), sends the ATmega the channel-1 requests and the settings of the select, numbers and actions.
class RouteurPvComponent : public Component, public uart::UARTDevice {
 public:
  void setup() override;
  void loop() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::DATA; }

  void set_heater_power(float watts) { this->heater_power_ = watts; }
  /// Not `set_timeout`: that would hide Component::set_timeout (scheduler).
  void set_link_timeout(uint32_t ms) { this->timeout_ms_ = ms; }
  void set_baud_rate(uint32_t baud) { this->baud_rate_ = baud; }
  /// Energy totals are published at most this often (and when the link is lost).
  void set_energy_update_interval(uint32_t ms) { this->energy_interval_ms_ = ms; }
#ifdef USE_TIME
  void set_time(time::RealTimeClock *clock) { this->time_ = clock; }
#endif

#ifdef USE_SENSOR
  /// A sensor's value goes out when it moved by this much (and at least once a minute).
  void set_min_change(SensorKind kind, float min_change) { this->gates_[kind].set_min_change(min_change); }
  void set_grid_power_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_GRID_POWER] = s; }
  void set_routed_power_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_ROUTED_POWER] = s; }
  void set_routed_ratio_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_ROUTED_RATIO] = s; }
  void set_channel2_ratio_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_CHANNEL2_RATIO] = s; }
  void set_mains_frequency_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_MAINS_FREQUENCY] = s; }
  void set_mains_voltage_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_MAINS_VOLTAGE] = s; }
  void set_bucket_energy_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_BUCKET_ENERGY] = s; }
  void set_firing_delay_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_FIRING_DELAY] = s; }
  void set_min_routable_power_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_MIN_ROUTABLE_POWER] = s; }
  void set_samples_per_cycle_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_SAMPLES_PER_CYCLE] = s; }
  void set_frames_received_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_FRAMES_RECEIVED] = s; }
  void set_frames_rejected_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_FRAMES_REJECTED] = s; }
  void set_channel1_lease_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_CHANNEL1_LEASE] = s; }
  void set_commands_accepted_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_COMMANDS_ACCEPTED] = s; }
  void set_commands_refused_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_COMMANDS_REFUSED] = s; }
  void set_settings_checksum_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_SETTINGS_CHECKSUM] = s; }
  void set_routed_energy_sensor(sensor::Sensor *s) { this->energy_sensors_[ENERGY_ROUTED] = s; }
  void set_grid_import_energy_sensor(sensor::Sensor *s) { this->energy_sensors_[ENERGY_GRID_IMPORT] = s; }
  void set_grid_export_energy_sensor(sensor::Sensor *s) { this->energy_sensors_[ENERGY_GRID_EXPORT] = s; }
  void set_routed_energy_today_sensor(sensor::Sensor *s) { this->routed_today_sensor_ = s; }
#endif
#ifdef USE_BINARY_SENSOR
  void set_link_binary_sensor(binary_sensor::BinarySensor *s) { this->link_sensor_ = s; }
  /// `bit`: index of the STA flag (0 NO_MAINS .. 4 WATCHDOG_RESET).
  void set_status_flag_binary_sensor(uint8_t bit, binary_sensor::BinarySensor *s) {
    if (bit < STA_FLAG_COUNT)
      this->sta_sensors_[bit] = s;
  }
#endif
#ifdef USE_TEXT_SENSOR
  void set_status_text_sensor(text_sensor::TextSensor *s) { this->status_text_sensor_ = s; }
  void set_channel1_mode_text_sensor(text_sensor::TextSensor *s) { this->mode_text_sensor_ = s; }
#endif

  // ---- the command line (the uart's TX; config validation requires it for whatever uses these)
  void set_command_line(bool enabled) { this->command_line_ = enabled; }
  bool command_line() const { return this->command_line_; }
  /// Channel 1 at `percent` % of the heater's rating whatever the surplus, for duration_ms (0: until
  /// the next request).
  void request_boost(float percent, uint32_t duration_ms);
  /// Channel 1 off (the surplus goes to channel 2) for duration_ms (0: until the next request).
  void request_stop(uint32_t duration_ms);
  /// Back to solar routing.
  void request_auto();
  /// The "Channel 1 mode" select: Boost with the "Boost power" and "Boost duration" numbers.
  void select_channel1(Ch1Request what);
  /// "Boost power" (%): a boost under way follows it at once.
  void set_boost_power(float percent);
  /// "Boost duration" (min, 0: until changed): for the next Boost of the select.
  void set_boost_duration(float minutes);
  /// Settings in the user's units (W, mV/V, mV/A), sent in one line; a set the ATmega would refuse
  /// (a value out of range, the export target not below 1 % of the heater) is refused whole here,
  /// logged, and changes nothing. True when taken.
  bool request_settings(const std::pair<Setting, float> *settings, size_t count);
#ifdef USE_SELECT
  void set_channel1_mode_select(select::Select *s) { this->mode_select_ = s; }
#endif
#ifdef USE_NUMBER
  /// The number showing (and setting) one of the ATmega's settings, in the user's unit.
  void set_setting_number(Setting s, number::Number *n) {
    if (s < SETTING_COUNT)
      this->setting_numbers_[s] = n;
  }
#endif
  const CommandLink &link() const { return this->link_; }
  /// Whether the uart's TX carries command lines to the ATmega (something uses them).
  bool has_command_line() const { return this->command_line_; }
  /// Called from loop() with every valid frame, after the hub's own entities (pv_loads).
  template<typename F> void add_on_frame_callback(F &&callback) {
    this->frame_callbacks_.add(std::forward<F>(callback));
  }

  /// Values served by the legacy JSON API (0 before the first frame and after a link loss).
  const LegacyValues &legacy_values() const { return this->legacy_; }
  const FrameParser &parser() const { return this->parser_; }
  bool link_ok() const { return this->link_ok_; }
  /// The configured heater_power (W, NaN when not given).
  float heater_power() const { return this->heater_power_; }
  /// What channel 1 delivered in the last valid frame (parser().frame(); fresh while link_ok()), W:
  /// PW1, or on an older ATmega POR (clamped at 0) x heater_power; NaN when neither is known.
  float last_routed_power() const {
    const Frame &f = this->parser_.frame();
    if (f.has(FIELD_PW1))
      return static_cast<float>(f.value[FIELD_PW1]);
    if (!f.has(FIELD_POR))
      return NAN;
    const float por = static_cast<float>(f.value[FIELD_POR]);
    return (por > 0.0f ? por : 0.0f) * this->heater_power_ / 100.0f;
  }

 protected:
  void handle_frame_(const Frame &frame);
  void handle_channel2_frame_(const Frame &frame);
  void handle_timeout_();
  void send_commands_(uint32_t now);
  void publish_channel1_request_();
  void publish_commands_state_(const Frame &frame);
  void publish_setting_(Setting s, float value);
  void publish_counters_(bool force);
  void count_energy_(const Frame &frame, float routed_watts, uint32_t now);
  void publish_energy_(bool force);
  int32_t local_day_();
#ifdef USE_SENSOR
  void publish_(SensorKind kind, float value);
  sensor::Sensor *sensors_[SENSOR_KIND_COUNT]{};
  ChangeGate gates_[SENSOR_KIND_COUNT];
  sensor::Sensor *energy_sensors_[ENERGY_KIND_COUNT]{};
  sensor::Sensor *routed_today_sensor_{nullptr};
#endif
#ifdef USE_TIME
  time::RealTimeClock *time_{nullptr};
#endif
#ifdef USE_BINARY_SENSOR
  binary_sensor::BinarySensor *link_sensor_{nullptr};
  binary_sensor::BinarySensor *sta_sensors_[STA_FLAG_COUNT]{};
#endif
#ifdef USE_TEXT_SENSOR
  text_sensor::TextSensor *status_text_sensor_{nullptr};
  text_sensor::TextSensor *mode_text_sensor_{nullptr};
#endif
#ifdef USE_SELECT
  select::Select *mode_select_{nullptr};
#endif
#ifdef USE_NUMBER
  number::Number *setting_numbers_[SETTING_COUNT]{};
#endif

  CallbackManager<void(const Frame &)> frame_callbacks_;
  CommandLink link_;
  std::string tx_line_;  ///< the command line being written, a few bytes a loop() pass
  size_t tx_done_{0};
  bool command_line_{false};
  float boost_percent_{100.0f};
  uint32_t boost_duration_ms_{60u * 60u * 1000u};
  uint32_t last_refused_{UINT32_MAX};  ///< CRJ of the last frame that had it

  /// Saved to flash (ESP8266: at ESPHome's flash_write_interval) on every change.
  struct SavedEnergy {
    EnergyState energy[ENERGY_KIND_COUNT];
    DailyState routed_today;
  };
  ESPPreferenceObject energy_pref_;
  EnergyTotal energy_[ENERGY_KIND_COUNT];
  DailyTotal routed_today_;
  float last_frame_watts_[ENERGY_KIND_COUNT]{};  ///< an older ATmega: power of the last frame
  uint32_t energy_interval_ms_{10000};
  uint32_t last_energy_publish_ms_{0};
  bool energy_dirty_{true};

  FrameParser parser_;
  LegacyValues legacy_;
  float heater_power_{NAN};
  uint32_t timeout_ms_{5000};
  uint32_t baud_rate_{9600};
  uint32_t last_frame_ms_{0};
  uint32_t last_counters_ms_{0};
  uint32_t published_ok_{UINT32_MAX};
  uint32_t published_rejected_{UINT32_MAX};
  bool link_ok_{false};
  bool unavailable_published_{false};
};

}  // namespace esphome::routeur_pv
