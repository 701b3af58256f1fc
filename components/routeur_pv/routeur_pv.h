#pragma once

#include "esphome/core/component.h"
#include "esphome/core/defines.h"
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
#ifdef USE_TIME
#include "esphome/components/time/real_time_clock.h"
#endif

#include "change_gate.h"
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
static const uint8_t STA_FLAG_COUNT = 5;

/// Hub: reads the ATmega's frames from a UART and publishes them.
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
#endif

  /// Values served by the legacy JSON API (0 before the first frame and after a link loss).
  const LegacyValues &legacy_values() const { return this->legacy_; }
  const FrameParser &parser() const { return this->parser_; }
  bool link_ok() const { return this->link_ok_; }

 protected:
  void handle_frame_(const Frame &frame);
  void handle_timeout_();
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
#endif

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
