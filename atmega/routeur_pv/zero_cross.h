// Zero-crossing detection from the voltage samples (ISR context: integer only, no division:
// the interpolation uses an 8-step shift-and-subtract fraction).
// - A crossing is interpolated linearly between the two samples around the sign change.
// - Hysteresis in amplitude: a positive-going crossing needs the voltage to have been below
//   -kZcArmScaled since the last crossing (and the opposite), so noise at zero is ignored.
// - Hysteresis in time: once locked, a crossing must come ~40-60 % (+-3/16 of a half-period) of a
//   period after the previous one of the other sign; before that, a half-period for 45-65 Hz.
// - When the expected crossing does not come (60 % of a period elapsed) a virtual crossing is made
//   at the predicted instant (flywheel, event kMissed); after kMaxMissedHalfCycles in a row the
//   detector is lost (event kLost) and has to re-acquire.
// Times are Timer1 ticks in 16-bit modular arithmetic (differences stay below 32 ms).
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
  __attribute__((noinline)) uint8_t resolve() {
    if (candidate_sign_ == 0) return take_missed();
    return accept(candidate_sign_, candidate_ticks_) ? take_crossing(candidate_sign_, candidate_ticks_) : 0;
  }

  // Both steps at once (tests, or a caller with time to spare).
  uint8_t on_voltage_sample_resolved(int16_t v, uint16_t t) { return on_voltage_sample(v, t) ? resolve() : 0; }

  Lock lock() const { return lock_; }

  bool locked() const { return lock_ == Lock::kLocked; }
  // Locked and at least one full period measured since: safe to fire.
  bool stable() const { return lock_ == Lock::kLocked && good_crossings_ >= kStableCrossings; }
  uint16_t crossing_ticks() const { return last_crossing_; }       // last (measured or virtual)
  uint16_t half_period_ticks() const { return half_period_; }
  uint16_t period_ticks() const { return period_; }                // last positive-to-positive
  bool period_valid() const { return period_valid_; }              // both ends measured, in range
  uint8_t missed() const { return missed_; }
  int8_t last_sign() const { return last_sign_; }

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
  static constexpr uint8_t kStableCrossings = 3;


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

  void set_half_period(uint16_t half) {
    half_period_ = half;
    // Shifts only (ISR): the tolerance is half * kHalfWindowTolerance16ths / 16.
    const uint16_t tolerance = uint16_t((half >> 4) * cfg::kHalfWindowTolerance16ths);
    window_low_ = uint16_t(half - tolerance);
    window_high_ = uint16_t(half + tolerance);
  }

  // Rare paths kept out of line: the ADC ISR's common path then saves fewer registers.
  __attribute__((noinline)) uint8_t take_crossing(int8_t sign, uint16_t crossing) {
    uint8_t events = sign > 0 ? kPositive : kNegative;
    if (lock_ == Lock::kReference) {
      set_half_period(uint16_t(crossing - last_crossing_));
      lock_ = Lock::kLocked;
      good_crossings_ = 0;
    } else if (lock_ == Lock::kSearching) {
      lock_ = Lock::kReference;
      positive_seen_ = false;
    }
    period_valid_ = false;
    if (sign > 0) {
      if (positive_seen_) {
        period_ = uint16_t(crossing - last_positive_);
        if (period_ < cfg::kMinPeriodTicks || period_ > cfg::kMaxPeriodTicks) {
          // Not a 45-65 Hz mains: start again from this crossing.
          lock_ = Lock::kReference;
          events |= kLost;
        } else {
          period_valid_ = true;
          if (lock_ == Lock::kLocked) set_half_period(uint16_t(period_ / 2));
        }
      }
      last_positive_ = crossing;
      positive_seen_ = true;
    }
    if (good_crossings_ < 255) ++good_crossings_;
    missed_ = 0;
    last_crossing_ = crossing;
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
    return lock_ == Lock::kLocked && elapsed > window_high_;
  }

  // The expected crossing did not come: flywheel on the predicted one.
  __attribute__((noinline)) uint8_t take_missed() {
    const int8_t sign = expected_sign_;
    uint8_t events = uint8_t((sign > 0 ? kPositive : kNegative) | kMissed);
    last_crossing_ = uint16_t(last_crossing_ + half_period_);
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
  uint16_t last_crossing_ = 0;
  uint16_t last_positive_ = 0;
  uint16_t half_period_ = 0;
  uint16_t window_low_ = 0;
  uint16_t window_high_ = 0;
  uint16_t period_ = 0;
  Lock lock_ = Lock::kSearching;
  int8_t expected_sign_ = 0;
  int8_t last_sign_ = 0;
  uint8_t missed_ = 0;
  uint8_t good_crossings_ = 0;
  bool armed_positive_ = false;
  bool armed_negative_ = false;
  bool positive_seen_ = false;
  bool period_valid_ = false;
};

}  // namespace zc
