#pragma once
// The hot-water manager in ESPHome (issue 12): thin glue around Manager (water_manager.h, plain C++,
// where every decision is made). Each update it reads the local time, the tank's temperature and the
// routeur_pv hub's last frame, lets the Manager decide, drives channel 1 (the ATmega's boost and stop
// leases over the command line, or a bypass relay across the SSR), counts the energy into the water
// by source and publishes the plan.
#include <string>
#include <vector>

#include "esphome/core/component.h"
#include "esphome/core/defines.h"
#include "esphome/core/preferences.h"
#include "esphome/components/sensor/sensor.h"
#include "esphome/components/time/real_time_clock.h"
#ifdef USE_BINARY_SENSOR
#include "esphome/components/binary_sensor/binary_sensor.h"
#endif
#ifdef USE_TEXT_SENSOR
#include "esphome/components/text_sensor/text_sensor.h"
#endif
#ifdef USE_SWITCH
#include "esphome/components/switch/switch.h"
#endif
#ifdef USE_DATETIME_TIME
#include "esphome/components/datetime/time_entity.h"
#endif
#include "esphome/components/routeur_pv/energy_total.h"
#include "esphome/components/routeur_pv/routeur_pv.h"

#include "water_manager.h"

namespace esphome::hot_water {

enum SensorKind : uint8_t {
  SENSOR_ENERGY_NEEDED = 0,
  SENSOR_SOLAR_EXPECTED,
  SENSOR_FORCING_STARTS,
  SENSOR_LAST_LEGIONELLA,
  SENSOR_SOLAR_ENERGY_TODAY,
  SENSOR_GRID_ENERGY_TODAY,
  SENSOR_BOOST_REMAINING,
  SENSOR_KIND_COUNT,
};

enum BinaryKind : uint8_t {
  BINARY_FORCING = 0,
  BINARY_TEMPERATURE_PROBLEM,
  BINARY_LEGIONELLA_OVERDUE,
  BINARY_KIND_COUNT,
};

/// When a value is worth publishing: it moved by `step` since the last one published and `min_ms`
/// have passed since (0 goes out at once: a reset at midnight, a need met), or it became unknown or
/// known. Home Assistant's recorder keeps a row for every change.
struct PublishGate {
  double step;
  uint32_t min_ms;
  double last{NAN};
  uint32_t last_ms{0};
  bool done{false};
  bool due(double value, uint32_t now_ms) const;
  void published(double value, uint32_t now_ms) {
    this->last = value;
    this->last_ms = now_ms;
    this->done = true;
  }
};

class HotWaterComponent : public PollingComponent {
 public:
  void setup() override;
  void update() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::DATA; }

  // ---- configuration (hot_water: in YAML); the numbers and the switch use the same setters
  void set_hub(routeur_pv::RouteurPvComponent *hub) { this->hub_ = hub; }
  /// The hub has its command line (uart TX): forcing and stopping through the ATmega's leases.
  void set_use_link(bool use_link) { this->use_link_ = use_link; }
  void set_time(time::RealTimeClock *clock) { this->clock_ = clock; }
  void set_temperature_sensor(sensor::Sensor *s) { this->temperature_ = s; }
  void set_temperature_timeout(uint32_t ms) { this->temperature_timeout_ms_ = ms; }
  void set_heater_power(float watts) { this->manager_.mutable_config().heater_w = watts; }
  void set_tank(float volume_l, float loss_w_per_k, float ambient_c) {
    this->manager_.mutable_config().tank = TankParams{volume_l, loss_w_per_k, ambient_c};
  }
  void set_max_temperature(float c) { this->manager_.mutable_config().max_c = c; }
  void set_hysteresis(float k) { this->manager_.mutable_config().hysteresis_c = k; }
  void set_deadline_enabled(bool enabled) { this->manager_.mutable_config().deadline_enabled = enabled; }
  void set_deadline_minute(uint16_t minute) { this->manager_.mutable_config().deadline_min = minute; }
  void set_deadline_temperature(float c) { this->manager_.mutable_config().deadline_c = c; }
  void set_deadline_energy(float kwh) { this->manager_.mutable_config().deadline_kwh = kwh; }
  void add_off_peak_window(uint16_t start_min, uint16_t end_min);
  void set_legionella(float c, uint32_t hold_s, uint8_t every_days);
  /// Boost defaults: the Boost button and a hot_water.boost without options.
  void set_boost_duration(uint32_t seconds) { this->boost_duration_s_ = seconds; }
  /// NaN or <= 0: no target.
  void set_boost_target(float c) { this->boost_target_c_ = c > 0.0f ? c : NAN; }
#ifdef USE_DATETIME_TIME
  /// A `datetime` (type: time) the user changes: the deadline follows it.
  void set_deadline_time_entity(datetime::TimeEntity *t) { this->deadline_time_ = t; }
#endif
#ifdef USE_BINARY_SENSOR
  /// On = off-peak now.
  void set_off_peak_binary_sensor(binary_sensor::BinarySensor *s);
#endif
#ifdef USE_TEXT_SENSOR
  /// Off-peak while its text contains one of add_off_peak_text()'s.
  void set_off_peak_text_sensor(text_sensor::TextSensor *s);
  void add_off_peak_text(const std::string &text) { this->off_peak_texts_.push_back(text); }
#endif
#ifdef USE_SWITCH
  void set_bypass_relay(switch_::Switch *relay) { this->relay_ = relay; }
#endif

