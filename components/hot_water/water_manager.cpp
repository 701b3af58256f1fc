#include "water_manager.h"

#include <cmath>

namespace esphome::hot_water {

static constexpr float kJoulesPerLitreKelvin = 4186.0f;
static constexpr float kJoulesPerKwh = 3.6e6f;
static constexpr int64_t kDay = 86400;
/// Longest gap between two updates counted as elapsed time (a stalled loop or a clock jump beyond
/// it counts as this much).
static constexpr int64_t kMaxStepS = 120;
/// Today's sun is compared with yesterday's once yesterday had this much by the same hour.
static constexpr float kMinComparedKwh = 0.2f;
static constexpr float kMaxTodayRatio = 1.2f;

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

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static uint16_t minute_of_day(int64_t t_s) { return uint16_t((t_s - floor_div(t_s, kDay) * kDay) / 60); }

bool Manager::off_peak_at_(int64_t t_s) const {
  const Config &c = this->config_;
  if (c.off_peak_source == OffPeakSource::NONE) return true;
  const uint16_t minute = minute_of_day(t_s);
  if (c.off_peak_source == OffPeakSource::SIGNAL && c.off_peak.empty())
    return (this->signal_minutes_[minute / 8] >> (minute % 8)) & 1u;
  for (const auto &w : c.off_peak)
    if (w.contains(minute)) return true;
  return false;
}

bool Manager::off_peak_now_(const Inputs &in) const {
  if (this->config_.off_peak_source == OffPeakSource::SIGNAL) return in.off_peak == 1;
  return this->off_peak_at_(in.now_s);
}

int64_t Manager::next_deadline_s_(int64_t now_s) const {
  int64_t deadline = floor_div(now_s, kDay) * kDay + int64_t(this->config_.deadline_min) * 60;
  if (deadline <= now_s) deadline += kDay;
  return deadline;
}

bool Manager::legionella_overdue(int64_t now_s) const {
  if (this->config_.legionella_every_days == 0 || this->first_clock_s_ < 0) return false;
  const int64_t since = this->last_legionella_s_ >= 0 ? this->last_legionella_s_ : this->first_clock_s_;
  return now_s - since >= int64_t(this->config_.legionella_every_days) * kDay;
}

void Manager::boost(uint32_t seconds, float target_c) {
  this->boost_left_s_ = int64_t(seconds);
  this->boost_target_c_ = target_c;
  this->boost_new_ = true;  // counted from the next update
}

void Manager::track_legionella_(const Inputs &in, float elapsed_s) {
  if (!(in.tank_c >= this->config_.legionella_c)) {
    this->hot_for_s_ = -1.0f;
    return;
  }
  const float hold = float(this->config_.legionella_hold_s);
  const bool was_held = this->hot_for_s_ >= hold;
  this->hot_for_s_ = this->hot_for_s_ < 0.0f ? 0.0f : this->hot_for_s_ + elapsed_s;
  if (this->hot_for_s_ >= hold) {
    // a new cycle: the first completed hold of a local day (two hot spells in a day are one day's)
    if (!was_held && floor_div(in.now_s, kDay) != floor_div(this->last_legionella_s_, kDay)) ++this->legionella_cycles_;
    this->last_legionella_s_ = in.now_s;  // held: the tank is sanitised as long as it stays hot
  }
}

void Manager::track_day_(const Inputs &in, float elapsed_s) {
  const int64_t day = floor_div(in.now_s, kDay);
  if (day != this->day_) {
    for (int h = 0; h < 24; ++h) {
      this->solar_yesterday_kwh_[h] = day == this->day_ + 1 ? this->solar_today_kwh_[h] : 0.0f;
      this->solar_today_kwh_[h] = 0.0f;
    }
    this->energy_today_kwh_ = 0.0f;
    this->day_ = day;
  }
  const uint16_t minute = minute_of_day(in.now_s);
  if (in.surplus_w > 0.0f) this->solar_today_kwh_[minute / 60] += in.surplus_w * elapsed_s / kJoulesPerKwh;
  if (in.water_w > 0.0f) this->energy_today_kwh_ += in.water_w * elapsed_s / kJoulesPerKwh;
  // The tariff signal, a bit per minute of the day, over the minutes since the last update.
  const int64_t abs_min = floor_div(in.now_s, 60);
  int64_t from = this->signal_last_min_ < 0 || abs_min - this->signal_last_min_ > 1440 ? abs_min - 1439
                                                                                     : this->signal_last_min_ + 1;
  for (int64_t m = from; m <= abs_min; ++m) {
    const uint16_t mod = uint16_t(m - floor_div(m, 1440) * 1440);
    if (in.off_peak == 1) this->signal_minutes_[mod / 8] |= uint8_t(1u << (mod % 8));
    else this->signal_minutes_[mod / 8] &= uint8_t(~(1u << (mod % 8)));
  }
  if (abs_min > this->signal_last_min_) this->signal_last_min_ = int32_t(abs_min);
}

float Manager::solar_yesterday_between_(int64_t from_s, int64_t to_s) const {
  float kwh = 0.0f;
  for (int64_t t = from_s; t < to_s; t += 60) kwh += this->solar_yesterday_kwh_[minute_of_day(t) / 60] / 60.0f;
  return kwh;
}

// Today so far against yesterday over the same hours: a grey morning after a sunny day scales the
// rest of the day's forecast down (and a brighter one up, a little). 1 until there is enough to compare.
float Manager::solar_today_ratio_(int64_t now_s) const {
  const uint16_t hour = minute_of_day(now_s) / 60;
  float today = 0.0f, yesterday = 0.0f;
  for (uint16_t h = 0; h < hour; ++h) {
    today += this->solar_today_kwh_[h];
    yesterday += this->solar_yesterday_kwh_[h];
  }
  if (yesterday < kMinComparedKwh) return 1.0f;
  const float ratio = today / yesterday;
  return ratio > kMaxTodayRatio ? kMaxTodayRatio : ratio;
}

// Energy the deadline still needs (as forcing at the heater's power would give it, the tank's
// losses until the deadline included), then the latest start: walking back from the deadline, each
// off-peak minute becomes a forced one (the sun's share in it is then not counted twice), until the
// forced energy plus what the sun is counted on for in the other minutes covers the need.
void Manager::plan_deadline_(const Inputs &in, Decision &d) const {
  const Config &c = this->config_;
  const int64_t deadline = this->next_deadline_s_(in.now_s);
  d.deadline_s = deadline;
  const float left_s = float(deadline - in.now_s);
  float forcing_s;
  if (c.deadline_kwh > 0.0f) {
    // Energy today: a deadline after midnight counts from midnight.
    const bool today = floor_div(deadline, kDay) == this->day_;
    const float missing = c.deadline_kwh - (today ? this->energy_today_kwh_ : 0.0f);
    forcing_s = missing > 0.0f ? missing * kJoulesPerKwh / c.heater_w : 0.0f;
  } else {
    // Forcing ends with the last off-peak minute before the deadline, at the temperature that
    // cools to the target by the deadline; forcing of duration f ending then starts from the tank
    // as it cools until then: a few rounds of this fixed point give f.
    int64_t end = deadline;
    while (end > in.now_s && end > deadline - kDay && !this->off_peak_at_(end - 60)) end -= 60;
    if (end <= in.now_s || end <= deadline - kDay) end = deadline;  // no off-peak left before it
    const float capacity = c.tank.volume_l * kJoulesPerLitreKelvin;
    const float target_c = c.deadline_c + c.aim_above_c;
    const float at_end_c = c.tank.ambient_c + (target_c - c.tank.ambient_c) *
                                                  std::exp(float(deadline - end) * c.tank.loss_w_per_k / capacity);
    const float to_end_s = float(end - in.now_s);
    forcing_s = 0.0f;
    for (int round = 0; round < 4; ++round) {
      const float idle = to_end_s - forcing_s;
      const float at_start = tank_after(c.tank, in.tank_c, 0.0f, idle > 0.0f ? idle : 0.0f);
      forcing_s = seconds_to_heat(c.tank, at_start, at_end_c, c.heater_w);
      if (!std::isfinite(forcing_s) || forcing_s > to_end_s) break;
    }
    if (!std::isfinite(forcing_s)) forcing_s = left_s;  // cannot get there: all the time left
  }
  if (forcing_s <= 0.0f) return;
  const float need_kwh = forcing_s * c.heater_w / kJoulesPerKwh;
  d.energy_needed_kwh = need_kwh;
  // What the sun is counted on for outside the off-peak minutes (where nothing is forced): forcing
  // once started ends when that covers what is still needed.
  float solar_outside = 0.0f;
  for (int64_t t = in.now_s; t < deadline; t += 60)
    if (!this->off_peak_at_(t)) solar_outside += this->solar_yesterday_kwh_[minute_of_day(t) / 60] / 60.0f;
  const float trust = c.solar_trust * this->solar_today_ratio_(in.now_s);
  d.forcing_left_kwh = need_kwh - trust * solar_outside;
  const float forced_per_min = c.heater_w * 60.0f / kJoulesPerKwh;
  const float want_kwh = need_kwh * (1.0f + c.plan_margin);
  float solar_kwh = trust * this->solar_yesterday_between_(in.now_s, deadline);
  d.solar_expected_kwh = solar_kwh < need_kwh ? solar_kwh : need_kwh;
  if (solar_kwh >= want_kwh) return;
  float forced_kwh = 0.0f;
  // Energy-today deadlines force after midnight only; any deadline, within two days.
  const int64_t earliest = c.deadline_kwh > 0.0f ? floor_div(deadline - 1, kDay) * kDay : deadline - 2 * kDay;
  for (int64_t t = deadline - 60; t >= earliest; t -= 60) {
    if (!this->off_peak_at_(t)) continue;
    forced_kwh += forced_per_min;
    if (t >= in.now_s) solar_kwh -= trust * this->solar_yesterday_kwh_[minute_of_day(t) / 60] / 60.0f;
    if (forced_kwh + solar_kwh >= want_kwh) {
      // only the part of this minute that is needed (to the second)
      const float spare_s = (forced_kwh + solar_kwh - want_kwh) / forced_per_min * 60.0f;
      d.forcing_starts_s = t + int64_t(spare_s < 60.0f ? spare_s : 59.0f);
      return;
    }
  }
  d.forcing_starts_s = earliest;  // cannot all fit: as early as allowed
}

Decision Manager::update(const Inputs &in) {
  const Config &c = this->config_;
  Decision d;
  float elapsed = 0.0f;
  if (this->started_ && in.clock_known == this->last_clock_known_ && in.now_s > this->last_now_s_)
    elapsed = float(in.now_s - this->last_now_s_ > kMaxStepS ? kMaxStepS : in.now_s - this->last_now_s_);
  this->started_ = true;
  this->last_now_s_ = in.now_s;
  this->last_clock_known_ = in.clock_known;
  if (this->boost_left_s_ > 0 && !this->boost_new_) this->boost_left_s_ -= int64_t(elapsed);
  this->boost_new_ = false;
  if (this->boost_left_s_ < 0) this->boost_left_s_ = 0;
  if (in.clock_known) {
    if (this->first_clock_s_ < 0) this->first_clock_s_ = in.now_s;
    this->track_day_(in, elapsed);
  }

  const bool plausible = std::isfinite(in.tank_c) && in.tank_c >= c.min_plausible_c && in.tank_c <= c.max_plausible_c;
  if (!plausible) {
    this->hot_for_s_ = -1.0f;
    this->deadline_forcing_ = false;
    d.reason = "no tank temperature";
    return d;  // no forcing; the heater's thermostat still protects the tank
  }
  if (in.tank_c >= c.max_c) this->above_max_ = true;
  else if (in.tank_c <= c.max_c - c.hysteresis_c) this->above_max_ = false;
  if (in.clock_known) {
    this->track_legionella_(in, elapsed);
    // The deadline's plan, published whatever the decision (the user sees why).
    if (c.deadline_enabled) this->plan_deadline_(in, d);
  }

  if (this->above_max_) {
    d.action = Action::STOP;
    d.reason = "maximum temperature";
    return d;
  }
  if (this->boost_left_s_ > 0) {
    if (std::isnan(this->boost_target_c_) || in.tank_c < this->boost_target_c_) {
      d.action = Action::FORCE;
      d.reason = "boost";
      return d;
    }
    this->boost_left_s_ = 0;  // target reached
  }
  if (!in.clock_known) {
    d.reason = "solar routing (no clock)";
    return d;
  }
  const bool off_peak = this->off_peak_now_(in);
  // Anti-legionella: once overdue, started in an off-peak period and carried on until the tank has
  // held the temperature long enough.
  if (this->legionella_overdue(in.now_s)) {
    if (this->legionella_running_ || off_peak) {
      this->legionella_running_ = true;
      d.action = Action::FORCE;
      d.reason = "anti-legionella";
      return d;
    }
  } else {
    this->legionella_running_ = false;
  }
  // Deadline forcing, once started, goes on while the tank model still asks for energy and the
  // tariff allows it (a plan recomputed each minute would otherwise stop and restart it).
  if (d.forcing_left_kwh <= 0.0f || !off_peak || d.deadline_s != this->forcing_for_deadline_s_)
    this->deadline_forcing_ = false;
  if (d.energy_needed_kwh > 0.0f && off_peak && d.forcing_starts_s >= 0 && in.now_s >= d.forcing_starts_s) {
    this->deadline_forcing_ = true;
    this->forcing_for_deadline_s_ = d.deadline_s;
  }
  if (this->deadline_forcing_) {
    d.action = Action::FORCE;
    d.reason = "deadline";
  }
  return d;
}

}  // namespace esphome::hot_water
