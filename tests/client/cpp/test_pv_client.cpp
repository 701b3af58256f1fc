// Unit tests of the pv_client component's plain C++ (no ESPHome): power curve, gate scheduler,
// burst distribution, follow logic, legacy JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "follow_logic.h"
#include "gate_scheduler.h"
#include "gateway_poll.h"
#include "legacy_api.h"
#include "mains_sim.h"
#include "power_curve.h"
#include "sim_helpers.h"

using namespace esphome::pv_client;

static constexpr double PI = 3.14159265358979323846;

// ------------------------------------------------------------------ power curve
static double numeric_fraction(double a) {  // integral of sin^2 over [a, pi] / (pi/2)
  const int n = 20000;
  double sum = 0;
  for (int i = 0; i < n; i++) {
    double x = a + (PI - a) * (i + 0.5) / n;
    sum += std::sin(x) * std::sin(x);
  }
  return sum * (PI - a) / n / (PI / 2);
}

TEST(PowerCurve, MatchesIntegralOfSinSquared) {
  for (double a = 0; a <= PI; a += PI / 37)
    EXPECT_NEAR(phase_power_fraction(static_cast<float>(a)), numeric_fraction(a), 1e-5) << "a=" << a;
}

TEST(PowerCurve, InverseWithinHalfPercentOfFullPowerEverywhere) {
  double worst = 0;
  for (int i = 0; i <= 10000; i++) {
    float p = i / 10000.0f;
    float a = phase_angle_for_power(p);
    ASSERT_GE(a, 0.0f);
    ASSERT_LE(a, static_cast<float>(PI));
    worst = std::max(worst, std::fabs(numeric_fraction(a) - p));
  }
  EXPECT_LT(worst, 0.005);
  EXPECT_LT(worst, 0.0005) << "expected far better than the 0.5 % requirement";
}

TEST(PowerCurve, DelayInMicrosecondsAt50And60HzWithinHalfPercent) {
  for (double half_us : {10000.0, 1e6 / 120.0}) {
    for (int i = 0; i <= 1000; i++) {
      float p = i / 1000.0f;
      uint32_t q = phase_delay_q16_for_power(p);
      // what the scheduler does: integer microseconds after the crossing
      uint32_t delay = static_cast<uint32_t>((static_cast<uint64_t>(static_cast<uint32_t>(half_us)) * q) >> 16);
      double a = PI * delay / half_us;
      double got = q >= Q16_ONE ? 0.0 : numeric_fraction(a);
      EXPECT_NEAR(got, p, 0.005) << "p=" << p << " half=" << half_us;
    }
  }
}

TEST(PowerCurve, Extremes) {
  EXPECT_EQ(phase_delay_q16_for_power(0.0f), Q16_ONE);
  EXPECT_EQ(phase_delay_q16_for_power(-1.0f), Q16_ONE);
  EXPECT_EQ(phase_delay_q16_for_power(NAN), Q16_ONE);
  EXPECT_EQ(phase_delay_q16_for_power(1.0f), 0u);
  EXPECT_NEAR(phase_delay_q16_for_power(0.5f), 32768u, 2u);  // symmetric curve: 50 % at 90 degrees
}

// ------------------------------------------------------------------ gate scheduler
/// Feed ideal edges every `half` us starting at t0 and poll at every event; returns gate edges.
struct Driver {
  GateScheduler s;
  std::vector<GateEdge> edges;
  uint32_t t{0};
  bool gate{false};
  uint32_t next{0};
  explicit Driver(GateSchedulerConfig c = GateSchedulerConfig{}) { s.configure(c); }
  void advance_to(uint32_t until) {
    while (static_cast<int32_t>(until - t) > 0) {
      uint32_t step = next;
      if (static_cast<int32_t>(step - t) <= 0 || static_cast<int32_t>(step - until) > 0)
        step = until;
      t = step;
      poll();
    }
  }
  void poll() {
    bool g = s.poll(t, &next);
    if (g != gate) {
      gate = g;
      edges.push_back({t, g});
    }
  }
  bool started{false};
  void edge_at(uint32_t when) {
    if (!started) {
      started = true;
      t = when;
      next = when;
    }
    advance_to(when);
    s.on_edge(when);
    poll();
  }
};

TEST(GateScheduler, LocksAndFiresAtTheRightDelay50And60Hz) {
  for (double freq : {50.0, 60.0}) {
    double half = 1e6 / (2 * freq);
    for (float level : {0.1f, 0.5f, 0.9f}) {
      Driver d;
      d.s.set_phase_delay_q16(phase_delay_q16_for_power(level));
      const uint32_t t0 = 4000000000u;  // close to the uint32 wrap on purpose
      for (int k = 0; k < 40; k++)
        d.edge_at(t0 + static_cast<uint32_t>(std::lround(k * half)));
      d.advance_to(t0 + static_cast<uint32_t>(40 * half));
      ASSERT_TRUE(d.s.is_locked());
      EXPECT_NEAR(d.s.get_half_period_us(), half, 1.5);
      double expect_delay = phase_angle_for_power(level) / PI * half;
      int rises = 0;
      for (auto &e : d.edges) {
        if (!e.high)
          continue;
        uint32_t since = e.time_us - t0;
        int k = static_cast<int>(since / half);
        double rel = since - k * half;
        EXPECT_NEAR(rel, expect_delay, 3.0) << "freq " << freq << " level " << level;
        rises++;
      }
      EXPECT_GE(rises, 34);  // locked after 3 intervals: fires in every later half-cycle
      // every gate pulse ends before the next crossing
      for (size_t i = 0; i + 1 < d.edges.size(); i += 2) {
        ASSERT_TRUE(d.edges[i].high);
        ASSERT_FALSE(d.edges[i + 1].high);
        uint32_t on = d.edges[i].time_us - t0;
        uint32_t off = d.edges[i + 1].time_us - t0;
        int k = static_cast<int>(on / half);
        EXPECT_LT(off, (k + 1) * half) << "gate still high at the crossing";
      }
    }
  }
}

