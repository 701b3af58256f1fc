// The relay stage's decisions (components/pv_relay/relay_stage.*) over simulated hours and days, a
// second a step: the load draws its rating when on, and the surplus it may take is what the sun
// leaves, less its own draw.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "relay_stage.h"

using esphome::pv_relay::RelayConfig;
using esphome::pv_relay::RelayMode;
using esphome::pv_relay::RelayReason;
using esphome::pv_relay::RelayStage;

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kMidnight = 20000 * kDay;  // a local midnight, days since the epoch

struct Outcome {
  std::vector<uint32_t> on_spans, off_spans;  // lengths of the completed spans, in s
  uint32_t switchings{0};
  double grid_wh{0.0}, solar_wh{0.0};
  uint32_t first_on_s{0};
};

// `surplus(t)`: what the sun leaves for the relay at second t of the run (NaN: unknown data).
Outcome simulate(RelayStage &relay, int64_t seconds, const std::function<float(int64_t)> &surplus,
             bool clock = true, int64_t start_local = kMidnight) {
  Outcome r;
  bool on = false;
  int64_t since = 0;
  for (int64_t t = 0; t < seconds; ++t) {
    const float sun = surplus(t);
    const float available = on ? sun - relay.config().rating_w : sun;
    const bool now_on = relay.update(uint32_t(t), available, clock ? start_local + t : -1);
    if (now_on != on) {
      (on ? r.on_spans : r.off_spans).push_back(uint32_t(t - since));
      if (now_on && r.switchings == 0) r.first_on_s = uint32_t(t);
      ++r.switchings;
      since = t;
      on = now_on;
    }
    if (on) {
      const float from_sun = std::isnan(sun) ? 0.0f : std::fmax(0.0f, std::fmin(sun, relay.config().rating_w));
      r.solar_wh += from_sun / 3600.0;
      r.grid_wh += (relay.config().rating_w - from_sun) / 3600.0;
    }
  }
  return r;
}

RelayConfig pump() {
  RelayConfig c;
  c.rating_w = 800.0f;
  c.on_delay_s = 60;
  c.off_import_w = 100.0f;
  c.off_delay_s = 10;
  c.min_on_s = 900;
  c.min_off_s = 600;
  return c;
}

}  // namespace

TEST(RelayStage, SwitchesOnOnceTheSurplusHasCoveredItsRatingForTheDelay) {
  RelayStage relay(pump());
  // 1 kW from the start: the start counts as a switch-off, so the 600-s minimum off-time comes first.
  Outcome r = simulate(relay, 3600, [](int64_t) { return 1000.0f; });
  EXPECT_EQ(r.switchings, 1u);
  EXPECT_EQ(r.first_on_s, 600u);
  EXPECT_TRUE(relay.is_on());
  EXPECT_EQ(relay.reason(), RelayReason::SURPLUS);
  EXPECT_EQ(r.grid_wh, 0.0);

  // After the minimum off-time, the on-delay counts: 60 s of cover.
  RelayStage late(pump());
  Outcome l = simulate(late, 3600, [](int64_t t) { return t < 1000 ? 500.0f : 1000.0f; });
  EXPECT_EQ(l.first_on_s, 1060u);
}

TEST(RelayStage, ASurplusShorterThanTheDelayNeverSwitchesItOn) {
  RelayStage relay(pump());
  // 59 s of 2 kW in every 5 minutes.
  Outcome r = simulate(relay, 4 * 3600, [](int64_t t) { return t % 300 < 59 ? 2000.0f : 0.0f; });
  EXPECT_EQ(r.switchings, 0u);
}

TEST(RelayStage, SwitchesOffOnImportAboveTheThresholdForTheOffDelay) {
  RelayStage relay(pump());
  // On at 600 s; from 2000 s the sun leaves 750 W: 50 W of import, under the 100-W threshold, it
  // stays on. From 3000 s 600 W: 200 W of import, off 10 s later.
  Outcome r = simulate(relay, 4000, [](int64_t t) { return t < 2000 ? 1000.0f : t < 3000 ? 750.0f : 600.0f; });
  ASSERT_EQ(r.switchings, 2u);
  ASSERT_EQ(r.on_spans.size(), 1u);
  EXPECT_EQ(600u + r.on_spans[0], 3010u);
  EXPECT_FALSE(relay.is_on());
}

