// The crossing tracker of zero_cross.h (alpha-beta phase-locked filter) against a mains with ADC
// noise like the simulator's (--adc-noise-lsb 0.5: Gaussian, 0.5 LSB RMS), frequency steps,
// glitches and cuts. "Firable" below mirrors may_fire() (isr_state.h): the gate is only timed from
// a crossing that is stable(), not suspect() and not after too many missed ones.
#include <initializer_list>
#include <math.h>
#include <stdint.h>
#include "mains_model.h"
#include "mini_test.h"
#include "zero_cross.h"

namespace {

// Deterministic Gaussian noise (LCG + Box-Muller).
struct Gauss {
  uint64_t state = 0x2545F4914F6CDD1DULL;
  double uniform() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double((state >> 11) & ((1ULL << 53) - 1)) + 0.5) / double(1ULL << 53);
  }
  double next() { return sqrt(-2.0 * log(uniform())) * cos(2.0 * M_PI * uniform()); }
};

// Mains whose frequency steps from f0 to f1 at t_step with a continuous phase.
struct SteppedMains {
  double f0 = 50.0, f1 = 50.0, t_step = 1e9, phase_s = 0.0031, vrms = 230.0;
  double theta(double t) const {
    if (t < t_step) return 2.0 * M_PI * f0 * (t - phase_s);
    return 2.0 * M_PI * f0 * (t_step - phase_s) + 2.0 * M_PI * f1 * (t - t_step);
  }
  double volts(double t) const { return sqrt(2.0) * vrms * sin(theta(t)); }
  // Time of the n-th crossing (theta = n pi).
  double crossing(double n) const {
    const double at_step = theta(t_step);
    if (n * M_PI <= at_step) return phase_s + n / (2.0 * f0);
    return t_step + (n * M_PI - at_step) / (2.0 * M_PI * f1);
  }
  // The true crossing nearest to the estimate `ticks` (around t).
  double error_us(uint16_t ticks, double t) const {
    const double n = floor(theta(t) / M_PI);
    double best = 1e9;
    for (double k = n - 2; k <= n + 2; ++k) {
      const double e = double(int16_t(ticks - ticks_at(crossing(k)))) * 0.5;
      if (fabs(e) < fabs(best)) best = e;
    }
    return best;
  }
};

struct Stats {
  int events = 0, firable = 0, suspects = 0, missed = 0, lost = 0;
  double worst_firable_us = 0.0, sum_sq_us = 0.0, sum_us = 0.0;
  double raw_sum_sq_us = 0.0;
  int raw_count = 0;
  double last_unstable_t = -1.0;
};

const double kLsbMv = 5000.0 / 1024.0;

int16_t centred(uint16_t code) {
  return int16_t(int16_t(code << cfg::kVoltageFracBits) - int16_t(cfg::kAdcBiasScaled));
}

