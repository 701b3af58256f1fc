#include "water_manager.h"

#include <cmath>

namespace esphome::hot_water {

static constexpr float kJoulesPerLitreKelvin = 4186.0f;
static constexpr float kJoulesPerKwh = 3.6e6f;
static constexpr int64_t kDay = 86400;

float energy_to_heat_kwh(const TankParams &tank, float from_c, float to_c) {
  if (!(to_c > from_c)) return 0.0f;
  return (to_c - from_c) * tank.volume_l * kJoulesPerLitreKelvin / kJoulesPerKwh;
}

// dT/dt = (P - k (T - Ta)) / C: exponential towards Ta + P / k with time constant C / k.
float tank_after(const TankParams &tank, float temp_c, float watts, float seconds) {
  const float capacity = tank.volume_l * kJoulesPerLitreKelvin;
  if (tank.loss_w_per_k <= 0.0f) return temp_c + watts * seconds / capacity;
  const float settled = tank.ambient_c + watts / tank.loss_w_per_k;
  return settled + (temp_c - settled) * std::exp(-seconds * tank.loss_w_per_k / capacity);
}

// Seconds of `watts` (with the losses) from from_c up to to_c; infinite if it cannot get there.
static float seconds_to_heat(const TankParams &tank, float from_c, float to_c, float watts) {
  if (!(to_c > from_c)) return 0.0f;
  const float capacity = tank.volume_l * kJoulesPerLitreKelvin;
  if (tank.loss_w_per_k <= 0.0f) return (to_c - from_c) * capacity / watts;
  const float settled = tank.ambient_c + watts / tank.loss_w_per_k;
  if (settled <= to_c) return INFINITY;
  return -capacity / tank.loss_w_per_k * std::log((to_c - settled) / (from_c - settled));
}

bool DailyWindow::contains(uint16_t minute) const {
  if (this->start_min <= this->end_min) return minute >= this->start_min && minute < this->end_min;
  return minute >= this->start_min || minute < this->end_min;  // wraps past midnight
}

static uint16_t minute_of_day(int64_t t_s) { return uint16_t(((t_s % kDay) + kDay) % kDay / 60); }

bool Manager::off_peak_at_(int64_t t_s) const {
  if (this->config_.off_peak.empty()) return true;
  const uint16_t minute = minute_of_day(t_s);
  for (const auto &w : this->config_.off_peak)
    if (w.contains(minute)) return true;
  return false;
}

int64_t Manager::next_deadline_s_(int64_t now_s) const {
  const int64_t midnight = now_s - (((now_s % kDay) + kDay) % kDay);
  int64_t deadline = midnight + int64_t(this->config_.deadline_min) * 60;
  if (deadline <= now_s) deadline += kDay;
  return deadline;
}

int64_t Manager::latest_start_s_(int64_t end_s, int64_t seconds) const {
  int64_t t = end_s;
  int64_t remaining = seconds;
  while (remaining > 0 && t > end_s - 2 * kDay) {
    t -= 60;
    if (this->off_peak_at_(t)) remaining -= 60;
  }
  return t;
}

void Manager::track_legionella_(int64_t now_s, float tank_c) {
  if (this->first_update_s_ < 0) this->first_update_s_ = now_s;
  if (tank_c >= this->config_.legionella_c) {
    if (this->hot_since_s_ < 0) this->hot_since_s_ = now_s;
    if (now_s - this->hot_since_s_ >= int64_t(this->config_.legionella_hold_s)) this->last_legionella_s_ = now_s;
  } else {
    this->hot_since_s_ = -1;
  }
}

bool Manager::legionella_overdue(int64_t now_s) const {
  if (this->config_.legionella_every_days == 0 || this->first_update_s_ < 0) return false;
  const int64_t since = this->last_legionella_s_ >= 0 ? this->last_legionella_s_ : this->first_update_s_;
  return now_s - since >= int64_t(this->config_.legionella_every_days) * kDay;
}

void Manager::boost(int64_t now_s, uint32_t seconds, float target_c) {
  this->boost_until_s_ = now_s + int64_t(seconds);
  this->boost_target_c_ = target_c;
}

void Manager::track_solar_(int64_t now_s, float solar_w) {
  const int64_t day = now_s >= 0 ? now_s / kDay : (now_s - kDay + 1) / kDay;
  if (day != this->solar_day_) {
    for (int h = 0; h < 24; ++h) {
      this->solar_yesterday_kwh_[h] = day == this->solar_day_ + 1 ? this->solar_today_kwh_[h] : 0.0f;
      this->solar_today_kwh_[h] = 0.0f;
    }
    this->solar_day_ = day;
  }
  if (this->last_update_s_ >= 0 && now_s > this->last_update_s_ && solar_w > 0.0f) {
    const float seconds = float(now_s - this->last_update_s_ > 600 ? 600 : now_s - this->last_update_s_);
    this->solar_today_kwh_[minute_of_day(now_s) / 60] += solar_w * seconds / kJoulesPerKwh;
  }
  this->last_update_s_ = now_s;
}

float Manager::solar_yesterday_between_(int64_t from_s, int64_t to_s) const {
  float kwh = 0.0f;
  for (int64_t t = from_s; t < to_s; t += 60) kwh += this->solar_yesterday_kwh_[minute_of_day(t) / 60] / 60.0f;
  return kwh;
}

Decision Manager::update(int64_t now_s, float tank_c, float solar_w) {
  const Config &c = this->config_;
  Decision d;
  this->track_solar_(now_s, solar_w);
  const bool plausible = std::isfinite(tank_c) && tank_c >= c.min_plausible_c && tank_c <= c.max_plausible_c;
  if (!plausible) {
    this->hot_since_s_ = -1;
    d.reason = "no tank temperature";
    return d;  // no forcing; the heater's thermostat still protects the tank
  }
  this->track_legionella_(now_s, tank_c);
  if (tank_c >= c.max_c) this->above_max_ = true;
  else if (tank_c <= c.max_c - c.hysteresis_c) this->above_max_ = false;

  // The deadline's plan, published whatever the decision (the user sees why).
  if (c.deadline_enabled) {
    const int64_t deadline = this->next_deadline_s_(now_s);
    // Forcing of duration f ending at the deadline starts from the tank as it cools until then;
    // a few rounds of this fixed point give f.
    float forcing = 0.0f;
    for (int round = 0; round < 4; ++round) {
      const float idle = float(deadline - now_s) - forcing;
      const float at_start = tank_after(c.tank, tank_c, 0.0f, idle > 0.0f ? idle : 0.0f);
      forcing = seconds_to_heat(c.tank, at_start, c.deadline_c, c.heater_w);
      if (!std::isfinite(forcing) || forcing > float(deadline - now_s)) break;
    }
    if (!std::isfinite(forcing)) forcing = float(deadline - now_s);  // cannot get there: all the time left
    d.energy_needed_kwh = forcing * c.heater_w / kJoulesPerKwh;
    d.solar_expected_kwh = c.solar_trust * this->solar_yesterday_between_(now_s, deadline);
    if (d.solar_expected_kwh > d.energy_needed_kwh) d.solar_expected_kwh = d.energy_needed_kwh;
    forcing -= d.solar_expected_kwh * kJoulesPerKwh / c.heater_w;  // the sun's share is not forced
    if (forcing > 0.0f) {
      const int64_t planned = int64_t(forcing * (1.0f + c.plan_margin)) + 60;
      d.forcing_starts_s = this->latest_start_s_(deadline, planned);
    }
  }

  if (this->above_max_) {
    d.action = Action::STOP;
    d.reason = "maximum temperature";
    return d;
  }
  if (this->boost_until_s_ > now_s) {
    if (std::isnan(this->boost_target_c_) || tank_c < this->boost_target_c_) {
      d.action = Action::FORCE;
      d.reason = "boost";
      return d;
    }
    this->boost_until_s_ = -1;  // target reached
  }
  // Anti-legionella: once overdue, started in an off-peak window and carried on until the tank has
  // held the temperature long enough.
  if (this->legionella_overdue(now_s)) {
    if (this->legionella_running_ || this->off_peak_at_(now_s)) {
      this->legionella_running_ = true;
      d.action = Action::FORCE;
      d.reason = "anti-legionella";
      return d;
    }
  } else {
    this->legionella_running_ = false;
  }
  if (d.forcing_starts_s >= 0 && now_s >= d.forcing_starts_s && this->off_peak_at_(now_s)) {
    d.action = Action::FORCE;
    d.reason = "deadline";
    return d;
  }
  return d;
}

}  // namespace esphome::hot_water
