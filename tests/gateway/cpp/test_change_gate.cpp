// GoogleTest unit tests of ChangeGate (change_gate.h): what reaches Home Assistant's recorder.
#include <gtest/gtest.h>

#include <cmath>

#include "change_gate.h"

using namespace esphome::routeur_pv;

namespace {

// Feeds one value a second for `seconds`; returns how many were published.
int published_over(ChangeGate &gate, float (*value)(int), int seconds, uint32_t start_ms = 0) {
  int count = 0;
  for (int t = 0; t < seconds; t++) {
    const uint32_t now = start_ms + uint32_t(t) * 1000u;
    if (gate.should_publish(value(t), now)) {
      gate.published(value(t), now);
      count++;
    }
  }
  return count;
}

}  // namespace

TEST(ChangeGate, NoiseBelowMinChangeGoesOutOncePerMinute) {
  ChangeGate gate;
  gate.set_min_change(10.0f);
  // -5 W +- 4 W of noise for an hour: the first value, then the heartbeat
  const int n = published_over(gate, [](int t) { return -5.0f + float((t * 37) % 9) - 4.0f; }, 3600);
  EXPECT_EQ(n, 60);
}

TEST(ChangeGate, ARealStepGoesOutAtOnce) {
  ChangeGate gate;
  gate.set_min_change(10.0f);
  ASSERT_TRUE(gate.should_publish(800.0f, 0));
  gate.published(800.0f, 0);
  EXPECT_FALSE(gate.should_publish(805.0f, 1000));
  EXPECT_TRUE(gate.should_publish(1400.0f, 2000));
  EXPECT_TRUE(gate.should_publish(790.0f, 2000));  // down as well as up
}

TEST(ChangeGate, UnknownAndKnownAgainAlwaysGoOut) {
  ChangeGate gate;
  gate.set_min_change(1000.0f);
  gate.published(230.0f, 0);
  EXPECT_TRUE(gate.should_publish(NAN, 1000));  // link lost: unknown at once
  gate.published(NAN, 1000);
  EXPECT_FALSE(gate.should_publish(NAN, 90000));  // still unknown: nothing new, even past the heartbeat
  EXPECT_TRUE(gate.should_publish(230.0f, 91000));
}

TEST(ChangeGate, ZeroMinChangePublishesEveryChangeOnly) {
  ChangeGate gate;  // channel 2 ratio: clients follow every step
  gate.published(20.0f, 0);
  EXPECT_TRUE(gate.should_publish(21.0f, 100));
  EXPECT_FALSE(gate.should_publish(20.0f, 100));
}

TEST(ChangeGate, HeartbeatSurvivesTheMillisWrap) {
  ChangeGate gate;
  gate.set_min_change(10.0f);
  gate.published(1.0f, 0xFFFFF000u);
  EXPECT_FALSE(gate.should_publish(2.0f, 0xFFFFFF00u));
  EXPECT_TRUE(gate.should_publish(2.0f, 0xFFFFF000u + ChangeGate::DEFAULT_HEARTBEAT_MS));
}

TEST(ChangeGate, ZeroCanGoOutAtOnceWhateverTheStep) {
  // The channel-1 lease (s): its 5 -> 3 -> 5 renewals stay below min_change, its end at 0 does not.
  ChangeGate gate;
  gate.set_min_change(5.0f);
  gate.set_zero_goes_out(true);
  gate.published(0.0f, 0);
  ASSERT_TRUE(gate.should_publish(5.0f, 1000));
  gate.published(5.0f, 1000);
  EXPECT_FALSE(gate.should_publish(3.0f, 2000));
  EXPECT_FALSE(gate.should_publish(1.0f, 3000));
  EXPECT_TRUE(gate.should_publish(0.0f, 3000));
  gate.published(0.0f, 3000);
  EXPECT_FALSE(gate.should_publish(0.0f, 4000));  // no change, no row
  ChangeGate plain;
  plain.set_min_change(5.0f);
  plain.published(1.0f, 0);
  EXPECT_FALSE(plain.should_publish(0.0f, 1000));
}