TEST(RelayStage, AnImportBeforeTheMinimumOnTimeWaitsForIt) {
  RelayStage relay(pump());
  Outcome r = simulate(relay, 3600, [](int64_t t) { return t < 700 ? 1000.0f : 0.0f; });
  ASSERT_EQ(r.on_spans.size(), 1u);
  EXPECT_EQ(r.on_spans[0], 900u);  // on at 600, import from 700: held until 1500
}

TEST(RelayStage, ASawtoothSurplusNeverBreaksTheMinimumOnAndOffTimes) {
  const RelayConfig c = pump();
  for (int64_t period : {40, 97, 300, 601, 1200, 1800, 3600}) {
    RelayStage relay(c);
    // 0 to 2 kW and back down, over and over, for a day.
    Outcome r = simulate(relay, kDay, [period](int64_t t) {
      const float x = float(t % period) / float(period);
      return 2000.0f * (x < 0.5f ? 2.0f * x : 2.0f - 2.0f * x);
    });
    for (uint32_t span : r.on_spans) EXPECT_GE(span, c.min_on_s) << period;
    for (uint32_t span : r.off_spans) EXPECT_GE(span, c.min_off_s) << period;
    // At most one cycle per minimum on + off time.
    EXPECT_LE(r.switchings, 2 * kDay / (c.min_on_s + c.min_off_s) + 1) << period;
    // Under 100 s a period covers the rating for less than the 60-s on-delay: never on.
    if (period < 100) EXPECT_EQ(r.switchings, 0u) << period;
    else EXPECT_GT(r.switchings, 0u) << period;
  }
}

TEST(RelayStage, UnknownDataSwitchesItOffAfterItsMinimumOnTimeAndNeverOn) {
  RelayStage relay(pump());
  const float nan = std::nanf("");
  Outcome r = simulate(relay, 4000, [nan](int64_t t) { return t < 1000 ? 1000.0f : nan; });
  ASSERT_EQ(r.on_spans.size(), 1u);
  EXPECT_EQ(r.on_spans[0], 900u);  // on at 600, data lost at 1000: off at 1500
  EXPECT_EQ(r.switchings, 2u);
  RelayStage never(pump());
  EXPECT_EQ(simulate(never, 4000, [nan](int64_t) { return nan; }).switchings, 0u);
}

TEST(RelayStage, TheDailyRuntimeRunsAsLateAsItStillFinishesByItsDeadline) {
  RelayConfig c = pump();
  c.daily_runtime_s = 2 * 3600;
  c.runtime_by_min = 22 * 60;
  RelayStage relay(c);
  Outcome r = simulate(relay, kDay, [](int64_t) { return 0.0f; });
  ASSERT_EQ(r.switchings, 2u);
  EXPECT_EQ(r.first_on_s, 20u * 3600);
  EXPECT_EQ(r.on_spans[0], 2u * 3600);
  EXPECT_NEAR(r.grid_wh, 1600.0, 1.0);
  EXPECT_EQ(relay.runtime_today_s(), 2u * 3600);
}

TEST(RelayStage, TheSunsRuntimeCountsAndTheGridOnlyMakesUpTheRest) {
  RelayConfig c = pump();
  c.daily_runtime_s = 3 * 3600;
  RelayStage relay(c);
  // 2 h of 1 kW at noon (on from 11:00 to 13:00, off 10 s later), then nothing.
  Outcome r = simulate(relay, kDay, [](int64_t t) { return t >= 11 * 3600 && t < 13 * 3600 ? 1000.0f : 0.0f; });
  ASSERT_EQ(r.switchings, 4u);
  ASSERT_EQ(r.on_spans.size(), 2u);
  // The sun's run: 11:01 to 13:00:10. The grid's hour makes up the rest, ending at 22:00.
  const uint32_t sun_run = r.on_spans[0];
  EXPECT_EQ(sun_run, 2u * 3600 - 60 + 10);
  EXPECT_EQ(r.on_spans[1], 3u * 3600 - sun_run);
  // From the grid: that hour, and the off-delay's 10 s after the sun had gone.
  EXPECT_NEAR(r.grid_wh, (3 * 3600 - sun_run + 10) * 800.0 / 3600.0, 0.01);
  EXPECT_EQ(relay.runtime_today_s(), 3u * 3600);
}