TEST(GateScheduler, LevelZeroNeverFiresAndFullFiresEveryHalfCycle) {
  auto r0 = pvtest::run_phase(0.0f, 50, 2.0f);
  EXPECT_EQ(r0.mean_power_w, 0.0);
  auto r1 = pvtest::run_phase(1.0f, 50, 2.0f);
  EXPECT_NEAR(r1.mean_power_w, 1000.0, 5.0);
  EXPECT_EQ(r1.misfires, 0u);
  EXPECT_EQ(r1.straddles, 0u);
}

TEST(GateScheduler, JitterKeepsPowerAccurate) {
  for (float freq : {50.0f, 60.0f}) {
    for (float level : {0.2f, 0.5f, 0.8f}) {
      auto r = pvtest::run_phase(level, freq, 3.0f, 0.0f, 150);
      EXPECT_NEAR(r.mean_power_w / 1000.0, level, 0.005) << freq << " Hz, level " << level;
      EXPECT_EQ(r.misfires, 0u);
      EXPECT_EQ(r.straddles, 0u);
    }
  }
}

TEST(GateScheduler, SpuriousEdgesCauseNoMisfire) {
  // 200 spurious edges a second (2 per half-cycle at 50 Hz) on top of the real ones, +-50 us jitter
  for (float freq : {50.0f, 60.0f}) {
    for (float level : {0.05f, 0.3f, 0.7f, 0.97f}) {
      auto r = pvtest::run_phase(level, freq, 5.0f, 200.0f, 50, 0.05, 11, 1.0f);
      EXPECT_EQ(r.misfires, 0u) << freq << " Hz, level " << level << ", worst " << r.max_fraction_error;
      EXPECT_EQ(r.straddles, 0u);
      EXPECT_NEAR(r.mean_power_w / 1000.0, level, 0.01);
    }
  }
}

TEST(GateScheduler, NoiseBurstBetweenCrossingsIsRejected) {
  Driver d;
  d.s.set_phase_delay_q16(phase_delay_q16_for_power(0.5f));
  const uint32_t half = 10000;
  for (int k = 0; k < 10; k++)
    d.edge_at(1000 + k * half);
  ASSERT_TRUE(d.s.is_locked());
  uint32_t used = d.s.get_used_edge_count();
  // RobotDyn ringing: a burst of edges 1-3 ms after the crossing, and one in mid half-cycle
  for (uint32_t dt : {1000u, 1200u, 1500u, 3000u, 5000u})
    EXPECT_FALSE(d.s.on_edge(1000 + 9 * half + dt));
  for (int k = 10; k < 14; k++)
    d.edge_at(1000 + k * half);
  d.advance_to(1000 + 14 * half + 600);
  EXPECT_TRUE(d.s.is_locked());
  EXPECT_EQ(d.s.get_used_edge_count(), used + 5);
}

TEST(GateScheduler, OneMissingEdgeFlywheelsTwoMissingTurnTheGateOff) {
  const uint32_t half = 10000, t0 = 1000;
  // one missing edge (k = 12): still locked, still firing
  {
    Driver d;
    d.s.set_phase_delay_q16(phase_delay_q16_for_power(0.9f));
    for (int k = 0; k < 30; k++) {
      if (k == 12)
        continue;
      d.edge_at(t0 + k * half);
    }
    d.advance_to(t0 + 30 * half);
    EXPECT_TRUE(d.s.is_locked());
    EXPECT_EQ(d.s.get_unlock_count(), 0u);
    int rises = 0;
    for (auto &e : d.edges)
      rises += e.high;
    EXPECT_GE(rises, 26);
  }
  // edges stop after k = 19: the crossings at k = 20 and 21 are missing
  for (float level : {0.99f, 0.5f, 0.05f}) {
    Driver d;
    d.s.set_phase_delay_q16(phase_delay_q16_for_power(level));
    for (int k = 0; k < 20; k++)
      d.edge_at(t0 + k * half);
    d.advance_to(t0 + 40 * half);
    EXPECT_FALSE(d.s.is_locked());
    ASSERT_FALSE(d.edges.empty());
    EXPECT_FALSE(d.edges.back().high) << "gate left high";
    for (auto &e : d.edges) {
      if (e.high) {
        // no gate raised at or after the second missing crossing
        EXPECT_LT(e.time_us, t0 + 21 * half) << "level " << level;
      }
    }
    EXPECT_LE(d.edges.back().time_us, t0 + 21 * half + d.s.get_config().window_us + 1);
  }
}

TEST(GateScheduler, RelocksAfterMainsReturns) {
  Driver d;
  d.s.set_phase_delay_q16(phase_delay_q16_for_power(0.5f));
  const uint32_t half = 10000;
  for (int k = 0; k < 10; k++)
    d.edge_at(1000 + k * half);
  d.advance_to(1000 + 30 * half);
  EXPECT_FALSE(d.s.is_locked());
  for (int k = 30; k < 40; k++)
    d.edge_at(1000 + k * half + 3333);
  EXPECT_TRUE(d.s.is_locked());
}

