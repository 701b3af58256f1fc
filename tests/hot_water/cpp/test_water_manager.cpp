// The hot-water manager (components/hot_water/water_manager.*) over whole simulated days, on the
// house of house.h: tank physics, showers, the heater's own thermostat, the sun, a minute a step.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "house.h"
#include "water_manager.h"

using namespace esphome::hot_water;
using house::House;
using house::kDay;
using house::sunny;

namespace {

Config deadline_config() {
  Config c = house::standard_config();
  c.legionella_every_days = 0;
  return c;
}

Inputs at(int64_t t, float tank_c, float surplus_w = 0.0f) {
  Inputs in;
  in.now_s = t;
  in.tank_c = tank_c;
  in.surplus_w = surplus_w;
  return in;
}

}  // namespace

TEST(TankModel, EnergyAndTemperatureAgree) {
  TankParams tank;
  EXPECT_NEAR(energy_to_heat_kwh(tank, 15.0f, 55.0f), 9.30, 0.01);  // 200 L x 40 K
  EXPECT_EQ(energy_to_heat_kwh(tank, 60.0f, 55.0f), 0.0f);
  // 2 kW for an hour, no losses: 2 kWh = 8.6 K; with them a little less.
  TankParams lossless = tank;
  lossless.loss_w_per_k = 0.0f;
  EXPECT_NEAR(tank_after(lossless, 40.0f, 2000.0f, 3600.0f) - 40.0f, 8.60, 0.01);
  EXPECT_LT(tank_after(tank, 40.0f, 2000.0f, 3600.0f), tank_after(lossless, 40.0f, 2000.0f, 3600.0f));
  // A day of standing losses at 55 degC: ~1.4 kWh, ~6 K.
  EXPECT_NEAR(55.0f - tank_after(tank, 55.0f, 0.0f, 86400.0f), 5.8, 0.3);
}

TEST(HotWater, SummerDayNeedsNoGridEnergy) {
  // After a day of running (the manager knows yesterday's sun), as bench hot_water.summer.
  const house::Outcome o = house::run_days(house::summer_house(), house::standard_config(), 1, 1);
  printf("    summer day: grid %.2f kWh, solar %.2f kWh\n", o.grid_kwh, o.solar_kwh);
  EXPECT_EQ(o.deadlines_total, 1);
  EXPECT_EQ(o.deadlines_met, 1);
  EXPECT_NEAR(o.grid_kwh, 0.0, 1e-9);
  EXPECT_GT(o.solar_kwh, 5.0);
}

TEST(HotWater, WinterDeadlinesMetWithinFivePercentOfTheLeastGridEnergyAllOffPeak) {
  const house::Outcome o = house::run_days(house::winter_house(), house::standard_config(), 1, 5);
  printf("    winter, 5 days: grid %.2f kWh (least that meets the deadlines: %.2f), solar %.2f kWh\n", o.grid_kwh,
         o.grid_kwh_minimum, o.solar_kwh);
  EXPECT_EQ(o.deadlines_total, 5);
  EXPECT_EQ(o.deadlines_met, 5);
  EXPECT_GT(o.grid_kwh_minimum, 5.0);  // winter: the sun alone does not do it
  EXPECT_LE(o.grid_kwh, 1.05 * o.grid_kwh_minimum);
  EXPECT_NEAR(o.grid_outside_off_peak_kwh, 0.0, 1e-9);
  EXPECT_GT(o.solar_kwh, 10.0);  // the sun still did what it could
}

TEST(HotWater, MixedWeekMeetsEveryDeadline) {
  // Sunny, dull and grey days in turn: yesterday's sun is a poor guide, today's morning corrects it.
  const house::Outcome o = house::run_days(house::mixed_week_house(), house::standard_config(), 1, 7);
  printf("    mixed week: grid %.2f kWh (least: %.2f), solar share %.1f %%, %u anti-legionella days\n", o.grid_kwh,
         o.grid_kwh_minimum, o.solar_share_pct, o.legionella_cycles);
  EXPECT_EQ(o.deadlines_total, 7);
  EXPECT_EQ(o.deadlines_met, 7);
  EXPECT_NEAR(o.grid_outside_off_peak_kwh, 0.0, 1e-9);
  EXPECT_LE(o.max_overshoot_c, 0.15);
  EXPECT_GE(o.legionella_cycles, 1u);
}