  // ---- entities
  void set_energy_needed_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_ENERGY_NEEDED] = s; }
  void set_solar_expected_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_SOLAR_EXPECTED] = s; }
  void set_forcing_starts_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_FORCING_STARTS] = s; }
  void set_last_legionella_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_LAST_LEGIONELLA] = s; }
  void set_solar_energy_today_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_SOLAR_ENERGY_TODAY] = s; }
  void set_grid_energy_today_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_GRID_ENERGY_TODAY] = s; }
  void set_boost_remaining_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_BOOST_REMAINING] = s; }
#ifdef USE_BINARY_SENSOR
  void set_forcing_binary_sensor(binary_sensor::BinarySensor *s) { this->binary_sensors_[BINARY_FORCING] = s; }
  void set_temperature_problem_binary_sensor(binary_sensor::BinarySensor *s) {
    this->binary_sensors_[BINARY_TEMPERATURE_PROBLEM] = s;
  }
  void set_legionella_overdue_binary_sensor(binary_sensor::BinarySensor *s) {
    this->binary_sensors_[BINARY_LEGIONELLA_OVERDUE] = s;
  }
#endif
#ifdef USE_TEXT_SENSOR
  void set_state_text_sensor(text_sensor::TextSensor *s) { this->state_text_sensor_ = s; }
#endif

  // ---- run time: buttons, actions, numbers
  /// Forces for `seconds` (0: until target_c, 12 h at most) or until the tank reaches target_c
  /// (NaN or <= 0: no target), whichever comes first; decided at once.
  void start_boost(uint32_t seconds, float target_c);
  void cancel_boost();
  uint32_t boost_duration_s() const { return this->boost_duration_s_; }
  float boost_target_c() const { return this->boost_target_c_; }
  const Manager &manager() const { return this->manager_; }

 protected:
  /// Local seconds (the clock's UTC timestamp + its zone's offset) when the clock is valid.
  void read_clock_(Inputs &in);
  float tank_temperature_(uint32_t now_ms) const;
  /// surplus_w and water_w from the hub's last frame, and water_w's split into solar and grid.
  void read_power_(Inputs &in);
  int8_t off_peak_signal_() const;
  void apply_(const Decision &d);
  void count_energy_(const Inputs &in, uint32_t now_ms);
  void save_state_();
  void publish_(const Decision &d, const Inputs &in, uint32_t now_ms);
  void publish_sensor_(SensorKind kind, double value, uint32_t now_ms);
  void publish_binary_(BinaryKind kind, bool value);

  Manager manager_{Config{}};
  routeur_pv::RouteurPvComponent *hub_{nullptr};
  time::RealTimeClock *clock_{nullptr};
  sensor::Sensor *temperature_{nullptr};
  uint32_t temperature_timeout_ms_{180000};
  uint32_t temperature_ms_{0};  ///< when the tank's sensor last published
  bool use_link_{false};
  uint32_t boost_duration_s_{3600};
  float boost_target_c_{NAN};
#ifdef USE_DATETIME_TIME
  datetime::TimeEntity *deadline_time_{nullptr};
#endif
#ifdef USE_BINARY_SENSOR
  binary_sensor::BinarySensor *off_peak_binary_{nullptr};
  binary_sensor::BinarySensor *binary_sensors_[BINARY_KIND_COUNT]{};
#endif
#ifdef USE_TEXT_SENSOR
  text_sensor::TextSensor *off_peak_text_{nullptr};
  std::vector<std::string> off_peak_texts_;
  text_sensor::TextSensor *state_text_sensor_{nullptr};
#endif
#ifdef USE_SWITCH
  switch_::Switch *relay_{nullptr};
#endif
  sensor::Sensor *sensors_[SENSOR_KIND_COUNT]{};
  PublishGate gates_[SENSOR_KIND_COUNT]{
      {0.01, 60000},   // energy needed, kWh
      {0.01, 60000},   // solar expected, kWh
      {120.0, 0},      // forcing starts: moves of more than a minute (a float timestamp is ~2 min anyway)
      {600.0, 0},      // last legionella: moves with the clock while the tank is held hot
      {0.01, 60000},   // solar energy today, kWh
      {0.01, 60000},   // grid energy today, kWh
      {1.0, 0},        // boost remaining, min
  };

  // The last decision applied (sent on changes, a stop re-asserted every update).
  bool applied_{false};
  Action last_action_{Action::SOLAR};
  const char *last_reason_{nullptr};

  // This update's split of the power into the water (W), and when the last one was counted.
  float solar_w_{0.0f};
  float grid_w_{0.0f};
  uint32_t last_count_ms_{0};
  bool counted_{false};
  int32_t tz_offset_s_{0};  ///< local - UTC, to publish timestamps

  /// Saved to flash (ESP8266: at ESPHome's flash_write_interval): the energy today by source, and
  /// the last anti-legionella cycle so that a restart never postpones the next one.
  struct SavedState {
    routeur_pv::DailyState solar;
    routeur_pv::DailyState grid;
    int64_t last_legionella_s;
  };
  ESPPreferenceObject pref_;
  SavedState saved_{};
  routeur_pv::DailyTotal solar_today_;
  routeur_pv::DailyTotal grid_today_;
};

}  // namespace esphome::hot_water