TEST(GateScheduler, ZeroCrossOffsetShiftsTheFiring) {
  GateSchedulerConfig c;
  c.zero_cross_offset_us = -300;  // detector edge 300 us after the real crossing
  Driver d(c);
  d.s.set_phase_delay_q16(phase_delay_q16_for_power(0.5f));
  for (int k = 0; k < 10; k++)
    d.edge_at(1300 + k * 10000);
  d.advance_to(1300 + 10 * 10000);
  ASSERT_FALSE(d.edges.empty());
  uint32_t on = d.edges[d.edges.size() - 2].time_us;
  EXPECT_NEAR(static_cast<double>((on - 1000) % 10000), 5000.0, 2.0);
}

// ------------------------------------------------------------------ timer steps (ESP8266 / ESP32 glue)
TEST(TimerStep, PollStepIsTheTimeToTheNextEventWithinBounds) {
  Driver d;
  d.s.set_phase_delay_q16(phase_delay_q16_for_power(0.5f));
  const uint32_t half = 10000, t0 = 1000;
  for (int k = 0; k < 6; k++)
    d.edge_at(t0 + k * half);
  ASSERT_TRUE(d.s.is_locked());
  const uint32_t zc = t0 + 5 * half;
  d.advance_to(zc + 600);  // window closed, gate due at zc + 5000
  bool gate = true;
  EXPECT_EQ(d.s.poll_step(zc + 600, 4, 500, &gate), 500u);  // next event 4400 us away: capped
  EXPECT_FALSE(gate);
  EXPECT_EQ(d.s.poll_step(zc + 4800, 4, 500, &gate), 200u);  // exactly to the gate's rise
  EXPECT_FALSE(gate);
  EXPECT_EQ(d.s.poll_step(zc + 4999, 4, 500, &gate), 4u);  // 1 us away: the timer's minimum
  EXPECT_EQ(d.s.poll_step(zc + 5000, 4, 500, &gate), 500u);
  EXPECT_TRUE(gate);
  // unlocked: polled at the maximum step, gate off
  GateScheduler idle;
  idle.configure(GateSchedulerConfig{});
  EXPECT_EQ(idle.poll_step(123, 5, 500, &gate), 500u);
  EXPECT_FALSE(gate);
}

TEST(TimerStep, Esp8266CallbackAnswersCpuCyclesNotMicroseconds) {
  EXPECT_EQ(us_to_cycles(500, 80), 40000u);
  EXPECT_EQ(us_to_cycles(500, 160), 80000u);
  EXPECT_EQ(us_to_cycles(1, 80), ESP8266_TIMER1_MIN_US * 80);  // the core's minimum
  EXPECT_EQ(us_to_cycles(0, 160), ESP8266_TIMER1_MIN_US * 160);
  EXPECT_EQ(us_to_cycles(UINT32_MAX, 160), ESP8266_TIMER1_MAX_US * 160);  // clamped: no overflow
  static_assert(us_to_cycles(UINT32_MAX, 160) < (1u << 31), "the core compares cycle counts as int32");
}

/// The ESP8266 glue against a model of the core's timer1: a CPU cycle counter at `mhz`, the callback
/// run again after the cycles it returned (within the core's limits), zero-cross interrupts at the
/// detector edges. Returns the callbacks per second and the worst gate-rise error (us).
static std::pair<double, double> run_timer1_model(uint32_t mhz, float level, double seconds) {
  GateScheduler s;
  s.configure(GateSchedulerConfig{});
  s.set_phase_delay_q16(phase_delay_q16_for_power(level));
  const uint64_t half_cycles = static_cast<uint64_t>(10000) * mhz;  // 50 Hz, in CPU cycles
  const uint64_t end = static_cast<uint64_t>(seconds * 1e6) * mhz;
  const double delay_us = phase_angle_for_power(level) / PI * 10000.0;
  uint64_t next_cb = 0, next_zc = 1000ull * mhz, callbacks = 0;
  bool gate = false;
  double worst = 0;
  while (next_cb < end) {
    if (next_zc <= next_cb) {
      s.on_edge(static_cast<uint32_t>(next_zc / mhz));
      next_zc += half_cycles;
      continue;
    }
    const uint32_t now_us = static_cast<uint32_t>(next_cb / mhz);
    bool on;
    // exactly what pv_client_timer_isr() answers
    const uint32_t cycles = us_to_cycles(s.poll_step(now_us, ESP8266_TIMER1_MIN_US, 500, &on), mhz);
    if (on && !gate && s.get_half_cycle_index() > 2) {
      const double since_zc = static_cast<double>(now_us - s.get_zero_cross_us());
      worst = std::max(worst, std::fabs(since_zc - delay_us));
    }
    gate = on;
    callbacks++;
    uint64_t step = cycles;
    step = std::max<uint64_t>(step, ESP8266_TIMER1_MIN_US * mhz);  // the core's own limits
    step = std::min<uint64_t>(step, ESP8266_TIMER1_MAX_US * mhz);
    next_cb += step;
  }
  return {callbacks / seconds, worst};
}

