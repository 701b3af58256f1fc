// Zero-crossing detection from the voltage samples (ISR context: integer only, no division:
// the interpolation uses an 8-step shift-and-subtract fraction).
// - A crossing is measured by linear interpolation between the two samples around the sign change.
// - Hysteresis in amplitude: a positive-going crossing needs the voltage to have been below
//   -kZcArmScaled since the last crossing (and the opposite), so noise at zero is ignored.
// - Hysteresis in time: once locked, a crossing must come ~40-60 % (+-3/16 of a half-period) of a
//   period after the previous one of the other sign; before that, a half-period for 45-65 Hz.
// - Once locked, the crossing used for the gate is FILTERED (the mains is a very stable clock; one
//   interpolation near 0 V, where the slope is ~0.1 LSB/us, moves ~5 us with 0.5 LSB of ADC noise):
//   an alpha-beta phase-locked tracker. Predicted crossing = previous filtered crossing + filtered
//   half-period; innovation e = measured - predicted; filtered = predicted + e/4, half-period +=
//   e/32 (both kept with 8 fractional bits: no dead band, no lag with a frequency offset, type 2).
//   Noise on the crossing: x0.43 RMS. A measurement with |e| above 8 x the running mean |e|
//   (kZcOutlierMinTicks..kZcOutlierMaxTicks) is an outlier: the prediction is kept and the
//   crossing is flagged suspect() (that half-cycle is not fired); a second outlier in a row
//   re-seeds the tracker from the measurements (a phase or frequency step), which then needs
//   kZcStableCrossings good crossings before stable() again.
// - When the expected crossing does not come (60 % of a period elapsed) a virtual crossing is made
//   at the predicted instant (flywheel, event kMissed); after kMaxMissedHalfCycles in a row the
//   detector is lost (event kLost) and has to re-acquire.
// Times are Timer1 ticks in 16-bit modular arithmetic (differences stay below 32 ms); the tracker
// holds them x 256 in 32 bits (modular too: the low 24 bits are ticks and fraction).
#pragma once
#include <stdint.h>
#include "config.h"

namespace zc {

enum EventBits : uint8_t {
  kPositive = 1,  // a positive-going crossing (measured, or virtual with kMissed)
  kNegative = 2,  // a negative-going crossing
  kMissed = 4,    // the crossing was not seen: its time is the prediction
  kLost = 8,      // too many missed crossings or a period out of 45-65 Hz: gate must stay off
};

enum class Lock : uint8_t { kSearching, kReference, kLocked };

class ZeroCrossDetector {
 public:
  void reset() { *this = ZeroCrossDetector(); }

  // v: voltage sample minus its DC offset, counts x cfg::kVoltageScale; t: its sampling instant.
  // Cheap part (every voltage sample): arming, sign change and interpolation, or the timeout.
  // Returns true when resolve() has something to decide; the caller runs it soon after (the ADC
  // pipeline does it in the next, lighter, ISR) and before the next voltage sample.
  bool on_voltage_sample(int16_t v, uint16_t t) {
    bool pending = false;
    if (v <= -cfg::kZcArmScaled) armed_positive_ = true;
    else if (v >= cfg::kZcArmScaled) armed_negative_ = true;
    if (previous_v_ < 0 && v >= 0 && armed_positive_) {
      candidate_sign_ = 1;
      pending = true;
    } else if (previous_v_ >= 0 && v < 0 && armed_negative_) {
      candidate_sign_ = -1;
      pending = true;
    } else if (timed_out(t)) {
      candidate_sign_ = 0;
      pending = true;
    }
    if (pending) candidate_ticks_ = interpolate(previous_v_, v, previous_t_);
    previous_v_ = v;
    previous_t_ = t;
    return pending;
  }

  // Decides on the candidate of on_voltage_sample(): returns EventBits (0 for a rejected one).
  // A crossing accepted while locked is only recorded: track() (the filter, ~10 us on the AVR)
  // runs in complete(), which the ADC pipeline calls one pair later (ISR budget); the crossing
  // time and suspect() are valid after it.
  __attribute__((noinline)) uint8_t resolve() {
    if (candidate_sign_ == 0) return take_missed();
    return accept(candidate_sign_, candidate_ticks_) ? take_crossing(candidate_sign_, candidate_ticks_) : 0;
  }