// Feeds one voltage sample per pair from t0 for `seconds`. noise_lsb: Gaussian RMS; glitch_at:
// the sample nearest this time gets glitch_mv added.
void run(zc::ZeroCrossDetector& d, Stats& s, const SteppedMains& m, double t0, double seconds,
         double noise_lsb, Gauss& g, double glitch_at = -1.0, double glitch_mv = 0.0) {
  const double pair_s = 2.0 * seconds_per_conversion();
  int16_t previous = 0;
  uint16_t previous_ticks = 0;
  for (double t = t0; t < t0 + seconds; t += pair_s) {
    double mv = 2500.0 + 5.0 * m.volts(t) + noise_lsb * kLsbMv * g.next();
    if (glitch_at >= 0.0 && fabs(t - glitch_at) < pair_s / 2) mv += glitch_mv;
    const int16_t v = centred(MainsModel::code(mv));
    // The raw two-sample interpolation, for comparison (what the gate used before the tracker).
    if (t > t0 + 0.5 && ((previous < 0) != (v < 0)) && fabs(sin(m.theta(t))) < 0.05) {
      const double e = m.error_us(zc::ZeroCrossDetector::interpolate(previous, v, previous_ticks), t);
      s.raw_sum_sq_us += e * e;
      ++s.raw_count;
    }
    previous = v;
    previous_ticks = ticks_at(t);
    const uint8_t events = d.on_voltage_sample_resolved(v, ticks_at(t));
    if (!(events & (zc::kPositive | zc::kNegative))) continue;
    ++s.events;
    if (events & zc::kMissed) ++s.missed;
    if (events & zc::kLost) ++s.lost;
    if (d.suspect()) ++s.suspects;
    if (!d.stable()) s.last_unstable_t = t;
    const bool firable = d.stable() && !d.suspect() && d.missed() < cfg::kMaxMissedHalfCycles;
    if (!firable) continue;
    ++s.firable;
    const double e = m.error_us(d.crossing_ticks(), t);
    s.sum_us += e;
    s.sum_sq_us += e * e;
    if (fabs(e) > s.worst_firable_us) s.worst_firable_us = fabs(e);
  }
}

}  // namespace

TEST(zc_tracker_filters_adc_noise_at_50_and_60hz) {
  for (double hz : {50.0, 60.0}) {
    zc::ZeroCrossDetector d;
    Stats s;
    Gauss g;
    SteppedMains m;
    m.f0 = m.f1 = hz;
    run(d, s, m, 0.0, 20.0, 0.5, g);
    const double rms = sqrt(s.sum_sq_us / s.firable);
    const double raw_rms = sqrt(s.raw_sum_sq_us / s.raw_count);
    printf("    %.0f Hz, 0.5 LSB: raw interpolation %.2f us RMS, tracker %.2f us RMS (mean %+.2f), "
           "worst %.2f us over %d crossings, %d suspect\n",
           hz, raw_rms, rms, s.sum_us / s.firable, s.worst_firable_us, s.firable, s.suspects);
    CHECK(s.firable > int(2 * hz * 20.0) - 20);
    CHECK(raw_rms > 3.0);                 // the problem: ~5 us RMS per raw crossing
    CHECK(rms < 0.55 * raw_rms);          // alpha 1/4, beta 1/32: x0.43 in theory
    CHECK(s.worst_firable_us < 10.0);     // requirement 20 us at the gate
    CHECK(fabs(s.sum_us / s.firable) < 1.0);  // no bias
    CHECK_EQ(s.missed, 0);
    CHECK_EQ(s.lost, 0);
    CHECK(s.suspects <= 2);               // Gaussian noise hardly ever looks like an outlier
    CHECK_EQ(d.reseeds(), 0);
  }
}

TEST(zc_tracker_has_no_lag_with_a_frequency_offset) {
  // 50.4 Hz and 59.6 Hz: the half-period is tracked (type 2 loop): no phase bias.
  for (double hz : {50.4, 49.6, 59.6}) {
    zc::ZeroCrossDetector d;
    Stats s;
    Gauss g;
    SteppedMains m;
    m.f0 = m.f1 = hz;
    run(d, s, m, 0.0, 0.5, 0.0, g);  // settle
    s = Stats();
    run(d, s, m, 0.5, 3.0, 0.0, g);
    CHECK(fabs(s.sum_us / s.firable) < 0.75);
    CHECK(s.worst_firable_us < 5.0);
    CHECK_NEAR(d.half_period_ticks(), cfg::kTicksPerSecond / hz / 2.0, 1.0);
    CHECK_NEAR(d.period_ticks(), cfg::kTicksPerSecond / hz, 2.0);
  }
}

