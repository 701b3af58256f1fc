#include "house.h"

#include <cmath>

namespace house {

using esphome::hot_water::DailyWindow;
using esphome::hot_water::Inputs;
using esphome::hot_water::OffPeakSource;

static constexpr double kJoulesPerKwh = 3.6e6;

bool off_peak_at(const Config &c, int64_t t) {
  if (c.off_peak_source == OffPeakSource::NONE) return true;
  const uint16_t minute = uint16_t((t % kDay) / 60);
  for (const DailyWindow &w : c.off_peak)
    if (w.contains(minute)) return true;
  return false;
}

float sunny(int64_t t, float peak_w, float rise_h, float set_h) {
  const float h = float(t % kDay) / 3600.0f;
  if (h < rise_h || h > set_h) return 0.0f;
  return peak_w * std::sin(float(M_PI) * (h - rise_h) / (set_h - rise_h));
}

float House::step(int64_t t, Action action, bool off_peak) {
  const uint16_t minute = uint16_t((t % kDay) / 60);
  for (const Shower &s : this->showers)
    if (s.minute == minute) this->tank_c = (this->tank_c * (this->volume_l - s.litres) + this->cold_c * s.litres) / this->volume_l;
  if (this->tank_c >= this->thermostat_c) this->thermostat_open = true;
  else if (this->tank_c <= this->thermostat_c - this->thermostat_hysteresis_c) this->thermostat_open = false;
  const float sun = std::fmin(std::fmax(this->surplus_w(t), 0.0f), this->heater_w);
  float watts = 0.0f, grid = 0.0f;
  if (!this->thermostat_open) {
    if (action == Action::SOLAR) watts = sun;
    if (action == Action::FORCE) {
      watts = this->heater_w;
      grid = this->heater_w - sun;
    }
  }
  this->grid_kwh += grid * 60.0 / kJoulesPerKwh;
  this->solar_kwh += (watts - grid) * 60.0 / kJoulesPerKwh;
  if (!off_peak) this->grid_outside_off_peak_kwh += grid * 60.0 / kJoulesPerKwh;
  // the tank's own physics: exponential towards ambient + P / k
  const float capacity = this->volume_l * 4186.0f;
  const float settled = this->ambient_c + watts / this->loss_w_per_k;
  this->tank_c = settled + (this->tank_c - settled) * std::exp(-60.0f * this->loss_w_per_k / capacity);
  this->max_c = std::fmax(this->max_c, this->tank_c);
  this->last_water_w = watts;
  return grid;
}

static bool at_deadline(const Config &c, int64_t t) {
  return c.deadline_enabled && (t % kDay) / 60 == c.deadline_min && t % 60 == 0;
}

static bool deadline_met(const Config &c, const House &h, double energy_today_kwh) {
  if (c.deadline_kwh > 0.0f) return energy_today_kwh >= c.deadline_kwh - 0.01;
  return h.tank_c >= c.deadline_c - 0.05f;
}

void run(House &h, Manager &m, int64_t start, int64_t end) {
  const Config &c = m.config();
  double today_kwh = 0.0;
  for (int64_t t = start; t < end; t += 60) {
    if (t % kDay == 0) today_kwh = 0.0;
    if (at_deadline(c, t)) {
      ++h.deadlines_total;
      if (deadline_met(c, h, today_kwh)) ++h.deadlines_met;
    }
    Inputs in;
    in.now_s = t;
    in.tank_c = h.sensor_ok(t) ? h.tank_c : NAN;
    in.surplus_w = std::fmin(std::fmax(h.surplus_w(t), 0.0f), h.heater_w);
    in.water_w = h.last_water_w;
    const bool off_peak = off_peak_at(c, t);
    in.off_peak = off_peak ? 1 : 0;
    const Action action = m.update(in).action;
    h.step(t, action, off_peak);
    today_kwh += h.last_water_w * 60.0 / kJoulesPerKwh;
  }
}

// Runs solar routing from `start` to `deadline` forcing the latest `forced_minutes` off-peak minutes
// before it (after `start`), the maximum temperature held as the manager holds it.
static void oracle_leg(House &h, const Config &c, int64_t start, int64_t deadline, int forced_minutes) {
  std::vector<bool> forced(size_t((deadline - start) / 60), false);
  int left = forced_minutes;
  for (int64_t i = int64_t(forced.size()) - 1; i >= 0 && left > 0; --i)
    if (off_peak_at(c, start + i * 60)) {
      forced[size_t(i)] = true;
      --left;
    }
  bool above_max = false;
  for (size_t i = 0; i < forced.size(); ++i) {
    const int64_t t = start + int64_t(i) * 60;
    if (h.tank_c >= c.max_c) above_max = true;
    else if (h.tank_c <= c.max_c - c.hysteresis_c) above_max = false;
    h.step(t, above_max ? Action::STOP : forced[i] ? Action::FORCE : Action::SOLAR, off_peak_at(c, t));
  }
}

double grid_kwh_minimum(const House &start_state, const Config &c, int64_t start, int64_t end) {
  House h = start_state;
  h.grid_kwh = 0.0;
  int64_t leg_start = start;
  while (c.deadline_enabled) {
    int64_t deadline = (leg_start / kDay) * kDay + int64_t(c.deadline_min) * 60;
    if (deadline <= leg_start) deadline += kDay;
    if (deadline > end) break;
    auto met = [&](int minutes, House &out) {
      out = h;
      oracle_leg(out, c, leg_start, deadline, minutes);
      return out.tank_c >= c.deadline_c - 0.05f;
    };
    House trial;
    int lo = 0, hi = int((deadline - leg_start) / 60);
    if (!met(hi, trial)) lo = hi;  // cannot be met: force all the time allowed
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (met(mid, trial)) hi = mid;
      else lo = mid + 1;
    }
    met(lo, trial);
    h = trial;
    leg_start = deadline;
  }
  oracle_leg(h, c, leg_start, end, 0);
  return h.grid_kwh;
}