  // Second step of a resolved crossing (the tracker); may add kLost. Harmless when nothing waits.
  __attribute__((noinline, optimize("O2"))) uint8_t complete() {
    if (!track_pending_) return 0;
    track_pending_ = false;
    track(pending_measured_);
    if (!half_in_range(half_period_)) {  // the filter left 45-65 Hz: start again from here
      lock_ = Lock::kReference;
      set_phase(uint32_t(pending_measured_) << 8);
      suspect_ = false;
      return kLost;
    }
    return 0;
  }

  // Both steps at once (tests, or a caller with time to spare).
  uint8_t on_voltage_sample_resolved(int16_t v, uint16_t t) {
    if (!on_voltage_sample(v, t)) return 0;
    const uint8_t events = resolve();
    return uint8_t(events | complete());
  }

  Lock lock() const { return lock_; }

  bool locked() const { return lock_ == Lock::kLocked; }
  // Locked, the tracker settled (kZcStableCrossings good crossings since the lock): safe to fire.
  bool stable() const { return lock_ == Lock::kLocked && good_crossings_ >= cfg::kZcStableCrossings; }
  // The last crossing was measured far from the prediction: its time is the prediction, but this
  // half-cycle must not be fired (a glitch, or the start of a phase/frequency step).
  bool suspect() const { return suspect_; }
  // Last crossing (filtered, measured or virtual), rounded to a tick.
  uint16_t crossing_ticks() const { return uint16_t((phase_q8_ + 128u) >> 8); }
  uint16_t half_period_ticks() const { return half_period_; }     // filtered, rounded
  uint16_t period_ticks() const { return period_; }                // positive-to-positive (filtered)
  bool period_valid() const { return period_valid_; }              // both ends seen, in range
  uint8_t missed() const { return missed_; }
  int8_t last_sign() const { return last_sign_; }
  uint16_t outlier_threshold_ticks() const { return outlier_threshold(); }
  uint16_t reseeds() const { return reseeds_; }                    // diagnostics / tests

  // Linear interpolation between (t0, v0) and (t0 + one pair, v1) of where v crosses 0.
  static uint16_t interpolate(int16_t v0, int16_t v1, uint16_t t0) {
    uint16_t before = uint16_t(v0 < 0 ? -v0 : v0);            // distance to zero of v0
    uint16_t span = uint16_t(v0 < 0 ? v1 - v0 : v0 - v1);     // |v1 - v0| (signs differ)
    while (span > 255) { before >>= 1; span >>= 1; }           // 8-bit operands
    if (span == 0) return t0;
    // before / span in 1/256ths (before <= span): restoring division, 8 quotient bits.
    uint8_t fraction = 0;
    uint16_t remainder = before;
    for (uint8_t bit = 0; bit < 8; ++bit) {
      remainder = uint16_t(remainder << 1);
      fraction = uint8_t(fraction << 1);
      if (remainder >= span) {
        remainder = uint16_t(remainder - span);
        fraction |= 1;
      }
    }
    const uint16_t offset = uint16_t((uint16_t(fraction) * cfg::kTicksPerPair + 128) >> 8);
    return uint16_t(t0 + offset);
  }

 private:
  // After a (re)lock the outlier threshold starts at its maximum and decays to 8 x mean |e| (gain
  // 1/16): the seed half-period (one raw difference) may be a few ticks off.
  static constexpr uint16_t kNoiseAtLock = 2 * cfg::kZcOutlierMaxTicks;

  bool accept(int8_t sign, uint16_t crossing) const {
    const uint16_t elapsed = uint16_t(crossing - last_crossing_);
    switch (lock_) {
      case Lock::kSearching: return true;
      case Lock::kReference:
        return sign == expected_sign_ && elapsed >= cfg::kMinHalfPeriodTicks &&
               elapsed <= cfg::kMaxHalfPeriodTicks;
      case Lock::kLocked:
      default:
        return sign == expected_sign_ && elapsed >= window_low_ && elapsed <= window_high_;
    }
  }

  uint16_t outlier_threshold() const {
    const uint16_t t = uint16_t(noise_q4_ >> 1);  // 8 x mean |e|
    return t < cfg::kZcOutlierMinTicks ? cfg::kZcOutlierMinTicks
                                       : t > cfg::kZcOutlierMaxTicks ? cfg::kZcOutlierMaxTicks : t;
  }