TEST(zc_tracker_relocks_after_a_frequency_step_without_firing_wrongly) {
  // 50.0 -> 50.5 Hz at once (a 1 % step: far beyond a real grid, which drifts by mHz/s): every
  // crossing the gate could be timed from stays within 20 us; the tracker re-locks within 0.3 s.
  for (double f1 : {50.5, 49.5}) {
    zc::ZeroCrossDetector d;
    Stats s;
    Gauss g;
    SteppedMains m;
    m.f0 = 50.0;
    m.f1 = f1;
    m.t_step = 2.0037;
    run(d, s, m, 0.0, 2.0, 0.5, g);
    CHECK(d.stable());
    s = Stats();
    run(d, s, m, 2.0, 3.0, 0.5, g);
    printf("    50 -> %.1f Hz: worst firable %.2f us, %d suspect, %d re-seeds, stable again %.0f ms "
           "after the step\n", f1, s.worst_firable_us, s.suspects, d.reseeds(),
           (s.last_unstable_t - m.t_step) * 1e3);
    CHECK(s.worst_firable_us < 20.0);
    CHECK(s.last_unstable_t < m.t_step + 0.3);
    CHECK(d.stable());
    CHECK_NEAR(d.half_period_ticks(), cfg::kTicksPerSecond / f1 / 2.0, 2.0);
    CHECK_EQ(s.lost, 0);  // re-locked in place: no NO_ZERO_CROSS
  }
}

TEST(zc_tracker_rejects_an_outlier_and_keeps_the_prediction) {
  zc::ZeroCrossDetector d;
  Stats s;
  Gauss g;
  SteppedMains m;
  run(d, s, m, 0.0, 1.0, 0.5, g);
  CHECK(d.stable());
  // A +150 mV spike (30 V) on the sample just before a negative-going crossing: its interpolated
  // crossing is ~30 V / 0.1 V/us ~ 300 us late.
  const double crossing_t = m.crossing(2.0 * 60 + 1);  // a negative-going one after 1 s
  const double pair_s = 2.0 * seconds_per_conversion();
  // The sample grid from t = 0: the last sample before the crossing.
  const double glitch_t = floor(crossing_t / pair_s) * pair_s;
  s = Stats();
  int suspect_events = 0;
  double suspect_error = 1e9;
  const double pair = pair_s;
  for (double t = 1.0; t < 1.5; t += pair) {
    Stats one;
    run(d, one, m, t, pair * 0.5, 0.5, g, glitch_t, 150.0);
    if (one.suspects) {
      ++suspect_events;
      suspect_error = m.error_us(d.crossing_ticks(), t);
      CHECK(!(d.stable() && !d.suspect()));  // not firable
    }
    s.worst_firable_us = fmax(s.worst_firable_us, one.worst_firable_us);
    s.missed += one.missed;
    s.lost += one.lost;
  }
  CHECK_EQ(suspect_events, 1);
  CHECK(fabs(suspect_error) < 10.0);  // the prediction, not the glitch
  CHECK(s.worst_firable_us < 10.0);
  CHECK_EQ(d.reseeds(), 0);
  CHECK(d.stable());
  CHECK_EQ(s.missed, 0);
  CHECK_EQ(s.lost, 0);
}

TEST(zc_tracker_lost_mains_after_two_missed_half_cycles_and_relocks) {
  zc::ZeroCrossDetector d;
  Stats s;
  Gauss g;
  SteppedMains m;
  run(d, s, m, 0.0, 1.0, 0.5, g);
  CHECK(d.stable());
  m.vrms = 0.0;  // cut: noise only (hysteresis: no crossing)
  s = Stats();
  run(d, s, m, 1.0, 0.03, 0.5, g);
  CHECK_EQ(s.missed, 2);
  CHECK_EQ(s.lost, 1);
  CHECK(!d.locked());
  CHECK(s.worst_firable_us < 10.0);  // the one flywheel half-cycle is on the prediction
  m.vrms = 230.0;
  s = Stats();
  run(d, s, m, 1.2, 0.5, 0.5, g);
  CHECK(d.stable());
  CHECK(s.worst_firable_us < 12.0);
  CHECK(s.last_unstable_t < 1.2 + 0.15);
}
