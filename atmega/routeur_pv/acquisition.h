// The ADC ISR's work, hardware-free: one call per completed conversion (alternating V, I).
// - Sample instants are exactly periodic on silicon (832 CPU cycles): they are derived from a
//   counter, never from a timer read. The timer read at each ISR entry only feeds a drift check:
//   the smallest ISR lateness of every window of conversions must stay what it was at start-up
//   (it does on silicon; simavr re-arms each conversion a few cycles late, and this tracks it).
// - Each current sample is paired with the mean of the voltage samples before and after it,
//   which removes the 52 us V/I skew from the real-power sum.
// - Voltage samples minus their DC offset (measured by loop() on the previous cycle) feed the
//   zero-crossing detector. A cycle ends at each positive-going crossing (or after a fixed window
//   while there is none); its sums are published in a 4-slot ring read by loop().
// - Budget: a conversion every 832 CPU cycles. The voltage ISR does the sums and the crossing
//   interpolation; the decision on the crossing and its consequences (closing the cycle, the
//   events returned to the gate logic) are deferred to the next, lighter, current ISR, 52 us later.
#pragma once
#include <stdint.h>
#include <string.h>
#include "config.h"
#include "cycle_sums.h"
#include "zero_cross.h"

enum PipelineEvents : uint8_t {
  // zc::EventBits occupy the low nibble
  kEventCycleDone = 16,
  kEventClipped = 32,
};

class AdcPipeline {
 public:
  static constexpr uint8_t kRingSize = 4;

  // first_sample_ticks: sampling instant of the first conversion handed to on_conversion(),
  // which converts the voltage channel when first_is_voltage.
  void start(uint16_t first_sample_ticks, bool first_is_voltage) {
    sample_ticks_ = first_sample_ticks;
    current_is_current_ = !first_is_voltage;
  }

  // Channel of the conversion whose result on_conversion() will receive next.
  bool next_is_current() const { return current_is_current_; }

  void set_voltage_offset_scaled(uint16_t offset) { voltage_offset_scaled_ = offset; }

  // raw: the conversion's result; isr_ticks: TCNT1 read at the start of its ISR.
  // Returns PipelineEvents | zc::EventBits (crossing events come one conversion late).
  uint8_t on_conversion(uint16_t raw, uint16_t isr_ticks) {
    track_sampling_drift(isr_ticks);
    uint8_t events = 0;
    if (raw == 0 || raw >= cfg::kAdcMaxCount) {
      acc_->flags |= kCycleClipped;
      events = kEventClipped;
    }
    if (current_is_current_) {
      if (deferred_) events |= run_deferred();
      pending_current_ = raw;
    } else {
      on_voltage(raw);
    }
    current_is_current_ = !current_is_current_;
    sample_ticks_ = uint16_t(sample_ticks_ + cfg::kTicksPerConversion);
    return events;
  }

  int16_t reference_lateness() const { return reference_late_; }
  // Sampling instant of the conversion whose result comes next.
  uint16_t sample_ticks() const { return sample_ticks_; }
  const zc::ZeroCrossDetector& detector() const { return detector_; }
  uint8_t completed_count() const { return completed_count_; }
  // The slot of a completed cycle stays untouched for kRingSize - 1 further cycles.
  const CycleSums& completed(uint8_t count) const { return ring_[count % kRingSize]; }

 private:
  static constexpr int16_t kNoLateness = 0x7FFF;
  // From a sample-and-hold instant to the end of that conversion (= the ISR request).
  static constexpr uint16_t kSampleToConversionEnd = cfg::kTicksPerConversion - cfg::kSampleHoldTicks;
  static constexpr uint8_t kDeferredFinish = 0x80;  // beside zc::EventBits
  static constexpr uint8_t kDeferredResolve = 1;     // deferred_: a crossing candidate or timeout
  static constexpr uint8_t kDeferredWindowEnd = 2;   // deferred_: the fixed window is full

  void track_sampling_drift(uint16_t isr_ticks) {
    const int16_t late = int16_t(isr_ticks - sample_ticks_ - kSampleToConversionEnd);
    if (late < window_min_late_) window_min_late_ = late;
    if (++window_count_ < cfg::kDriftWindowConversions) return;
    if (reference_late_ == kNoLateness) reference_late_ = window_min_late_;
    else sample_ticks_ = uint16_t(sample_ticks_ + (window_min_late_ - reference_late_));
    window_count_ = 0;
    window_min_late_ = kNoLateness;
  }

  void on_voltage(uint16_t raw) {
    CycleSums& acc = *acc_;
    if (have_pair_) {
      if (acc.pairs == 0) acc.voltage_before_first = previous_voltage_;
      acc.sum_i += pending_current_;
      acc.sum_vmid_i += uint32_t(uint16_t(previous_voltage_ + raw)) * pending_current_;
      acc.sum_v += raw;
      acc.sum_vv += uint32_t(raw) * raw;
      ++acc.pairs;
    }
    previous_voltage_ = raw;
    have_pair_ = true;

    const int16_t centred = int16_t(int16_t(raw << cfg::kVoltageFracBits) - int16_t(voltage_offset_scaled_));
    uint8_t deferred = detector_.on_voltage_sample(centred, sample_ticks_) ? kDeferredResolve : 0;
    if (acc.pairs >= cfg::kMaxCyclePairs || (!detector_.locked() && acc.pairs >= cfg::kUnlockedWindowPairs))
      deferred |= kDeferredWindowEnd;
    deferred_ = deferred;
  }

  // Runs in the current ISR after a voltage sample that left work.
  __attribute__((noinline)) uint8_t run_deferred() {
    uint8_t events = (deferred_ & kDeferredResolve) ? detector_.resolve() : 0;
    if (!(events & zc::kPositive) && (deferred_ & kDeferredWindowEnd)) {
      events |= kDeferredFinish;
      forced_window_ = true;
    }
    deferred_ = 0;
    if (events & (zc::kPositive | kDeferredFinish)) {
      const bool measured = !forced_window_ && !(events & zc::kMissed) && detector_.period_valid();
      finish_cycle(measured ? detector_.period_ticks() : 0, measured);
      forced_window_ = false;
      events = uint8_t((events & ~kDeferredFinish) | kEventCycleDone);
    }
    return events;
  }

  // The accumulator is a ring slot: closing a cycle publishes it and clears the next slot.
  void finish_cycle(uint16_t period_ticks, bool measured) {
    CycleSums& acc = *acc_;
    if (!measured) acc.flags |= kCycleNoCrossing;
    acc.period_ticks = period_ticks;
    acc.last_voltage = previous_voltage_;
    const uint8_t published = uint8_t(completed_count_ + 1);
    completed_count_ = published;  // after its slot is complete
    acc_ = &ring_[uint8_t(published + 1) % kRingSize];
    memset(acc_, 0, sizeof(CycleSums));
  }

  zc::ZeroCrossDetector detector_;
  CycleSums ring_[kRingSize] = {};
  CycleSums* acc_ = &ring_[1];  // the slot after completed_count_'s
  volatile uint8_t completed_count_ = 0;
  uint8_t deferred_ = 0;
  uint16_t sample_ticks_ = 0;
  int16_t window_min_late_ = kNoLateness;
  int16_t reference_late_ = kNoLateness;
  uint8_t window_count_ = 0;
  uint16_t voltage_offset_scaled_ = cfg::kAdcBiasScaled;
  uint16_t previous_voltage_ = 0;
  uint16_t pending_current_ = 0;
  bool current_is_current_ = false;
  bool have_pair_ = false;
  bool forced_window_ = false;
};