TEST(TimerStep, Esp8266Timer1ModelFiresOnTimeAndRarely) {
  for (uint32_t mhz : {80u, 160u}) {
    for (float level : {0.1f, 0.5f, 0.9f}) {
      auto [rate, worst] = run_timer1_model(mhz, level, 2.0);
      // at least every 500 us, plus a few events per half-cycle: ~2000-2400 a second. Microseconds
      // taken for cycles would make it 80 to 160 times more (an interrupt every 3-6 us).
      EXPECT_GE(rate, 2000.0) << mhz << " MHz";
      EXPECT_LE(rate, 2600.0) << mhz << " MHz";
      EXPECT_LE(worst, 1.0) << mhz << " MHz, level " << level;  // the gate rises at its event
    }
  }
}

// ------------------------------------------------------------------ burst
struct BurstStats {
  std::vector<int> fired;  // per half-cycle 0/1
};

static BurstStats run_burst(float level, int half_cycles) {
  Driver d;
  d.s.set_method(FIRE_METHOD_BURST);
  d.s.set_burst_level_q16(static_cast<uint32_t>(std::lround(level * 65536.0)));
  const uint32_t half = 10000, t0 = 1000;
  for (int k = 0; k < 4; k++)
    d.edge_at(t0 + k * half);
  size_t start = d.edges.size();
  uint32_t first = t0 + 3 * half;
  for (int k = 4; k < 4 + half_cycles; k++)
    d.edge_at(t0 + k * half);
  d.advance_to(t0 + (4 + half_cycles) * half);
  BurstStats st;
  st.fired.assign(half_cycles, 0);
  for (size_t i = start; i < d.edges.size(); i++) {
    if (!d.edges[i].high)
      continue;
    int k = static_cast<int>((d.edges[i].time_us - first) / half);
    if (k >= 0 && k < half_cycles)
      st.fired[k] = 1;
  }
  return st;
}

TEST(Burst, DeliversTheLevelWithNoDcAndEvenSpread) {
  for (float level : {0.01f, 0.1f, 0.25f, 1.0f / 3, 0.5f, 0.6f, 0.75f, 0.9f, 0.99f, 1.0f}) {
    const int n = 6000;
    auto st = run_burst(level, n);
    int total = 0, dc = 0, worst_dc = 0;
    for (int k = 0; k < n; k++) {
      if (st.fired[k]) {
        total++;
        dc += (k % 2 == 0) ? 1 : -1;
      }
      worst_dc = std::max(worst_dc, std::abs(dc));
    }
    EXPECT_NEAR(total / static_cast<double>(n), level, 2.0 / n + 1e-4) << "level " << level;
    EXPECT_LE(worst_dc, 1) << "DC imbalance at level " << level;
    // evenness: every window of 50 half-cycles holds level*50 +- 2 fired half-cycles
    if (level >= 0.04f) {
      for (int k = 0; k + 50 <= n; k += 7) {
        int w = 0;
        for (int j = k; j < k + 50; j++)
          w += st.fired[j];
        EXPECT_NEAR(w, level * 50, 2.01) << "level " << level << " window " << k;
      }
    }
    // no low-frequency bursts: runs of conducted half-cycles never exceed what the level needs
    int run = 0, worst_run = 0;
    for (int k = 0; k < n; k++) {
      run = st.fired[k] ? run + 1 : 0;
      worst_run = std::max(worst_run, run);
    }
    if (level <= 0.5f) {
      EXPECT_LE(worst_run, 2) << "level " << level;
    }
  }
}

// ------------------------------------------------------------------ follow logic
TEST(Follow, AutoIsMaxOfRatioAndManual) {
  FollowLogic f;
  f.set_ratio(30, 1000);
  EXPECT_FLOAT_EQ(f.level_percent(1000), 30);
  f.set_manual(50);
  EXPECT_FLOAT_EQ(f.level_percent(1000), 50);
  f.set_ratio(80, 1100);
  EXPECT_FLOAT_EQ(f.level_percent(1100), 80);
  f.set_ratio(150, 1200);
  EXPECT_FLOAT_EQ(f.level_percent(1200), 100);
  f.set_ratio(-5, 1300);
  EXPECT_FLOAT_EQ(f.level_percent(1300), 50);
}

TEST(Follow, Modes) {
  FollowLogic f;
  f.set_ratio(70, 0);
  f.set_manual(20);
  f.set_mode(FOLLOW_MODE_OFF);
  EXPECT_FLOAT_EQ(f.level_percent(10), 0);
  f.set_mode(FOLLOW_MODE_FORCED);
  EXPECT_FLOAT_EQ(f.level_percent(10), 20);
  EXPECT_FLOAT_EQ(f.level_percent(100000), 20);  // forced ignores staleness
  f.set_mode(FOLLOW_MODE_AUTO);
  EXPECT_FLOAT_EQ(f.level_percent(10), 70);
  FollowMode m;
  EXPECT_TRUE(follow_mode_from_string("forced", &m));
  EXPECT_EQ(m, FOLLOW_MODE_FORCED);
  EXPECT_FALSE(follow_mode_from_string("Forced", &m));
  EXPECT_STREQ(follow_mode_to_string(FOLLOW_MODE_OFF), "off");
}

