#pragma once
// The hot-water manager's decisions, plain C++ (no ESPHome): an injected clock (local time in
// seconds) and the tank's measured temperature in, what channel 1 must do out. Host-tested over
// whole simulated days (tests/hot_water/).
//
// Priorities, highest first:
//  1. the maximum temperature, with hysteresis: channel 1 stopped (the surplus goes to channel 2);
//  2. no trustworthy temperature: nothing forced, plain solar routing (the heater's own thermostat
//     still protects the tank);
//  3. a user boost, for a time or up to a temperature;
//  4. an overdue anti-legionella cycle, forced in the next off-peak window;
//  5. the deadline ("at least T by HH:MM"): the sun does what it can, and the shortfall the tank
//     model predicts is forced as late as possible, inside the off-peak windows when there are any.
//     What the sun will do is what it did over the same hours the day before (a persistence
//     forecast, derated by solar_trust): a dull day after a sunny one is caught up later, as late
//     as the windows allow;
//  6. otherwise plain solar routing.
#include <cstdint>
#include <vector>

namespace esphome::hot_water {

struct TankParams {
  float volume_l{200.0f};
  float loss_w_per_k{1.6f};  ///< standing losses per kelvin above ambient (~1.3 kWh a day at 55 degC)
  float ambient_c{18.0f};
};

/// kWh to take the tank's water from from_c to to_c (0 when it is there already).
float energy_to_heat_kwh(const TankParams &tank, float from_c, float to_c);
/// The tank's temperature after `seconds` with `watts` into the water, its standing losses included.
float tank_after(const TankParams &tank, float temp_c, float watts, float seconds);

/// A daily window in minutes of the local day, [start, end); end < start wraps past midnight.
struct DailyWindow {
  uint16_t start_min;
  uint16_t end_min;
  bool contains(uint16_t minute) const;
};

struct Config {
  TankParams tank;
  float heater_w{2000.0f};  ///< what forcing puts into the water
  float max_c{65.0f};
  float hysteresis_c{3.0f};
  float min_plausible_c{1.0f}, max_plausible_c{95.0f};  ///< outside: the sensor is not trusted
  bool deadline_enabled{false};
  uint16_t deadline_min{18 * 60};  ///< minute of the local day
  float deadline_c{55.0f};
  float plan_margin{0.10f};  ///< forcing starts this share of its duration earlier (model error)
  float solar_trust{0.7f};   ///< share of yesterday's solar energy counted on for today
  std::vector<DailyWindow> off_peak;  ///< empty: forcing may happen at any time
  float legionella_c{60.0f};
  uint32_t legionella_hold_s{30 * 60};
  uint8_t legionella_every_days{7};  ///< 0: no anti-legionella cycle
};

enum class Action : uint8_t { SOLAR, FORCE, STOP };

struct Decision {
  Action action{Action::SOLAR};
  const char *reason{"solar routing"};
  float energy_needed_kwh{0.0f};  ///< for the deadline, from the tank model (0: none or met)
  float solar_expected_kwh{0.0f}; ///< of it, what the sun is counted on for before the deadline
  int64_t forcing_starts_s{-1};   ///< when deadline forcing will start (-1: not planned)
};

class Manager {
 public:
  explicit Manager(Config config) : config_(std::move(config)) {}

  /// Once a minute or more often. tank_c: NaN when the sensor is lost; solar_w: what the surplus
  /// puts into the water now (channel 1's routed power while not forced).
  Decision update(int64_t now_s, float tank_c, float solar_w);

  /// User boost: forces until until_s, or until the tank reaches target_c (NaN: no target).
  void boost(int64_t now_s, uint32_t seconds, float target_c);
  void cancel_boost() { this->boost_until_s_ = -1; }

  /// When the tank last held legionella_c for legionella_hold_s (-1: never seen; counted from the
  /// first update then).
  int64_t last_legionella_s() const { return this->last_legionella_s_; }
  bool legionella_overdue(int64_t now_s) const;
  const Config &config() const { return this->config_; }

 protected:
  /// The next deadline instant at or after now_s.
  int64_t next_deadline_s_(int64_t now_s) const;
  /// The latest time forcing can start and still put `seconds` of forcing before `end_s`, inside the
  /// off-peak windows when there are any (minute resolution).
  int64_t latest_start_s_(int64_t end_s, int64_t seconds) const;
  bool off_peak_at_(int64_t t_s) const;
  void track_legionella_(int64_t now_s, float tank_c);
  void track_solar_(int64_t now_s, float solar_w);
  /// kWh the sun put in over [from_s, to_s) yesterday (hour buckets, prorated).
  float solar_yesterday_between_(int64_t from_s, int64_t to_s) const;

  Config config_;
  bool above_max_{false};
  int64_t boost_until_s_{-1};
  float boost_target_c_{0.0f};
  int64_t last_update_s_{-1};
  int64_t hot_since_s_{-1};  ///< since when the tank is at legionella_c or more (-1: it is not)
  int64_t last_legionella_s_{-1};
  int64_t first_update_s_{-1};
  bool legionella_running_{false};
  int64_t solar_day_{-1};
  float solar_today_kwh_[24]{};
  float solar_yesterday_kwh_[24]{};
};

}  // namespace esphome::hot_water