Outcome run_days(House h, const Config &config, int warm_up_days, int days) {
  Manager m(config);
  run(h, m, 0, warm_up_days * kDay);
  h.grid_kwh = h.solar_kwh = h.grid_outside_off_peak_kwh = 0;
  h.deadlines_met = h.deadlines_total = 0;
  h.max_c = h.tank_c;
  const uint32_t cycles_before = m.legionella_cycles();
  Outcome o;
  o.grid_kwh_minimum = grid_kwh_minimum(h, config, warm_up_days * kDay, (warm_up_days + days) * kDay);
  run(h, m, warm_up_days * kDay, (warm_up_days + days) * kDay);
  o.grid_kwh = h.grid_kwh;
  o.solar_kwh = h.solar_kwh;
  o.grid_outside_off_peak_kwh = h.grid_outside_off_peak_kwh;
  o.deadlines_met = h.deadlines_met;
  o.deadlines_total = h.deadlines_total;
  o.max_overshoot_c = std::fmax(0.0, double(h.max_c) - double(config.max_c));
  o.solar_share_pct = h.solar_kwh + h.grid_kwh > 0 ? 100.0 * h.solar_kwh / (h.solar_kwh + h.grid_kwh) : 0.0;
  o.legionella_cycles = m.legionella_cycles() - cycles_before;
  return o;
}

Config standard_config() {
  Config c;
  c.deadline_enabled = true;
  c.deadline_min = 18 * 60;
  c.deadline_c = 55.0f;
  c.off_peak_source = OffPeakSource::WINDOWS;
  c.off_peak = {{22 * 60, 6 * 60}, {13 * 60, 15 * 60}};  // French HP/HC, two periods
  c.legionella_every_days = 7;
  return c;
}

House summer_house() {
  House h;
  h.surplus_w = [](int64_t t) { return sunny(t, 3000.0f, 6.0f, 21.0f); };
  return h;
}

House winter_house() {
  House h;
  h.tank_c = 40.0f;
  h.surplus_w = [](int64_t t) { return sunny(t, 600.0f, 9.5f, 15.5f); };
  return h;
}

House mixed_week_house() {
  House h;
  h.surplus_w = [](int64_t t) {
    static const float kPeakW[7] = {2800.0f, 700.0f, 1500.0f, 300.0f, 2200.0f, 900.0f, 400.0f};
    return sunny(t, kPeakW[(t / kDay) % 7], 8.0f, 18.0f);
  };
  return h;
}

}  // namespace house
