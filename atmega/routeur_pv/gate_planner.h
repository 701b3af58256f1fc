// When to raise the channel-1 gate, hardware-free. The HAL turns each Plan into a Timer1
// compare (OCR1A) and calls on_fired() from the compare ISR.
// Each half-cycle is armed twice at most:
//  1. at the end of the previous pulse, from the PREDICTED crossing (previous crossing +
//     half-period): this fires even if the crossing is then missed (flywheel, one half-cycle);
//  2. when the crossing is measured (interpolated, then filtered by the tracker of zero_cross.h),
//     re-timed from it unless the pulse of that half-cycle has already fired; not fired at all
//     (the first edge cancelled) when the tracker flags the measurement as an outlier.
#pragma once
#include <stdint.h>

class GatePlanner {
 public:
  struct Plan {
    bool arm;
    uint16_t gate_at_ticks;   // Timer1 time of the rising edge
    uint16_t delay_ticks;     // from the estimated crossing to that edge
  };

  // A half-cycle starts at crossing (measured or predicted by the detector).
  Plan on_crossing(uint16_t crossing_ticks, bool may_fire, uint16_t delay_ticks) {
    ++half_cycle_;
    last_crossing_ = crossing_ticks;
    if (!may_fire || fired_half_cycle_ == half_cycle_) return Plan{false, 0, 0};
    armed_half_cycle_ = half_cycle_;
    return Plan{true, uint16_t(crossing_ticks + delay_ticks), delay_ticks};
  }

  // The pulse of this half-cycle ended: arm the next one from the predicted crossing.
  Plan on_pulse_end(uint16_t half_period_ticks, bool may_fire, uint16_t delay_ticks) {
    if (!may_fire) return Plan{false, 0, 0};
    armed_half_cycle_ = uint8_t(half_cycle_ + 1);
    return Plan{true, uint16_t(last_crossing_ + half_period_ticks + delay_ticks), delay_ticks};
  }

  void on_fired() { fired_half_cycle_ = armed_half_cycle_; }
  uint8_t half_cycle() const { return half_cycle_; }

 private:
  uint16_t last_crossing_ = 0;
  uint8_t half_cycle_ = 0;
  uint8_t armed_half_cycle_ = 0;
  uint8_t fired_half_cycle_ = 0;  // none: on_crossing() counts half-cycles from 1
};
