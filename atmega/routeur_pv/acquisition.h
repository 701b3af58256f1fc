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
//   interpolation; the decision on the crossing and closing the cycle are deferred to the next,
//   lighter, current ISR, 52 us later; the crossing tracker (zero_cross.h) and the events returned
//   to the gate logic to the current ISR after it, one pair (104 us) later.
#pragma once
#include <stdint.h>
#include <stddef.h>
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
  // Also sets the state whose initial value is not 0: every other member starts at 0, so the
  // sketch's static pipeline is zero-initialized (.bss, no initial image in flash).
  void start(uint16_t first_sample_ticks, bool first_is_voltage) {
    sample_ticks_ = first_sample_ticks;
    current_is_current_ = !first_is_voltage;
    acc_ = &ring_[1];
    window_min_late_ = kNoLateness;
    reference_late_ = kNoLateness;
    voltage_offset_scaled_ = cfg::kAdcBiasScaled;
  }

  // Channel of the conversion whose result on_conversion() will receive next.
  bool next_is_current() const { return current_is_current_; }

  void set_voltage_offset_scaled(uint16_t offset) { voltage_offset_scaled_ = offset; }

  // The channel-1 gate rose at `ticks` (Timer1, from the compare ISR, which preempts this pipeline's
  // ISR). The first current sample taken at or after it is recorded with the cycle (see EdgeSample).
  void on_gate_edge(uint16_t ticks) {
    edge_ticks_ = ticks;
    edge_waiting_ = true;
  }

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
      if (gate_events_) events |= complete_crossing();
      if (deferred_) events |= run_deferred();
      if (edge_waiting_ || edge_stage_ == kEdgeWaitNext) edge_on_current(raw);
      older_current_ = pending_current_;
      pending_current_ = raw;
      if (currents_seen_ < 2) ++currents_seen_;
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
  // edge_stage_: the edge record (EdgeSample) under way
  static constexpr uint8_t kEdgeIdle = 0;
  static constexpr uint8_t kEdgeWaitPair = 1;          // I_s taken: V_s completes the record
  static constexpr uint8_t kEdgeWaitPairThenNext = 2;  // I_s taken: V_s, then I_{s+1} needed
  static constexpr uint8_t kEdgeWaitNext = 3;          // waiting for I_{s+1}
  static constexpr uint8_t kEdgeReady = 4;             // complete: stored with the next pair
  // A sample this close to the edge may have been taken on either side of it (the sample instants
  // are counted, the edge time read from TCNT1 just after the port write): 4 us.
  static constexpr uint16_t kEdgeUnsureTicks = 8;

  void track_sampling_drift(uint16_t isr_ticks) {
    const int16_t late = int16_t(isr_ticks - sample_ticks_ - kSampleToConversionEnd);
    if (late < window_min_late_) window_min_late_ = late;
    if (++window_count_ < cfg::kDriftWindowConversions) return;
    if (reference_late_ == kNoLateness) reference_late_ = window_min_late_;
    else sample_ticks_ = uint16_t(sample_ticks_ + (window_min_late_ - reference_late_));
    window_count_ = 0;
    window_min_late_ = kNoLateness;
  }

  // Edge record (see EdgeSample), current-sample side, at I_s (the first current sample at or after
  // the edge) and, when I_s is within kEdgeUnsureTicks after the edge, at I_{s+1}. Two edges are half
  // a mains cycle apart: the compare ISR cannot write a new edge while one is being recorded.
  __attribute__((noinline)) void edge_on_current(uint16_t raw) {
    if (edge_stage_ == kEdgeWaitNext) {  // I_{s+1}: surely after the edge
      edge_.base = int16_t(edge_.base - raw);
      edge_.span = int16_t(raw - edge_before_);
      edge_stage_ = kEdgeReady;
      return;
    }
    const uint16_t after = uint16_t(sample_ticks_ - edge_ticks_);
    if (after >= 0x8000u) return;  // the edge came after this sample's instant: the next one
    edge_waiting_ = false;
    if (after >= cfg::kTicksPerPair || currents_seen_ < 2) return;  // a late record: dropped
    edge_.after_edge_ticks = after;
    edge_.step = kNoHeaterStep;
    if (after < kEdgeUnsureTicks) {
      // I_s may have been taken just before the edge: cells s-1, s, s+1, from I_{s-1} to I_{s+1}.
      edge_.base = int16_t(2 * pending_current_ - raw);  // - I_{s+1} comes with it
      edge_before_ = pending_current_;
      edge_.after_edge_ticks = uint16_t(after + cfg::kTicksPerPair);
      edge_stage_ = kEdgeWaitPairThenNext;
      return;
    }
    if (after > cfg::kTicksPerPair - kEdgeUnsureTicks) {
      // I_{s-1} may have been taken just after the edge: cells s-2, s-1, s, from I_{s-2} to I_s.
      edge_.base = int16_t(2 * older_current_ - pending_current_ - raw);
      edge_.span = int16_t(raw - older_current_);
    } else {
      edge_.base = int16_t(pending_current_ - raw);
      edge_.span = int16_t(raw - pending_current_);
      edge_.step = int16_t(raw + older_current_ - 2 * pending_current_);  // both surely before the edge
    }
    edge_stage_ = kEdgeWaitPair;
  }

  // Edge record, voltage side: the voltage around I_s, and the record goes with the cycle.
  __attribute__((noinline)) void edge_on_pair(CycleSums& acc, uint16_t raw) {
    if (edge_stage_ == kEdgeWaitPair || edge_stage_ == kEdgeWaitPairThenNext) {
      edge_.vmid = uint16_t(previous_voltage_ + raw);
      if (edge_stage_ == kEdgeWaitPairThenNext) {
        edge_stage_ = kEdgeWaitNext;
        return;
      }
    }
    if (acc.edge_count < kMaxCycleEdges) acc.edges[acc.edge_count++] = edge_;
    edge_stage_ = kEdgeIdle;
  }

  void on_voltage(uint16_t raw) {
    CycleSums& acc = *acc_;
    if (have_pair_) {
      if (acc.pairs == 0) acc.voltage_before_first = previous_voltage_;
      if (edge_stage_ != kEdgeIdle) edge_on_pair(acc, raw);
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
    // The gate side of a crossing (tracker update, re-timing) comes with the next current sample.
    gate_events_ = uint8_t(events & (zc::kPositive | zc::kNegative | zc::kMissed | zc::kLost));
    if (events & (zc::kPositive | kDeferredFinish)) {
      const bool measured = !forced_window_ && !(events & zc::kMissed) && detector_.period_valid();
      finish_cycle(measured ? detector_.period_ticks() : 0, measured);
      forced_window_ = false;
      events = uint8_t((events & ~kDeferredFinish) | kEventCycleDone);
    }
    return uint8_t(events & ~gate_events_);
  }

  // One pair after run_deferred(): the crossing tracker, then the crossing's events for the gate.
  __attribute__((noinline)) uint8_t complete_crossing() {
    const uint8_t events = uint8_t(gate_events_ | detector_.complete());
    gate_events_ = 0;
    return events;
  }

  // The accumulator is a ring slot: closing a cycle publishes it and clears the next slot.
  void finish_cycle(uint16_t period_ticks, bool measured) {
    CycleSums& acc = *acc_;
    if (!measured) acc.flags |= kCycleNoCrossing;
    if (!detector_.stable()) acc.flags |= kCycleTrackerSettling;
    acc.period_ticks = period_ticks;
    acc.last_voltage = previous_voltage_;
    const uint8_t published = uint8_t(completed_count_ + 1);
    completed_count_ = published;  // after its slot is complete
    acc_ = &ring_[uint8_t(published + 1) % kRingSize];
    memset(acc_, 0, offsetof(CycleSums, edges));  // the records are read up to edge_count only
  }

  zc::ZeroCrossDetector detector_;
  CycleSums ring_[kRingSize] = {};
  CycleSums* acc_ = nullptr;  // the slot after completed_count_'s (from start())
  volatile uint8_t completed_count_ = 0;
  uint8_t deferred_ = 0;
  uint8_t gate_events_ = 0;             // crossing events waiting for complete_crossing()
  uint16_t sample_ticks_ = 0;
  int16_t window_min_late_ = 0;  // kNoLateness from start()
  int16_t reference_late_ = 0;
  uint8_t window_count_ = 0;
  uint16_t voltage_offset_scaled_ = 0;  // cfg::kAdcBiasScaled from start()
  uint16_t previous_voltage_ = 0;
  uint16_t pending_current_ = 0;
  uint16_t older_current_ = 0;          // the current sample before pending_current_
  uint8_t currents_seen_ = 0;           // up to 2: older_current_ and pending_current_ are samples
  volatile uint16_t edge_ticks_ = 0;    // written by the compare ISR
  volatile bool edge_waiting_ = false;  // an edge whose first current sample is still to come
  uint8_t edge_stage_ = kEdgeIdle;      // the record under way
  uint16_t edge_before_ = 0;            // I_{s-1} of a record waiting for I_{s+1}
  EdgeSample edge_ = {};
  bool current_is_current_ = false;
  bool have_pair_ = false;
  bool forced_window_ = false;
};
