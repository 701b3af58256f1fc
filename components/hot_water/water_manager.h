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
//  4. an overdue anti-legionella cycle, forced in the next off-peak period;
//  5. the deadline ("at least T degC, or E kWh today, by HH:MM"): the sun does what it can, and the
//     shortfall the tank model predicts is forced as late as possible, inside off-peak periods
//     when there are any. What the sun will do is what it could do over the same hours the day
//     before (a persistence forecast, derated by solar_trust), scaled by how today compares with
//     yesterday so far: a grey day after a sunny one is caught up in time;
//  6. otherwise plain solar routing.
// Without a known local time (before the clock is set) only 1 to 3 apply.
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

enum class OffPeakSource : uint8_t {
  NONE,     ///< no tariff periods: forcing may happen at any time
  WINDOWS,  ///< fixed daily windows (Config::off_peak)
  SIGNAL,   ///< a live signal (the meter's tariff period, a Home Assistant binary sensor): forcing
            ///< only while it says off-peak; plans use the windows if set, else the signal's last 24 h
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
  float deadline_kwh{0.0f};  ///< > 0: the deadline asks for this much energy into the water today instead
  float plan_margin{0.10f};  ///< forcing starts this share of its duration earlier (model error)
  float aim_above_c{0.2f};   ///< deadline forcing heats this much above the target (model error)
  float solar_trust{0.7f};   ///< share of yesterday's solar energy counted on for today
  OffPeakSource off_peak_source{OffPeakSource::NONE};
  std::vector<DailyWindow> off_peak;
  float legionella_c{60.0f};
  uint32_t legionella_hold_s{30 * 60};
  uint8_t legionella_every_days{7};  ///< 0: no anti-legionella cycle
};

enum class Action : uint8_t { SOLAR, FORCE, STOP };

struct Inputs {
  int64_t now_s{0};        ///< local time in seconds (clock_known), else any monotonic seconds
  bool clock_known{true};  ///< false: no calendar yet, no deadline, tariff or anti-legionella decision
  float tank_c{0.0f};      ///< NaN when the sensor is lost
  float surplus_w{0.0f};   ///< what the sun could put into the heater now (0..heater_w), forced or not
  float water_w{0.0f};     ///< power going into the water now, from any source
  int8_t off_peak{-1};     ///< OffPeakSource::SIGNAL: 1 off-peak now, 0 not, -1 unknown (not off-peak)
};

struct Decision {
  Action action{Action::SOLAR};
  const char *reason{"solar routing"};
  float energy_needed_kwh{0.0f};  ///< for the deadline, from the tank model (0: none or met)
  float solar_expected_kwh{0.0f}; ///< of it, what the sun is counted on for before the deadline
  int64_t forcing_starts_s{-1};   ///< when deadline forcing will start (-1: not planned)
  int64_t deadline_s{-1};         ///< the deadline planned for (-1: none)
  float forcing_left_kwh{0.0f};   ///< of the energy needed, what the sun is not counted on for
};

class Manager {
 public:
  explicit Manager(Config config) : config_(std::move(config)) {}

  /// Once a minute or more often.
  Decision update(const Inputs &in);

  /// User boost: forces for `seconds`, or until the tank reaches target_c (NaN: no target), whichever
  /// comes first. Counted in elapsed update time, so a clock set or corrected meanwhile does not
  /// shorten or stretch it.
  void boost(uint32_t seconds, float target_c);
  void cancel_boost() { this->boost_left_s_ = 0; }
  bool boosting() const { return this->boost_left_s_ > 0; }
  uint32_t boost_left_s() const { return uint32_t(this->boost_left_s_); }

  /// When the tank last held legionella_c for legionella_hold_s (-1: never seen; due counted from
  /// the first update with a clock then). Restored after a restart so that restarts never postpone
  /// a cycle.
  int64_t last_legionella_s() const { return this->last_legionella_s_; }
  void restore_last_legionella(int64_t t_s) { this->last_legionella_s_ = t_s; }
  /// Local days on which the tank completed a cycle (a hold), since the start.
  uint32_t legionella_cycles() const { return this->legionella_cycles_; }
  bool legionella_overdue(int64_t now_s) const;
  /// After a restart: what went into the water on local day `day` (days since the epoch) before it,
  /// so an energy deadline does not ask for it again.
  void restore_energy_today(int64_t day, float kwh) {
    this->day_ = day;
    this->energy_today_kwh_ = kwh;
  }
  /// Energy into the water since local midnight (kWh), from the updates' water_w.
  float energy_today_kwh() const { return this->energy_today_kwh_; }
  const Config &config() const { return this->config_; }
  Config &mutable_config() { return this->config_; }

 protected:
  /// The next deadline instant at or after now_s.
  int64_t next_deadline_s_(int64_t now_s) const;
  /// The latest time forcing can start and still put `seconds` of forcing before `end_s`, inside the
  /// off-peak periods when there are any (minute resolution).
  int64_t latest_start_s_(int64_t end_s, int64_t seconds) const;
  /// Whether forcing may happen at t_s as far as the tariff goes: now from the signal, later from
  /// the windows or the signal's last 24 h.
  bool off_peak_at_(int64_t t_s) const;
  bool off_peak_now_(const Inputs &in) const;
  void track_legionella_(const Inputs &in, float elapsed_s);
  void track_day_(const Inputs &in, float elapsed_s);
  void plan_deadline_(const Inputs &in, Decision &d) const;
  /// kWh the sun could put in over [from_s, to_s) yesterday (hour buckets, prorated).
  float solar_yesterday_between_(int64_t from_s, int64_t to_s) const;
  float solar_today_ratio_(int64_t now_s) const;

  Config config_;
  bool above_max_{false};
  int64_t boost_left_s_{0};
  bool boost_new_{false};
  float boost_target_c_{0.0f};
  int64_t last_now_s_{0};
  bool last_clock_known_{false};
  bool started_{false};
  float hot_for_s_{-1.0f};  ///< how long the tank has been at legionella_c or more (-1: it is not)
  int64_t last_legionella_s_{-1};
  int64_t first_clock_s_{-1};
  uint32_t legionella_cycles_{0};
  bool legionella_running_{false};
  bool deadline_forcing_{false};
  int64_t forcing_for_deadline_s_{-1};
  int64_t day_{INT64_MIN};
  float energy_today_kwh_{0.0f};
  float solar_today_kwh_[24]{};
  float solar_yesterday_kwh_[24]{};
  uint8_t signal_minutes_[1440 / 8]{};  ///< the tariff signal over the last 24 h, a bit a minute of the day
  int32_t signal_last_min_{-1};         ///< the last minute recorded (minutes since the epoch)
};

}  // namespace esphome::hot_water