TEST(HotWater, MaximumTemperatureHoldsWithItsHysteresis) {
  House h;
  h.tank_c = 50.0f;
  h.thermostat_c = 85.0f;  // a thermostat set too high: the manager's limit must hold
  h.surplus_w = [](int64_t t) { return sunny(t, 4000.0f, 5.0f, 22.0f); };
  Config c = deadline_config();
  c.max_c = 65.0f;
  Manager m(c);
  run(h, m, 0, 3 * kDay);
  EXPECT_LE(h.max_c, c.max_c + 0.15);  // the manager sees the tank once a minute: 2 kW for 60 s is 0.14 K
  EXPECT_GE(h.max_c, c.max_c - c.hysteresis_c);
}

TEST(HotWater, SensorLostMidBoostStopsTheForcing) {
  House h;
  h.tank_c = 40.0f;
  h.sensor_ok = [](int64_t t) { return t < 3600; };
  Config c;
  c.legionella_every_days = 0;
  Manager m(c);
  m.boost(3 * 3600, NAN);
  run(h, m, 0, 3600);
  const double forced = h.grid_kwh;
  EXPECT_NEAR(forced, 2.0, 0.05);  // an hour of boost
  run(h, m, 3600, 3 * 3600);
  EXPECT_NEAR(h.grid_kwh, forced, 1e-9);  // nothing forced without a temperature
  EXPECT_EQ(m.update(at(3 * 3600, NAN)).reason, std::string("no tank temperature"));
}

TEST(HotWater, BoostEndsAtItsTargetOrItsTimeWhateverTheClockDoes) {
  Config c;
  c.legionella_every_days = 0;
  Manager m(c);
  m.boost(600, 50.0f);
  EXPECT_EQ(m.update(at(0, 45.0f)).action, Action::FORCE);
  EXPECT_EQ(m.update(at(60, 50.0f)).action, Action::SOLAR);  // target reached
  EXPECT_FALSE(m.boosting());
  m.boost(600, NAN);
  EXPECT_EQ(m.update(at(120, 45.0f)).action, Action::FORCE);
  // The clock is set a day forward (SNTP after a boot): the boost neither ends nor runs on for it.
  EXPECT_EQ(m.update(at(kDay + 180, 45.0f)).action, Action::FORCE);
  // A jump counts as two minutes (the longest gap taken as elapsed): 600 - 120 s are left.
  int64_t t = kDay + 240;
  while (m.update(at(t, 45.0f)).action == Action::FORCE) t += 60;
  EXPECT_EQ(t - (kDay + 180), 480);
}

TEST(HotWater, WithoutAClockOnlyTheLimitAndTheBoostApply) {
  Config c = deadline_config();
  c.legionella_every_days = 1;
  Manager m(c);
  Inputs in = at(100, 30.0f);
  in.clock_known = false;
  Decision d = m.update(in);
  EXPECT_EQ(d.action, Action::SOLAR);  // a deadline would want heat, but there is no time of day
  EXPECT_EQ(d.forcing_starts_s, -1);
  in.now_s = 200 + 3 * kDay;
  EXPECT_FALSE(m.legionella_overdue(in.now_s));
  in.tank_c = 66.0f;
  EXPECT_EQ(m.update(in).action, Action::STOP);
  in.tank_c = 40.0f;
  m.boost(600, NAN);
  in.now_s += 60;
  EXPECT_EQ(m.update(in).action, Action::FORCE);
}

