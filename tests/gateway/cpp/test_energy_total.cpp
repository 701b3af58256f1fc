// GoogleTest unit tests of the gateway's energy totals (energy_total.h), on simulated frames.
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "energy_total.h"

using namespace esphome::routeur_pv;

namespace {

// The ATmega's counter (Wh) after each of `frames` frames, `wh_per_frame` apart.
std::vector<double> counter_series(int frames, double wh_per_frame, double start = 0.0) {
  std::vector<double> out;
  for (int i = 1; i <= frames; i++)
    out.push_back(start + i * wh_per_frame);
  return out;
}

}  // namespace

TEST(EnergyTotal, FollowsTheCounterFromTheFirstFrame) {
  EnergyTotal total;
  EXPECT_DOUBLE_EQ(total.on_counter(0.25), 0.25);  // counted by the ATmega before we knew it
  for (double c : counter_series(100, 0.5, 0.25))
    total.on_counter(c);
  EXPECT_NEAR(total.total_wh(), 50.25, 1e-9);
}

TEST(EnergyTotal, LosesNothingWhenFramesAreDropped) {
  EnergyTotal all, dropped;
  std::srand(3);
  int kept = 0;
  const auto series = counter_series(3600, 0.55);
  for (size_t i = 0; i < series.size(); i++) {
    all.on_counter(series[i]);
    if (i + 1 == series.size() || std::rand() % 10 != 0) {  // 10 % lost, never the last one here
      dropped.on_counter(series[i]);
      kept++;
    }
  }
  EXPECT_LT(kept, 3400);
  EXPECT_DOUBLE_EQ(dropped.total_wh(), all.total_wh());
}

TEST(EnergyTotal, AnAtmegaResetNeverDecreasesTheTotal) {
  EnergyTotal total;
  double previous = 0.0;
  std::vector<double> series = counter_series(50, 1.0);  // up to 50 Wh
  for (double c : counter_series(30, 1.0))              // reset: from 0 again, up to 30 Wh
    series.push_back(c);
  for (double c : series) {
    total.on_counter(c);
    EXPECT_GE(total.total_wh(), previous);
    previous = total.total_wh();
  }
  EXPECT_DOUBLE_EQ(total.total_wh(), 80.0);
}

TEST(EnergyTotal, AGatewayRebootAddsWhatTheAtmegaCountedMeanwhile) {
  EnergyTotal before;
  for (double c : counter_series(10, 1.0))
    before.on_counter(c);
  EnergyTotal after;  // the state saved to flash, restored at boot
  after.restore(before.state());
  after.on_counter(25.0);  // frames 11..25 went by while the gateway was down
  EXPECT_DOUBLE_EQ(after.total_wh(), 25.0);
}

TEST(EnergyTotal, AnOlderAtmegaIsIntegratedFromItsPower) {
  EnergyTotal total;
  EXPECT_DOUBLE_EQ(total.on_power(0.0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(total.on_power(3600.0, 1.0), 1.0);  // 3.6 kW for a second: 1 Wh
  EXPECT_DOUBLE_EQ(total.on_power(-50.0, 1.0), 0.0);   // never decreases
  EXPECT_DOUBLE_EQ(total.on_power(1000.0, 0.0), 0.0);  // a gap past the link timeout counts 0
  // our ATmega back: its counter starts a baseline and is added whole
  total.forget_counter();
  EXPECT_DOUBLE_EQ(total.on_counter(2.0), 2.0);
  EXPECT_DOUBLE_EQ(total.total_wh(), 3.0);
}

TEST(DailyTotal, AgreesWithTheTotalAndRestartsAtMidnight) {
  EnergyTotal total;
  DailyTotal today;
  today.set_day(2026335);
  double counter = 0.0;
  for (int i = 0; i < 1000; i++) {
    counter += 0.37;
    today.add(total.on_counter(counter));
  }
  EXPECT_NEAR(today.today_wh(), total.total_wh(), 1e-9);  // the same increments: the same figure
  EXPECT_TRUE(today.set_day(2026336));
  EXPECT_DOUBLE_EQ(today.today_wh(), 0.0);
  today.add(total.on_counter(counter + 1.0));
  EXPECT_NEAR(today.today_wh(), 1.0, 1e-9);
  EXPECT_FALSE(today.set_day(2026336));
  EXPECT_FALSE(today.set_day(-1));  // clock lost: the day in progress goes on
  EXPECT_NEAR(today.today_wh(), 1.0, 1e-9);
}

TEST(DailyTotal, AClockThatBecomesValidKeepsWhatWasCounted) {
  DailyTotal today;
  today.add(5.0);                     // before the first time sync
  EXPECT_FALSE(today.set_day(2026335));
  EXPECT_DOUBLE_EQ(today.today_wh(), 5.0);
}