  // Integer views of the tracker: window and the raw-time references.
  void set_phase(uint32_t phase_q8) {
    phase_q8_ = phase_q8;
    last_crossing_ = uint16_t(phase_q8 >> 8);
  }
  __attribute__((optimize("O2"))) void set_half_period_q8(uint32_t half_q8) {
    half_q8_ = half_q8;
    const uint16_t half = uint16_t((half_q8 + 128u) >> 8);
    half_period_ = half;
    // Shifts only (ISR): the tolerance is half * kHalfWindowTolerance16ths / 16.
    const uint16_t tolerance = uint16_t((half >> 4) * cfg::kHalfWindowTolerance16ths);
    window_low_ = uint16_t(half - tolerance);
    window_high_ = uint16_t(half + tolerance);
  }
  static bool half_in_range(uint16_t half) {
    return half >= cfg::kMinHalfPeriodTicks && half <= cfg::kMaxHalfPeriodTicks;
  }

  // (e x 256 - fraction) / 2^kShift: a gain applied to the innovation e (ticks) less the predicted
  // crossing's fraction, in Q8 and 16 bits. A multiply, not a shift: e is negative half the time
  // (the compiler emits the shift all the same); kShift a constant, so no shift loop in the ISR.
  template <uint8_t kShift>
  __attribute__((always_inline, optimize("O2"))) static int16_t gain_step(int16_t e, uint8_t fraction) {
    return int16_t(int16_t(e * (1 << (8 - kShift))) - int16_t(fraction >> kShift));
  }

  // Locked: one measured crossing into the alpha-beta tracker (an outlier keeps the prediction
  // and sets suspect_).
  // optimize("O2") (with complete()): constant shifts unrolled, -Os makes them loops.
  __attribute__((optimize("O2"))) void track(uint16_t measured) {
    const uint32_t predicted = phase_q8_ + half_q8_;
    const int16_t e = int16_t(measured - uint16_t(predicted >> 8));  // ticks, fraction apart
    const uint16_t magnitude = uint16_t(e < 0 ? -e : e);
    const uint16_t threshold = outlier_threshold();
    // Running mean |e| x 16 (gain 1/16); an outlier counts as the threshold, so that a noisier
    // front end raises the threshold instead of being re-seeded for ever.
    noise_q4_ = uint16_t(noise_q4_ + (magnitude < threshold ? magnitude : threshold) - (noise_q4_ >> 4));
    if (magnitude > threshold) {
      if (++outliers_ < cfg::kZcMaxOutliers) {
        set_phase(predicted);
        suspect_ = true;
        return;
      }
      // A step, not a glitch: re-seed from the measurements (the half-period from the last two
      // when both were measured, adjacent and plausible).
      const uint16_t span = uint16_t(measured - last_measured_);
      if (last_was_measured_ && half_in_range(span)) set_half_period_q8(uint32_t(span) << 8);
      set_phase(uint32_t(measured) << 8);
      outliers_ = 0;
      good_crossings_ = 0;
      noise_q4_ = kNoiseAtLock;
      ++reseeds_;
      return;
    }
    outliers_ = 0;
    const uint8_t fraction = uint8_t(predicted);
    // Alpha and beta (|e| <= kZcOutlierMaxTicks: 16 bits suffice). Settling (fewer than
    // kZcStableCrossings good crossings since the (re)lock): the faster gains, so that the seed's
    // error is gone by the time the gate may fire.
    int16_t phase_step, period_step;
    if (good_crossings_ < cfg::kZcStableCrossings) {
      phase_step = gain_step<cfg::kZcPhaseGainShiftSettling>(e, fraction);
      period_step = gain_step<cfg::kZcPeriodGainShiftSettling>(e, fraction);
    } else {
      phase_step = gain_step<cfg::kZcPhaseGainShift>(e, fraction);
      period_step = gain_step<cfg::kZcPeriodGainShift>(e, fraction);
    }
    set_phase(uint32_t(predicted + uint32_t(int32_t(phase_step))));
    set_half_period_q8(uint32_t(half_q8_ + uint32_t(int32_t(period_step))));
    if (good_crossings_ < 255) ++good_crossings_;
  }