TEST(HotWater, EnergyDeadlineForcesOnlyWhatTheSunDidNotPutIn) {
  House h;
  h.tank_c = 40.0f;
  h.surplus_w = [](int64_t t) { return sunny(t, 700.0f, 9.0f, 16.0f); };  // ~3 kWh a day
  Config c = deadline_config();
  c.deadline_kwh = 5.0f;  // "at least 5 kWh into the water today by 18:00"
  c.off_peak = {{13 * 60, 16 * 60}};
  Manager m(c);
  run(h, m, 0, kDay);
  House days = h;
  days.grid_kwh = days.solar_kwh = days.grid_outside_off_peak_kwh = 0;
  days.deadlines_met = days.deadlines_total = 0;
  run(days, m, kDay, 4 * kDay);
  printf("    5 kWh a day by 18:00: grid %.2f kWh, solar %.2f kWh over 3 days\n", days.grid_kwh, days.solar_kwh);
  EXPECT_EQ(days.deadlines_total, 3);
  EXPECT_EQ(days.deadlines_met, 3);
  EXPECT_NEAR(days.grid_outside_off_peak_kwh, 0.0, 1e-9);
  // 15 kWh in all, the sun's ~3 kWh a day first: the grid's share is the rest, within 10 %.
  EXPECT_NEAR(days.grid_kwh + days.solar_kwh, 15.0, 1.5);
  EXPECT_LT(days.grid_kwh, 1.1 * (15.0 - days.solar_kwh));
}

TEST(HotWater, TariffSignalIsFollowedAndItsPeriodsLearnt) {
  // The meter's signal says 22:30-06:30 and 12:30-16:30 (no windows configured).
  auto signal_on = [](int64_t t) {
    const int64_t m = (t % kDay) / 60;
    return m >= 22 * 60 + 30 || m < 6 * 60 + 30 || (m >= 12 * 60 + 30 && m < 16 * 60 + 30);
  };
  Config c = deadline_config();
  c.off_peak_source = OffPeakSource::SIGNAL;
  c.off_peak.clear();
  Manager m(c);
  House h;
  h.tank_c = 40.0f;
  int late_days_met = 0;
  double outside = 0.0;
  for (int64_t t = 0; t < 4 * kDay; t += 60) {
    Inputs in = at(t, h.tank_c);
    in.off_peak = signal_on(t) ? 1 : 0;
    in.water_w = h.last_water_w;
    const Action a = m.update(in).action;
    if (a == Action::FORCE && !signal_on(t)) outside += 1;
    h.step(t, a, signal_on(t));
    if (t > kDay && (t % kDay) == 18 * 3600 && h.tank_c >= c.deadline_c - 0.05f) ++late_days_met;
  }
  EXPECT_EQ(outside, 0.0);  // never forced outside the signal's off-peak
  EXPECT_EQ(late_days_met, 3);  // once the periods are learnt, every deadline is met
}

TEST(HotWater, CloudyWeekGetsExactlyOneAntiLegionellaCycle) {
  House h;
  h.tank_c = 50.0f;
  h.surplus_w = [](int64_t t) { return sunny(t, 600.0f, 9.0f, 16.0f); };  // never reaches 60 degC
  Config c = deadline_config();
  c.legionella_every_days = 7;
  Manager m(c);
  run(h, m, 0, 8 * kDay);
  printf("    cloudy week: anti-legionella cycle done at day %.2f, grid %.2f kWh\n", m.last_legionella_s() / 86400.0,
         h.grid_kwh);
  EXPECT_EQ(m.legionella_cycles(), 1u);
  EXPECT_GE(m.last_legionella_s(), 7 * kDay);  // due after 7 days, forced in the next off-peak window
  EXPECT_NEAR(h.grid_outside_off_peak_kwh, 0.0, 1e-9);
}

TEST(HotWater, SunnyDaysCountAsAntiLegionellaCyclesAndARestartDoesNotPostponeOne) {
  House h;
  h.tank_c = 50.0f;
  h.surplus_w = [](int64_t t) { return sunny(t, 4000.0f, 6.0f, 20.0f); };  // the sun takes it to 65 degC
  Config c = deadline_config();
  c.legionella_every_days = 7;
  Manager m(c);
  run(h, m, 0, 3 * kDay);
  EXPECT_EQ(m.legionella_cycles(), 3u);  // one a day, by the sun alone
  EXPECT_NEAR(h.grid_kwh, 0.0, 1e-9);
  // After a restart the last cycle is restored: 7 days after it, one is due.
  Manager restarted(c);
  restarted.restore_last_legionella(m.last_legionella_s());
  restarted.update(at(m.last_legionella_s() + 7 * kDay + 60, 45.0f));
  EXPECT_TRUE(restarted.legionella_overdue(m.last_legionella_s() + 7 * kDay + 60));
}
