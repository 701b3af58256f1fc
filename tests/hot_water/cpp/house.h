#pragma once
// A house for the hot-water manager over whole simulated days, a minute a step: the tank's physics
// (its own parameters, not the manager's estimate of them), showers, the heater's own thermostat,
// the sun's surplus; and the least grid energy that meets the same deadlines (a planner that knows
// the future). Shared by the tests (test_water_manager.cpp) and the benchmark (bench_hot_water.cpp).
#include <cstdint>
#include <functional>
#include <vector>

#include "water_manager.h"

namespace house {

using esphome::hot_water::Action;
using esphome::hot_water::Config;
using esphome::hot_water::Manager;

constexpr int64_t kDay = 86400;

struct Shower {
  uint16_t minute;  ///< of the day
  float litres;
};

struct House {
  // The tank as it is (the manager is configured with round figures; the truth differs a little).
  float volume_l{200.0f};
  float loss_w_per_k{1.8f};
  float ambient_c{16.0f};
  float cold_c{12.0f};
  float heater_w{2000.0f};
  float thermostat_c{70.0f};  ///< the heater's own thermostat: opens here
  float thermostat_hysteresis_c{5.0f};
  std::vector<Shower> showers{{7 * 60, 40.0f}, {20 * 60, 40.0f}};
  std::function<float(int64_t)> surplus_w = [](int64_t) { return 0.0f; };  ///< the sun's, for the heater
  std::function<bool(int64_t)> sensor_ok = [](int64_t) { return true; };
  // state
  float tank_c{45.0f};
  bool thermostat_open{false};
  float last_water_w{0.0f};
  // results
  double grid_kwh{0}, solar_kwh{0}, grid_outside_off_peak_kwh{0};
  float max_c{-100.0f};
  int deadlines_met{0}, deadlines_total{0};

  /// One minute from t with channel 1 doing `action`; returns the grid power it drew for the water.
  float step(int64_t t, Action action, bool off_peak);
};

/// Runs the manager on the house over [start, end), a minute a step; deadlines counted from the
/// manager's configuration.
void run(House &h, Manager &m, int64_t start, int64_t end);

/// The least grid energy (kWh) over [start, end) that meets every deadline of `config` there: solar
/// routing, plus for each deadline the shortest forcing, put in the latest off-peak minutes before
/// it (least losses, the sun's share used first), found by bisection with the house's own physics
/// and the future known. Temperature deadlines. The house is taken as it is at `start` (copied).
double grid_kwh_minimum(const House &h, const Config &config, int64_t start, int64_t end);

/// What a stretch of days came to, for the tests and the benchmark (bench/results.json hot_water.*).
struct Outcome {
  double grid_kwh{0};          ///< grid energy forced into the water
  double grid_kwh_minimum{0};  ///< the least that met the same deadlines (grid_kwh_minimum())
  double solar_kwh{0};
  double grid_outside_off_peak_kwh{0};
  int deadlines_met{0}, deadlines_total{0};
  double max_overshoot_c{0};  ///< above the maximum temperature (0 if never above it)
  double solar_share_pct{0};  ///< of the energy into the water
  uint32_t legionella_cycles{0};  ///< days with a completed anti-legionella hold, by the sun or forced
};

/// `warm_up_days` of running first (the manager learns yesterday's sun), then `days` measured.
Outcome run_days(House h, const Config &config, int warm_up_days, int days);

/// The standard cases: 200 L, 2 kW, showers at 07:00 and 20:00, 55 degC by 18:00, off-peak
/// 22:00-06:00 and 13:00-15:00, anti-legionella every 7 days.
Config standard_config();
House summer_house();  ///< ~3 kW of midday surplus, 06:00-21:00
House winter_house();  ///< ~0.6 kW of midday surplus, 09:30-15:30 (~2.3 kWh a day)
House mixed_week_house();  ///< a week of sunny, dull and grey days, a new weather each day

/// A clear-sky surplus: a sine from rise_h to set_h peaking at peak_w.
float sunny(int64_t t, float peak_w, float rise_h, float set_h);

bool off_peak_at(const Config &c, int64_t t);

}  // namespace house