  // Rare paths kept out of line: the ADC ISR's common path then saves fewer registers.
  __attribute__((noinline)) uint8_t take_crossing(int8_t sign, uint16_t crossing) {
    uint8_t events = sign > 0 ? kPositive : kNegative;
    suspect_ = false;
    if (lock_ == Lock::kLocked) {
      pending_measured_ = crossing;  // complete() runs the tracker
      track_pending_ = true;
    } else if (lock_ == Lock::kReference) {
      set_half_period_q8(uint32_t(uint16_t(crossing - last_crossing_)) << 8);
      set_phase(uint32_t(crossing) << 8);
      lock_ = Lock::kLocked;
      good_crossings_ = 0;
      noise_q4_ = kNoiseAtLock;
      outliers_ = 0;
    } else {
      set_phase(uint32_t(crossing) << 8);
      lock_ = Lock::kReference;
      positive_seen_ = false;
    }
    period_valid_ = false;
    if (sign > 0) {
      if (positive_seen_) {
        // The 45-65 Hz check on the raw measured period (+-10 us of noise is nothing here).
        const uint16_t raw_period = uint16_t(crossing - last_positive_);
        if (raw_period < cfg::kMinPeriodTicks || raw_period > cfg::kMaxPeriodTicks) {
          // Not a 45-65 Hz mains: start again from this crossing.
          lock_ = Lock::kReference;
          set_phase(uint32_t(crossing) << 8);
          track_pending_ = false;
          events |= kLost;
        } else {
          period_valid_ = true;
          period_ = lock_ == Lock::kLocked ? uint16_t((half_q8_ + 64u) >> 7) : raw_period;
        }
      }
      last_positive_ = crossing;
      positive_seen_ = true;
    }
    missed_ = 0;
    last_measured_ = crossing;
    last_was_measured_ = true;
    last_sign_ = sign;
    expected_sign_ = int8_t(-sign);
    armed_positive_ = armed_negative_ = false;
    return events;
  }

  // The reference is stale (searching again), or the expected crossing is overdue.
  bool timed_out(uint16_t t) {
    const uint16_t elapsed = uint16_t(t - last_crossing_);
    if (lock_ == Lock::kReference) {
      if (elapsed > cfg::kMaxHalfPeriodTicks + cfg::kTicksPerPair) lock_ = Lock::kSearching;
      return false;
    }
    // Signed: the tracker's crossing may lie a little after the sample that detected it.
    return lock_ == Lock::kLocked && int16_t(elapsed) > int16_t(window_high_);
  }

  // The expected crossing did not come: flywheel on the predicted one.
  __attribute__((noinline)) uint8_t take_missed() {
    const int8_t sign = expected_sign_;
    uint8_t events = uint8_t((sign > 0 ? kPositive : kNegative) | kMissed);
    set_phase(phase_q8_ + half_q8_);
    suspect_ = false;
    last_was_measured_ = false;
    last_sign_ = sign;
    expected_sign_ = int8_t(-sign);
    period_valid_ = false;
    positive_seen_ = false;  // the next full period would include a virtual end
    if (++missed_ >= cfg::kMaxMissedHalfCycles) {
      lock_ = Lock::kSearching;
      good_crossings_ = 0;
      events |= kLost;
    }
    return events;
  }

  int16_t previous_v_ = 0;
  uint16_t candidate_ticks_ = 0;
  int8_t candidate_sign_ = 0;
  uint16_t previous_t_ = 0;
  uint32_t phase_q8_ = 0;           // filtered crossing, ticks x 256 (low 24 bits meaningful)
  uint32_t half_q8_ = 0;            // filtered half-period, ticks x 256
  uint16_t last_crossing_ = 0;      // phase_q8_'s tick (windows, timeouts)
  uint16_t last_measured_ = 0;      // raw time of the last measured crossing
  uint16_t pending_measured_ = 0;   // measured crossing waiting for complete()
  uint16_t last_positive_ = 0;      // raw time of the last measured positive crossing
  uint16_t noise_q4_ = 0;           // running mean |innovation| x 16
  uint16_t reseeds_ = 0;
  uint16_t half_period_ = 0;
  uint16_t window_low_ = 0;
  uint16_t window_high_ = 0;
  uint16_t period_ = 0;
  Lock lock_ = Lock::kSearching;
  int8_t expected_sign_ = 0;
  int8_t last_sign_ = 0;
  uint8_t missed_ = 0;
  uint8_t good_crossings_ = 0;
  uint8_t outliers_ = 0;            // outliers in a row
  bool suspect_ = false;
  bool track_pending_ = false;
  bool last_was_measured_ = false;  // the previous crossing was measured (not virtual)
  bool armed_positive_ = false;
  bool armed_negative_ = false;
  bool positive_seen_ = false;
  bool period_valid_ = false;
};

}  // namespace zc