TEST(Follow, TimeoutDropsToZeroInAutoAndRecovers) {
  FollowLogic f;
  f.set_timeout_ms(5000);
  EXPECT_TRUE(f.is_stale(0));  // nothing received yet
  EXPECT_FLOAT_EQ(f.level_percent(0), 0);
  f.set_manual(10);
  f.set_ratio(60, 1000);
  EXPECT_FLOAT_EQ(f.level_percent(6000), 60);
  EXPECT_FALSE(f.is_stale(6000));
  EXPECT_TRUE(f.is_stale(6001));
  EXPECT_FLOAT_EQ(f.level_percent(6001), 0);
  f.set_ratio(NAN, 6500);  // the transport lost the provider: not fresh
  EXPECT_TRUE(f.is_stale(6500));
  f.set_ratio(40, 7000);
  EXPECT_FLOAT_EQ(f.level_percent(7000), 40);
  f.set_ratio(NAN, 7100);  // the gateway lost its ATmega: level 0 at once, not after a timeout
  EXPECT_TRUE(f.is_stale(7100));
  EXPECT_FLOAT_EQ(f.level_percent(7100), 0);
  f.set_ratio(40, 7200);
  EXPECT_FLOAT_EQ(f.level_percent(7200), 40);
  // uint32 millis wrap
  f.set_ratio(40, 0xFFFFFF00u);
  EXPECT_FALSE(f.is_stale(0x00000100u));
}

// ------------------------------------------------------------------ gateway_url polling
TEST(Follow, AllottedWattsAreARatioOfTheLoadsOwnRating) {
  FollowLogic f;
  f.set_allotted_w(750.0f, 1500.0f, 0);  // a 1500-W load given 750 W: half
  EXPECT_FLOAT_EQ(f.level_percent(0), 50.0f);
  f.set_allotted_w(750.0f, 3000.0f, 100);  // the same watts to a rating changed in the load alone
  EXPECT_FLOAT_EQ(f.level_percent(100), 25.0f);
  f.set_allotted_w(5000.0f, 1500.0f, 200);  // more than it can take: full, never beyond
  EXPECT_FLOAT_EQ(f.level_percent(200), 100.0f);
  f.set_allotted_w(NAN, 1500.0f, 300);  // the gateway lost its ATmega: stale at once
  EXPECT_TRUE(f.is_stale(300));
  EXPECT_FLOAT_EQ(f.level_percent(300), 0.0f);
}

TEST(Follow, OffersItsRatingOnlyInAutoWithAWorkingDimmer) {
  FollowLogic f;
  EXPECT_FLOAT_EQ(f.offered_w(1500.0f, true), 1500.0f);
  EXPECT_FLOAT_EQ(f.offered_w(1500.0f, false), 0.0f);  // no mains lock: it could not deliver
  f.set_mode(FOLLOW_MODE_FORCED);
  EXPECT_FLOAT_EQ(f.offered_w(1500.0f, true), 0.0f);
  f.set_mode(FOLLOW_MODE_OFF);
  EXPECT_FLOAT_EQ(f.offered_w(1500.0f, true), 0.0f);
}

TEST(GatewayPoll, CadenceWhileAnsweringBackOffAfterFailures) {
  GatewayPollSchedule p;
  EXPECT_TRUE(p.due(0));  // the first poll at once
  p.on_answer(100, 30);
  EXPECT_FALSE(p.due(1099));
  EXPECT_TRUE(p.due(1100));  // every second while VO2 > 0
  p.on_answer(1100, 0);
  EXPECT_FALSE(p.due(11099));
  EXPECT_TRUE(p.due(11100));  // every 10 s at 0, as the old client
  EXPECT_EQ(p.freshness_ms(5000), 15000u);
  // failures: 1, 2, 4 ... 32 s, then 60 s, never more
  uint32_t t = 20000;
  std::vector<uint32_t> waits;
  for (int i = 0; i < 10; i++) {
    waits.push_back(p.on_failure(t));
    EXPECT_FALSE(p.due(t + waits.back() - 1));
    EXPECT_TRUE(p.due(t + waits.back()));
    t += waits.back();
  }
  EXPECT_EQ(waits, (std::vector<uint32_t>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000}));
  EXPECT_EQ(p.get_failures(), 10u);
  EXPECT_EQ(p.freshness_ms(5000), 15000u);  // the back-off does not stretch the freshness
  // an answer resets it
  p.on_answer(t, 50);
  EXPECT_EQ(p.get_failures(), 0u);
  EXPECT_TRUE(p.due(t + 1000));
  EXPECT_EQ(p.on_failure(t + 1000), 1000u);
  // millis wrap
  GatewayPollSchedule w;
  w.on_answer(0xFFFFFF00u, 10);
  EXPECT_FALSE(w.due(0x00000100u));
  EXPECT_TRUE(w.due(0xFFFFFF00u + 1000u));
}

/// The follow component's loop with gateway_url, in simulated time: each poll blocks the loop for
/// `answer_ms` when the gateway answers, `timeout_ms` when it does not; the loop runs every 10 ms.
struct PollLoopSim {
  FollowLogic logic;
  GatewayPollSchedule poll;
  uint32_t t{0};
  uint32_t timeout_ms{1500};
  uint32_t answer_ms{30};
  struct Sample {
    uint32_t t;
    float level;
  };
  std::vector<Sample> levels;
  std::vector<uint32_t> poll_times, fail_times;
  uint64_t blocked_ms{0};
  uint32_t last_answer{0};

