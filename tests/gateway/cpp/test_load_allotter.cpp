// Channel 2 shared by several loads (components/routeur_pv/load_allotter.*) and the full scale
// (DIM) that follows their capacity, on a simulated clock.
#include <gtest/gtest.h>

#include <cmath>

#include "load_allotter.h"

using esphome::routeur_pv::FullScaleFollower;
using esphome::routeur_pv::channel_2_watts;
using esphome::routeur_pv::LoadAllotter;

namespace {
// Two dimmers: 1000 W first, 1500 W second, both reporting every second.
LoadAllotter two_dimmers(uint32_t now_ms = 0) {
  LoadAllotter a(2, 3000);
  a.set_priority(0, 1);
  a.set_priority(1, 2);
  a.report(0, 1000.0f, true, now_ms);
  a.report(1, 1500.0f, true, now_ms);
  return a;
}
}  // namespace

TEST(LoadAllotter, TheHigherPriorityFillsFirstAsTheSurplusGrowsAndFalls) {
  LoadAllotter a = two_dimmers();
  float last_first = 0.0f, last_second = 0.0f;
  int direction_changes = 0;
  // Up to 3 kW and back down, 10 W at a time.
  for (int step = 0; step <= 600; ++step) {
    const float watts = float(step <= 300 ? step : 600 - step) * 10.0f;
    const float unplaced = a.allot(watts, 0);
    EXPECT_FLOAT_EQ(a.allotted_w(0), std::fmin(watts, 1000.0f)) << watts;
    EXPECT_FLOAT_EQ(a.allotted_w(1), std::fmin(std::fmax(watts - 1000.0f, 0.0f), 1500.0f)) << watts;
    EXPECT_FLOAT_EQ(unplaced, std::fmax(watts - 2500.0f, 0.0f)) << watts;
    // The two never move against each other: the second only moves once the first is full.
    const float d1 = a.allotted_w(0) - last_first, d2 = a.allotted_w(1) - last_second;
    if (d1 * d2 < 0.0f) ++direction_changes;
    if (d2 != 0.0f) {
      EXPECT_FLOAT_EQ(a.allotted_w(0), 1000.0f) << watts;
    }
    last_first = a.allotted_w(0);
    last_second = a.allotted_w(1);
  }
  EXPECT_EQ(direction_changes, 0);
  EXPECT_FLOAT_EQ(a.capacity_w(0), 2500.0f);
}

TEST(LoadAllotter, EqualPrioritiesShareInProportionToTheirRatings) {
  LoadAllotter a(3, 3000);
  a.report(0, 1000.0f, true, 0);
  a.report(1, 3000.0f, true, 0);
  a.report(2, 500.0f, true, 0);
  a.set_priority(2, 2);
  a.allot(2000.0f, 0);
  EXPECT_FLOAT_EQ(a.allotted_w(0), 500.0f);
  EXPECT_FLOAT_EQ(a.allotted_w(1), 1500.0f);
  EXPECT_FLOAT_EQ(a.allotted_w(2), 0.0f);
  EXPECT_FLOAT_EQ(a.allot(4300.0f, 0), 0.0f);
  EXPECT_FLOAT_EQ(a.allotted_w(2), 300.0f);
}

TEST(LoadAllotter, ALoadThatGoesSilentGivesItsWattsToTheNextWithinTheTimeout) {
  LoadAllotter a = two_dimmers();
  uint32_t handed_over_ms = 0;
  // 1.2 kW all along; the first load's last report is at 10 s; every 100 ms the gateway allots.
  for (uint32_t t = 0; t <= 20000; t += 100) {
    if (t % 1000 == 0) {
      if (t <= 10000) a.report(0, 1000.0f, true, t);
      a.report(1, 1500.0f, true, t);
    }
    a.allot(1200.0f, t);
    if (t <= 13000) {
      EXPECT_FLOAT_EQ(a.allotted_w(0), 1000.0f) << t;
      EXPECT_FLOAT_EQ(a.allotted_w(1), 200.0f) << t;
    } else if (handed_over_ms == 0) {
      handed_over_ms = t;
    }
  }
  EXPECT_EQ(handed_over_ms, 13100u);  // 3 s after its last report
  EXPECT_FLOAT_EQ(a.allotted_w(0), 0.0f);
  EXPECT_FLOAT_EQ(a.allotted_w(1), 1200.0f);
  EXPECT_FLOAT_EQ(a.capacity_w(20000), 1500.0f);
  // It comes back: first again at its next report.
  a.report(0, 1000.0f, true, 20100);
  a.allot(1200.0f, 20100);
  EXPECT_FLOAT_EQ(a.allotted_w(0), 1000.0f);
  EXPECT_FLOAT_EQ(a.allotted_w(1), 200.0f);
}

TEST(LoadAllotter, ALoadOffOrForcedByItsOwnModeGetsNothing) {
  LoadAllotter a = two_dimmers();
  a.report(0, 1000.0f, false, 500);  // off or forced: it is not following
  a.allot(1200.0f, 500);
  EXPECT_FLOAT_EQ(a.allotted_w(0), 0.0f);
  EXPECT_FLOAT_EQ(a.allotted_w(1), 1200.0f);
  EXPECT_FALSE(a.active(0, 500));
}

TEST(LoadAllotter, ARatingChangedInTheLoadAloneIsAllottedAtItsNextReport) {
  LoadAllotter a = two_dimmers();
  a.report(0, 2000.0f, true, 1000);
  a.allot(2500.0f, 1000);
  EXPECT_FLOAT_EQ(a.allotted_w(0), 2000.0f);
  EXPECT_FLOAT_EQ(a.allotted_w(1), 500.0f);
}

