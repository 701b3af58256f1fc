#include "energy_total.h"

namespace esphome::routeur_pv {

double EnergyTotal::on_counter(double counter_wh) {
  // The first counter ever seen (or the first after frames without one), like a counter lower than
  // the last (the ATmega restarted), holds energy nobody counted yet: all of it is added.
  double added = counter_wh;
  if (this->state_.have_counter && counter_wh >= this->state_.last_counter_wh)
    added = counter_wh - this->state_.last_counter_wh;
  this->state_.last_counter_wh = counter_wh;
  this->state_.have_counter = true;
  this->state_.total_wh += added;
  return added;
}

double EnergyTotal::on_power(double previous_watts, double dt_s) {
  if (!(previous_watts > 0.0) || !(dt_s > 0.0))
    return 0.0;
  const double added = previous_watts * dt_s / 3600.0;
  this->state_.total_wh += added;
  return added;
}

bool DailyTotal::set_day(int32_t day) {
  if (day < 0 || day == this->state_.day)
    return false;
  const bool had_day = this->state_.day >= 0;
  this->state_.day = day;
  if (!had_day)
    return false;  // the clock became valid: what was counted so far belongs to this day
  this->state_.today_wh = 0.0;
  return true;
}

}  // namespace esphome::routeur_pv