  void run_until(uint32_t end, bool gateway_up, float vo2) {
    while (t < end) {
      if (this->poll.due(t)) {
        this->poll_times.push_back(t);
        if (gateway_up) {
          t += this->answer_ms;
          this->poll.on_answer(t, vo2);
          this->logic.set_timeout_ms(this->poll.freshness_ms(5000));
          this->logic.set_ratio(vo2, t);
          this->last_answer = t;
        } else {
          t += this->timeout_ms;
          this->blocked_ms += this->timeout_ms;
          this->poll.on_failure(t);
          this->fail_times.push_back(t);
        }
      } else {
        t += 10;
      }
      this->levels.push_back({t, this->logic.level_percent(t)});
    }
  }
  size_t polls_between(uint32_t a, uint32_t b) const {
    size_t n = 0;
    for (uint32_t p : this->poll_times)
      n += p >= a && p < b;
    return n;
  }
};

TEST(GatewayPoll, GatewayGoneFiveMinutesThenBack) {
  PollLoopSim sim;
  sim.run_until(60000, true, 50);  // a minute answering VO2 50
  EXPECT_NEAR(static_cast<double>(sim.polls_between(0, 60000)), 60.0, 2.0);
  EXPECT_FLOAT_EQ(sim.levels.back().level, 50);
  const uint32_t last_answer = sim.last_answer;
  sim.run_until(360000, false, 0);  // the gateway is gone for five minutes
  // level 0 once the last ratio is stale (period + timeout), late by at most one blocked poll
  for (const auto &s : sim.levels) {
    if (s.t > last_answer + 6000 + sim.timeout_ms && s.t < 360000) {
      ASSERT_FLOAT_EQ(s.level, 0) << "at " << s.t << " ms";
    }
    if (s.t >= 60000 && s.t <= last_answer + 6000) {
      ASSERT_FLOAT_EQ(s.level, 50) << "dropped early at " << s.t << " ms";
    }
  }
  // back-off: 10 tries in five minutes instead of ~120, the loop blocked 5 % of the time instead of 60 %
  EXPECT_LE(sim.fail_times.size(), 11u);
  EXPECT_GE(sim.fail_times.size(), 9u);
  EXPECT_LT(static_cast<double>(sim.blocked_ms) / 300000.0, 0.06);
  // in the last three minutes: one blocked poll a minute
  uint64_t late_blocked = 0;
  for (uint32_t f : sim.fail_times)
    late_blocked += f > 180000 ? sim.timeout_ms : 0;
  EXPECT_LE(late_blocked, 4u * sim.timeout_ms);
  // the gateway is back: found within the longest back-off, then the normal cadence again
  sim.run_until(480000, true, 40);
  uint32_t back = 0;
  for (const auto &s : sim.levels) {
    if (s.t >= 360000 && s.level == 40) {
      back = s.t;
      break;
    }
  }
  ASSERT_GT(back, 0u) << "never recovered";
  EXPECT_LE(back - 360000, GatewayPollSchedule::BACKOFF_MAX_MS + sim.timeout_ms + 100);
  EXPECT_NEAR(static_cast<double>(sim.polls_between(back + 1000, back + 51000)), 50.0, 2.0);
  EXPECT_EQ(sim.poll.get_failures(), 0u);
}

// ------------------------------------------------------------------ legacy JSON
TEST(LegacyApi, ParsesVo2FromRouteurAnswer) {
  const char *seed = R"({"FID":4187,"EIB":2092.77,"MPC":37.5,"REE":-90.43,"POR":784.76,"SPL":57,"VO2":0})";
  float v = -1;
  ASSERT_TRUE(parse_routeur_vo2(seed, std::strlen(seed), &v));
  EXPECT_FLOAT_EQ(v, 0);
  const char *spaced = "{ \"EIB\" : 1.5 ,\n \"VO2\" : 42 }";
  ASSERT_TRUE(parse_routeur_vo2(spaced, std::strlen(spaced), &v));
  EXPECT_FLOAT_EQ(v, 42);
  const char *decimal = R"({"VO2":12.5e0})";
  ASSERT_TRUE(parse_routeur_vo2(decimal, std::strlen(decimal), &v));
  EXPECT_FLOAT_EQ(v, 12.5f);
  for (const char *bad : {"", "{}", R"({"VO2":})", R"({"VO2":"12"})", R"({"VO2":1)", R"({"XVO2":5})",
                          R"({"a":{"VO2":5}})", R"({"note":"\"VO2\":7"})", "not json"}) {
    float w = -1;
    EXPECT_FALSE(parse_routeur_vo2(bad, std::strlen(bad), &w)) << bad;
  }
  const char *nested = R"({"a":{"VO2":5},"VO2":9})";
  ASSERT_TRUE(parse_routeur_vo2(nested, std::strlen(nested), &v));
  EXPECT_FLOAT_EQ(v, 9);
}

TEST(LegacyApi, ParamAndInfo) {
  float r = -1;
  const char *body = R"({"ratio": 35})";
  ASSERT_TRUE(parse_param_ratio(body, std::strlen(body), &r));
  EXPECT_FLOAT_EQ(r, 35);
  for (const char *bad : {R"({"ratio": 101})", R"({"ratio": -1})", R"({"ratio": "x"})", R"({"rate": 5})", ""}) {
    EXPECT_FALSE(parse_param_ratio(bad, std::strlen(bad), &r)) << bad;
  }
  char buf[64];
  render_info_json(buf, sizeof(buf), 42.4f);
  EXPECT_STREQ(buf, R"({"VO2":42})");
  render_param_json(buf, sizeof(buf), 35, 0);
  EXPECT_STREQ(buf, R"({"ratio":35,"error":0})");
  render_param_json(buf, sizeof(buf), 10, 1);
  EXPECT_STREQ(buf, R"({"ratio":10,"error":1})");
}