TEST(LoadAllotter, NoWattsNoLoadsAndTheClockWrapping) {
  LoadAllotter a = two_dimmers(0xFFFFFC00u);
  EXPECT_FLOAT_EQ(a.allot(NAN, 0x100u), 0.0f);
  EXPECT_FLOAT_EQ(a.allotted_w(0), 0.0f);
  EXPECT_FLOAT_EQ(a.allot(-300.0f, 0x100u), 0.0f);
  a.allot(500.0f, 0x100u);  // 1.28 s after the reports, across the wrap: still fresh
  EXPECT_FLOAT_EQ(a.allotted_w(0), 500.0f);
  LoadAllotter none(2, 3000);  // never reported
  EXPECT_FLOAT_EQ(none.allot(800.0f, 0), 800.0f);
  EXPECT_FLOAT_EQ(none.capacity_w(0), 0.0f);
  none.report(0, NAN, true, 0);  // a rating that makes no sense counts as none
  EXPECT_FALSE(none.active(0, 0));
}

constexpr bool IDLE = true;  // VO2 0

TEST(FullScaleFollower, DimFollowsAHeldCapacityAtMostOnceAMinute) {
  FullScaleFollower f(10000, 60000, 10.0f);
  // 2.5 kW of loads, DIM 1000 W: nothing until the capacity has held 10 s.
  for (uint32_t t = 0; t < 10000; t += 1000)
    EXPECT_TRUE(std::isnan(f.update(2500.0f, 1000.0f, IDLE, t))) << t;
  EXPECT_FLOAT_EQ(f.update(2500.0f, 1000.0f, IDLE, 10000), 2500.0f);
  // Until the frames report it, no second write within the minute.
  EXPECT_TRUE(std::isnan(f.update(2500.0f, 1000.0f, IDLE, 11000)));
  // Reported: at rest. A few watts of difference are no reason for an EEPROM write.
  for (uint32_t t = 12000; t < 200000; t += 1000)
    EXPECT_TRUE(std::isnan(f.update(2505.0f, 2500.0f, IDLE, t))) << t;
}

TEST(FullScaleFollower, AFlappingLoadWritesNothingAndNoLoadChangesNothing) {
  FullScaleFollower f(10000, 60000, 10.0f);
  int writes = 0;
  // A load that comes and goes every 5 s: the capacity never holds 10 s.
  for (uint32_t t = 0; t < 600000; t += 1000)
    writes += !std::isnan(f.update((t / 5000) % 2 ? 2500.0f : 1000.0f, 1000.0f, IDLE, t));
  EXPECT_EQ(writes, 0);
  for (uint32_t t = 600000; t < 700000; t += 1000)
    EXPECT_TRUE(std::isnan(f.update(0.0f, 1000.0f, IDLE, t)));  // every load silent: DIM stays
  EXPECT_TRUE(std::isnan(f.update(1500.0f, NAN, IDLE, 700000)));  // DIM unknown: no write
}

TEST(FullScaleFollower, TwoChangesAreAMinuteApart) {
  FullScaleFollower f(10000, 60000, 10.0f);
  f.update(2500.0f, 1000.0f, IDLE, 0);
  EXPECT_FLOAT_EQ(f.update(2500.0f, 1000.0f, IDLE, 10000), 2500.0f);
  f.update(1000.0f, 2500.0f, IDLE, 20000);  // a load went silent
  EXPECT_TRUE(std::isnan(f.update(1000.0f, 2500.0f, IDLE, 40000)));  // held 20 s, but 30 s after the last write
  EXPECT_FLOAT_EQ(f.update(1000.0f, 2500.0f, IDLE, 70000), 1000.0f);
}

TEST(FullScaleFollower, ALargerDimWaitsForChannel2ToBeIdleASmallerOneDoesNot) {
  FullScaleFollower f(10000, 60000, 10.0f);
  // VO2 at 60 % of 1000 W: 2500 W would make it stand for 1500 W at once.
  for (uint32_t t = 0; t <= 120000; t += 1000)
    EXPECT_TRUE(std::isnan(f.update(2500.0f, 1000.0f, false, t))) << t;
  EXPECT_FLOAT_EQ(f.update(2500.0f, 1000.0f, true, 121000), 2500.0f);  // VO2 back to 0
  f.update(1000.0f, 2500.0f, false, 130000);
  EXPECT_FLOAT_EQ(f.update(1000.0f, 2500.0f, false, 190000), 1000.0f);  // smaller: VO2 may be anything
}

TEST(Channel2Watts, ThePo2OfTheFrameElseVo2OfTheReportedFullScale) {
  // Right after DIM 1000 -> 2500 the frame's PO2 already counts in the new DIM; VO2 x the DIM last
  // reported (one frame in five) would still give the old one.
  EXPECT_FLOAT_EQ(channel_2_watts(1000.0f, 40.0f, 1000.0f), 1000.0f);
  // An ATmega without PO2 (older firmware): VO2 of the reported DIM.
  EXPECT_FLOAT_EQ(channel_2_watts(NAN, 40.0f, 2500.0f), 1000.0f);
  // No frame (link down): NaN, every share goes to 0 (LoadAllotter::allot).
  EXPECT_TRUE(std::isnan(channel_2_watts(NAN, NAN, 2500.0f)));
}
