#include <initializer_list>
#include "mains_model.h"
#include "mini_test.h"
#include "zero_cross.h"

namespace {

struct Run {
  zc::ZeroCrossDetector detector;
  int positives = 0, negatives = 0, missed = 0, lost = 0;
  double worst_error_us = 0.0;         // every crossing event (also before the tracker settled)
  double worst_stable_error_us = 0.0;  // while stable(): the crossings the gate is timed from
};

// Feeds the voltage samples (one every pair, 104 us) of `model` from t0 for `seconds`.
void feed(Run& r, const MainsModel& model, double t0, double seconds, bool check_times = true) {
  const double pair_s = 2.0 * seconds_per_conversion();
  const double half = 0.5 / model.hz;
  for (double t = t0; t < t0 + seconds; t += pair_s) {
    const int16_t v = int16_t(int16_t(model.voltage_code(t) << cfg::kVoltageFracBits) - int16_t(cfg::kAdcBiasScaled));
    const uint8_t events = r.detector.on_voltage_sample_resolved(v, ticks_at(t));
    if (events & zc::kLost) ++r.lost;
    if (events & zc::kMissed) { ++r.missed; continue; }
    if (events & (zc::kPositive | zc::kNegative)) {
      (events & zc::kPositive) ? ++r.positives : ++r.negatives;
      if (!check_times) continue;
      // The true crossing is the latest multiple of a half-period before t.
      const double true_t = model.phase_s + floor((t - model.phase_s) / half) * half;
      const double error_us = double(int16_t(r.detector.crossing_ticks() - ticks_at(true_t))) * 0.5;
      if (fabs(error_us) > r.worst_error_us) r.worst_error_us = fabs(error_us);
      if (r.detector.stable() && fabs(error_us) > r.worst_stable_error_us) r.worst_stable_error_us = fabs(error_us);
    }
  }
}

}  // namespace

TEST(zero_cross_interpolation_is_linear) {
  // v goes from -30 to +10 over one pair (208 ticks): crossing 3/4 of the way.
  CHECK_NEAR(zc::ZeroCrossDetector::interpolate(-30, 10, 1000), 1000 + 156, 1);
  CHECK_NEAR(zc::ZeroCrossDetector::interpolate(40, -40, 65500), 68, 1);  // wraps
  CHECK_NEAR(zc::ZeroCrossDetector::interpolate(-1000, 1000, 0), 104, 1);  // large span: scaled down
}

TEST(zero_cross_locks_at_50hz_and_measures_the_period) {
  Run r;
  MainsModel model;
  model.phase_s = 0.0031;
  feed(r, model, 0.0, 1.0);
  CHECK(r.detector.stable());
  CHECK(r.positives >= 49 && r.negatives >= 49);
  CHECK_EQ(r.missed, 0);
  // Quantisation of the 10-bit ADC, ~22 counts per pair at zero; the tracker starts from one raw
  // half-period (a few ticks off) and has settled once stable().
  CHECK(r.worst_stable_error_us < 6.0);
  CHECK(r.worst_error_us < 12.0);
  CHECK_NEAR(r.detector.period_ticks(), 40000, 8);
  CHECK_NEAR(r.detector.half_period_ticks(), 20000, 4);
}

TEST(zero_cross_detects_60hz) {
  Run r;
  MainsModel model;
  model.hz = 60.0;
  model.phase_s = 0.0007;
  feed(r, model, 0.0, 1.0);
  CHECK(r.detector.stable());
  CHECK(r.worst_stable_error_us < 6.0);
  CHECK_NEAR(cfg::kTicksPerSecond / double(r.detector.period_ticks()), 60.0, 0.05);  // one period: +-5 us per end
}

TEST(zero_cross_accepts_45_and_65hz_only) {
  for (double hz : {45.5, 64.5}) {
    Run r;
    MainsModel model;
    model.hz = hz;
    feed(r, model, 0.0, 1.0);
    CHECK(r.detector.stable());
  }
  for (double hz : {40.0, 70.0}) {
    Run r;
    MainsModel model;
    model.hz = hz;
    feed(r, model, 0.0, 1.0, false);
    CHECK(!r.detector.stable());
  }
}

TEST(zero_cross_lost_mains_after_two_half_cycles) {
  Run r;
  MainsModel model;
  feed(r, model, 0.0, 0.5);
  CHECK(r.detector.stable());
  model.vrms = 0.0;  // mains cut
  const double cut = 0.5;
  const double pair_s = 2.0 * seconds_per_conversion();
  double lost_at = -1.0;
  for (double t = cut; t < cut + 0.1; t += pair_s) {
    const int16_t v = int16_t(int16_t(model.voltage_code(t) << cfg::kVoltageFracBits) - int16_t(cfg::kAdcBiasScaled));
    if ((r.detector.on_voltage_sample_resolved(v, ticks_at(t)) & zc::kLost) && lost_at < 0) lost_at = t;
  }
  CHECK(lost_at > 0);
  // Last real crossing at 0.5 s (phase 0); 2 missed half-cycles are declared at 60 % of a period each.
  CHECK(lost_at - cut < 0.025);
  CHECK(!r.detector.locked());
  // Mains back: re-acquired.
  model.vrms = 230.0;
  feed(r, model, 0.7, 0.2, false);
  CHECK(r.detector.stable());
}

TEST(zero_cross_ignores_noise_near_zero) {
  // A slow mains plus a burst of +-8-count noise: no extra crossings thanks to the hysteresis.
  Run r;
  MainsModel model;
  const double pair_s = 2.0 * seconds_per_conversion();
  int step = 0;
  for (double t = 0; t < 1.0; t += pair_s, ++step) {
    const double noise = (step % 2 ? 1.0 : -1.0) * 40.0;  // 8 counts of alternating noise
    const int16_t v = int16_t(int16_t(model.voltage_code(t, noise) << cfg::kVoltageFracBits) - int16_t(cfg::kAdcBiasScaled));
    const uint8_t events = r.detector.on_voltage_sample_resolved(v, ticks_at(t));
    if (events & zc::kPositive) ++r.positives;
    if (events & zc::kNegative) ++r.negatives;
    if (events & zc::kMissed) ++r.missed;
  }
  CHECK(r.positives >= 49 && r.positives <= 51);
  CHECK(r.negatives >= 49 && r.negatives <= 51);
  CHECK_EQ(r.missed, 0);
}