// ------------------------------------------------------------------ POST /api/param, request by request
static bool param_ok(const std::string &body, float *r) { return parse_param_ratio(body.data(), body.size(), r); }

TEST(LegacyParam, RatioTextIsAnIntegerFrom0To100) {
  float r = -1;
  for (auto [text, value] : std::vector<std::pair<const char *, float>>{{"0", 0}, {"7", 7}, {"35", 35}, {"100", 100}}) {
    ASSERT_TRUE(parse_ratio_text(text, std::strlen(text), &r)) << text;
    EXPECT_FLOAT_EQ(r, value);
  }
  for (const char *bad : {"", "101", "1000", "-1", "-0", "+5", "007", "00", "3.5", "35.0", "1e2", "35 ", " 35", "abc",
                          "3a", "0x10"}) {
    r = -1;
    EXPECT_FALSE(parse_ratio_text(bad, std::strlen(bad), &r)) << "'" << bad << "'";
    EXPECT_FLOAT_EQ(r, -1) << "output touched for '" << bad << "'";
  }
  EXPECT_FALSE(parse_ratio_text(nullptr, 0, &r));
}

TEST(LegacyParam, BodyAcceptsExactlyOneRatioWithAnyJsonWhitespace) {
  float r = -1;
  for (auto [body, value] : std::vector<std::pair<std::string, float>>{
           {R"({"ratio":35})", 35},
           {R"({"ratio": 35})", 35},
           {R"({ "ratio" : 0 })", 0},
           {"\r\n{\t\"ratio\"\n:\r100\t}\r\n", 100},
           {R"(   {"ratio":   7}   )", 7}}) {
    r = -1;
    ASSERT_TRUE(param_ok(body, &r)) << body;
    EXPECT_FLOAT_EQ(r, value) << body;
  }
}

TEST(LegacyParam, EveryMalformedBodyIsRejectedAndChangesNothing) {
  const std::vector<std::string> bad = {
      "",                                  // empty
      " \r\n",                             // only whitespace
      "{",                                 // truncated
      R"({"ratio")",                       // truncated after the key
      R"({"ratio":)",                      // truncated before the value
      R"({"ratio": 5)",                    // a prefix of {"ratio": 55}
      R"({"ratio": 5,)",                   // a prefix of a longer object
      R"({"ratio": 55}x)",                 // trailing garbage
      R"({"ratio": 55}})",                 // trailing brace
      R"({"ratio": 5}{"ratio": 6})",       // two objects
      std::string(R"({"ratio":5})") + '\0',  // trailing NUL
      R"({"rate": 5})",                    // wrong key
      R"({"Ratio": 5})",                   // keys are case-sensitive
      R"({"ratio ": 5})",                  // key with a space
      R"({ratio: 5})",                     // unquoted key
      R"({"ratio": 5, "mode": 1})",        // a second key
      R"({"mode": 1, "ratio": 5})",        // the ratio as second key
      R"({"ratio": 5, "ratio": 6})",       // duplicate key
      R"({"a": {"ratio": 5}})",            // nested
      R"([{"ratio": 5}])",                 // array
      R"("ratio": 5)",                     // no braces
      R"({"ratio" 5})",                    // no colon
      R"({"ratio": "5"})",                 // string
      R"({"ratio": true})",                // not a number
      R"({"ratio": null})",                // not a number
      R"({"ratio": })",                    // no value
      R"({"ratio": 101})",                 // out of range
      R"({"ratio": 1000})",                // out of range
      R"({"ratio": -1})",                  // negative
      R"({"ratio": -0})",                  // negative zero
      R"({"ratio": +5})",                  // sign (not JSON)
      R"({"ratio": 05})",                  // leading zero (not JSON)
      R"({"ratio": 35.5})",                // decimals: the ratio is an integer percent
      R"({"ratio": 35.0})",                // decimals
      R"({"ratio": 3.5e1})",               // exponent
      R"({"ratio": 1e2})",                 // exponent
      R"({"ratio": 3 5})",                 // space inside the number
      R"({"ratio": NaN})",                 // not JSON
      "ratio=35",                          // a form sent as a raw body
  };
  for (const auto &body : bad) {
    float r = -1;
    EXPECT_FALSE(param_ok(body, &r)) << "'" << body << "'";
    EXPECT_FLOAT_EQ(r, -1) << "output touched for '" << body << "'";
    BodyBuffer b{};
    b.add(reinterpret_cast<const uint8_t *>(body.data()), body.size(), 0, body.size());
    EXPECT_EQ(param_request(&b, nullptr, 0).status, 400) << "'" << body << "'";
  }
}

/// A body handed over in pieces of the given sizes, as ESPAsyncWebServer's handleBody() does.
static BodyBuffer gather(const std::string &body, const std::vector<size_t> &sizes) {
  BodyBuffer b{};
  size_t index = 0;
  for (size_t n : sizes) {
    b.add(reinterpret_cast<const uint8_t *>(body.data()) + index, n, index, body.size());
    index += n;
  }
  return b;
}