TEST(RelayStage, ARuntimeKeptOffPastItsDeadlineRunsUntilDoneAndTheNextDayStartsAfresh) {
  RelayConfig c = pump();
  c.daily_runtime_s = 3600;
  c.runtime_by_min = 22 * 60;
  RelayStage relay(c);
  // The user keeps it off until 21:30 on day one: then it runs its hour, past the deadline.
  relay.set_mode(RelayMode::OFF);
  Outcome r = simulate(relay, 2 * kDay, [&relay](int64_t t) {
    if (t == 21 * 3600 + 1800) relay.set_mode(RelayMode::AUTO);
    return 0.0f;
  });
  ASSERT_EQ(r.on_spans.size(), 2u);
  EXPECT_EQ(r.first_on_s, 21u * 3600 + 1800);
  EXPECT_EQ(r.on_spans[0], 3600u);
  EXPECT_EQ(r.on_spans[1], 3600u);  // day two: from 21:00 to 22:00
  EXPECT_EQ(r.off_spans[1], kDay - 3600u - 1800u);
  EXPECT_EQ(relay.runtime_today_s(), 3600u);
  EXPECT_EQ(relay.day(), kMidnight / kDay + 1);
}

TEST(RelayStage, WithoutAClockTheDailyRuntimeIsNotForced) {
  RelayConfig c = pump();
  c.daily_runtime_s = 2 * 3600;
  RelayStage relay(c);
  EXPECT_EQ(simulate(relay, kDay, [](int64_t) { return 0.0f; }, false).switchings, 0u);
}

TEST(RelayStage, TheUsersModeHoldsTheMinimumTimesToo) {
  RelayStage relay(pump());
  relay.set_mode(RelayMode::ON);
  EXPECT_FALSE(relay.update(0, 0.0f, -1));
  EXPECT_EQ(relay.reason(), RelayReason::HELD);
  EXPECT_FALSE(relay.update(599, 0.0f, -1));
  EXPECT_TRUE(relay.update(600, 0.0f, -1));
  EXPECT_EQ(relay.reason(), RelayReason::MODE);
  relay.set_mode(RelayMode::OFF);
  EXPECT_TRUE(relay.update(1499, 5000.0f, -1));
  EXPECT_FALSE(relay.update(1500, 5000.0f, -1));
  relay.set_mode(RelayMode::AUTO);
  EXPECT_FALSE(relay.update(2099, 5000.0f, -1));
  EXPECT_FALSE(relay.update(2100, 5000.0f, -1));  // the on-delay starts now
  EXPECT_TRUE(relay.update(2160, 5000.0f, -1));
  EXPECT_EQ(relay.switchings(), 3u);
}

TEST(RelayStage, ModeNames) {
  RelayMode m = RelayMode::AUTO;
  EXPECT_TRUE(esphome::pv_relay::relay_mode_from_string("on", &m));
  EXPECT_EQ(m, RelayMode::ON);
  EXPECT_FALSE(esphome::pv_relay::relay_mode_from_string("On", &m));
  EXPECT_EQ(m, RelayMode::ON);
  for (RelayMode x : {RelayMode::AUTO, RelayMode::OFF, RelayMode::ON}) {
    ASSERT_TRUE(esphome::pv_relay::relay_mode_from_string(esphome::pv_relay::relay_mode_to_string(x), &m));
    EXPECT_EQ(m, x);
  }
}