TEST(LegacyParam, BodyInPiecesIsTakenOnlyWhenWhole) {
  const std::string body = R"({"ratio": 55})";
  // every split into two pieces, and one byte at a time: the whole body, 200
  for (size_t cut = 0; cut <= body.size(); cut++) {
    BodyBuffer b = gather(body, {cut, body.size() - cut});
    ASSERT_TRUE(b.complete()) << cut;
    ParamReply reply = param_request(&b, nullptr, 0);
    EXPECT_EQ(reply.status, 200) << cut;
    EXPECT_FLOAT_EQ(reply.ratio, 55);
  }
  BodyBuffer bytes = gather(body, std::vector<size_t>(body.size(), 1));
  EXPECT_EQ(param_request(&bytes, nullptr, 0).status, 200);
  // only the first pieces (the rest never came): a prefix such as {"ratio": 5 is never parsed
  for (size_t cut = 1; cut < body.size(); cut++) {
    BodyBuffer b = gather(body, {cut});
    EXPECT_FALSE(b.complete()) << cut;
    EXPECT_EQ(param_request(&b, nullptr, 0).status, 400) << cut;
  }
  // a piece missing in the middle, repeated, or out of order
  {
    BodyBuffer b{};
    auto *d = reinterpret_cast<const uint8_t *>(body.data());
    b.add(d, 5, 0, body.size());
    b.add(d + 9, body.size() - 9, 9, body.size());  // bytes 5..8 never came
    EXPECT_TRUE(b.broken);
    EXPECT_EQ(param_request(&b, nullptr, 0).status, 400);
  }
  {
    BodyBuffer b{};
    auto *d = reinterpret_cast<const uint8_t *>(body.data());
    b.add(d, 5, 0, body.size());
    b.add(d, 5, 0, body.size());  // the first piece again
    b.add(d + 5, body.size() - 5, 5, body.size());
    EXPECT_EQ(param_request(&b, nullptr, 0).status, 400);
  }
  {
    BodyBuffer b{};
    auto *d = reinterpret_cast<const uint8_t *>(body.data());
    b.add(d + 5, body.size() - 5, 5, body.size());  // the first piece is missing
    b.add(d, 5, 0, body.size());
    EXPECT_EQ(param_request(&b, nullptr, 0).status, 400);
  }
  {
    BodyBuffer b{};  // more bytes than announced
    const std::string longer = body + " ";
    b.add(reinterpret_cast<const uint8_t *>(longer.data()), longer.size(), 0, body.size());
    EXPECT_EQ(param_request(&b, nullptr, 0).status, 400);
  }
  {
    BodyBuffer b{};  // a second piece announcing another total
    auto *d = reinterpret_cast<const uint8_t *>(body.data());
    b.add(d, 5, 0, body.size());
    b.add(d + 5, body.size() - 5, 5, body.size() + 1);
    EXPECT_EQ(param_request(&b, nullptr, 0).status, 400);
  }
}

TEST(LegacyParam, BodyLongerThanTheBufferIsRefused413) {
  // exactly PARAM_BODY_MAX bytes (padded with whitespace): still taken
  std::string fits = R"({"ratio": 42})";
  fits += std::string(PARAM_BODY_MAX - fits.size(), ' ');
  BodyBuffer b = gather(fits, {60, fits.size() - 60});
  ASSERT_EQ(fits.size(), PARAM_BODY_MAX);
  EXPECT_EQ(param_request(&b, nullptr, 0).status, 200);
  // one byte more, in one piece or in many: 413, nothing stored, whatever its content
  const std::string too_long = fits + " ";
  for (const auto &sizes : std::vector<std::vector<size_t>>{{too_long.size()}, {10, too_long.size() - 10}, {1}}) {
    BodyBuffer t = gather(too_long, sizes);
    EXPECT_TRUE(t.too_long());
    EXPECT_EQ(t.len, 0u);
    ParamReply reply = param_request(&t, "35", 2);
    EXPECT_EQ(reply.status, 413);
  }
  // a long body whose first bytes are a valid request: refused all the same
  std::string padded = std::string(R"({"ratio": 5})") + std::string(200, ' ');
  BodyBuffer p = gather(padded, {12, padded.size() - 12});
  EXPECT_EQ(param_request(&p, nullptr, 0).status, 413);
}

TEST(LegacyParam, QueryOrFormFieldOnlyWithoutABody) {
  ParamReply reply = param_request(nullptr, "35", 2);
  EXPECT_EQ(reply.status, 200);
  EXPECT_FLOAT_EQ(reply.ratio, 35);
  for (const char *bad : {"", "101", "-3", "3.5", "x", " 35"})
    EXPECT_EQ(param_request(nullptr, bad, std::strlen(bad)).status, 400) << "'" << bad << "'";
  EXPECT_EQ(param_request(nullptr, nullptr, 0).status, 400);  // no body, no field (empty POST)
  // a bad body is not rescued by ?ratio=
  const std::string body = R"({"ratio": 5)";
  BodyBuffer b = gather(body, {body.size()});
  EXPECT_EQ(param_request(&b, "35", 2).status, 400);
  // a good body wins over the query
  const std::string good = R"({"ratio": 60})";
  BodyBuffer g = gather(good, {good.size()});
  reply = param_request(&g, "35", 2);
  EXPECT_EQ(reply.status, 200);
  EXPECT_FLOAT_EQ(reply.ratio, 60);
}

TEST(LegacyParam, FormContentTypes) {
  for (const char *form : {"application/x-www-form-urlencoded", "Application/X-WWW-Form-URLEncoded; charset=UTF-8",
                           "multipart/form-data; boundary=xyz"})
    EXPECT_TRUE(is_form_content_type(form)) << form;
  for (const char *other : {"application/json", "text/plain", "application/json; charset=utf-8", "", "form"})
    EXPECT_FALSE(is_form_content_type(other)) << other;
  EXPECT_FALSE(is_form_content_type(nullptr));
}
