// The one place for state shared between the ISRs and loop(), and the ISR-side decisions.
// ADC ISR (preemptible: ISR_NOBLOCK) -> AdcPipeline, then handle_adc_events() on events only.
// Timer1 COMPA ISR: gate HIGH; COMPB ISR: gate LOW, then handle_pulse_end().
// USART RX ISR: each received byte into rx (the gateway's commands, read by loop()).
// loop() writes the gate command and the voltage offset (with interrupts off around the write)
// and reads completed cycles from the pipeline's ring.
// The Hal template parameter supplies arm(gate_at, delay), cancel() and a Critical guard type,
// so this logic also runs in the native tests with a fake.
#pragma once
#include <stdint.h>
#include "acquisition.h"
#include "command.h"
#include "config.h"
#include "gate_planner.h"

// Keeps the compiler from moving memory accesses across (ISR hand-over points).
#define PV_COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")

struct IsrState {
  AdcPipeline pipeline;
  GatePlanner planner;
  RxQueue rx;  // USART RX ISR -> loop(): the gateway's commands
  volatile uint16_t delay_command_ticks = 0;  // loop -> ISR: firing delay for the next half-cycles
  volatile bool fire_command = false;         // loop -> ISR: fire at all
  volatile uint8_t clip_inhibit_cycles = 0;   // cycle ends left before firing is allowed again
  volatile uint8_t command_ttl_half_cycles = 0;  // half-cycles the loop's command stays valid
};

// loop() -> ISR, with interrupts off around it: the gate command for the next half-cycles.
inline void set_gate_command(IsrState& s, bool fire, uint16_t delay_ticks) {
  s.delay_command_ticks = delay_ticks;
  s.fire_command = fire;
  s.command_ttl_half_cycles = cfg::kCommandTtlHalfCycles;
}

inline bool may_fire(const IsrState& s) {
  const zc::ZeroCrossDetector& detector = s.pipeline.detector();
  return s.fire_command && s.command_ttl_half_cycles > 0 && s.clip_inhibit_cycles == 0 &&
         detector.stable() && detector.missed() < cfg::kMaxMissedHalfCycles && !detector.suspect();
}

// Out of line: the ADC ISR's common path then needs fewer registers saved.
template <class Hal>
__attribute__((noinline)) void handle_adc_events(IsrState& s, uint8_t events) {
  typename Hal::Critical guard;  // planner and compare registers are shared with the Timer1 ISRs
  if (events & kEventClipped) {
    s.clip_inhibit_cycles = cfg::kClipInhibitCycles + 1;  // this cycle and the next one(s)
    Hal::cancel();
  }
  // Lost, or a crossing measured far from the tracker's prediction: the edge armed at the last
  // pulse end (from the prediction) must not fire this half-cycle.
  if ((events & zc::kLost) || s.pipeline.detector().suspect()) Hal::cancel();
  if (events & (zc::kPositive | zc::kNegative)) {
    if (s.command_ttl_half_cycles > 0) s.command_ttl_half_cycles = uint8_t(s.command_ttl_half_cycles - 1);
    if ((events & zc::kPositive) && s.clip_inhibit_cycles > 0 && !(events & kEventClipped))
      s.clip_inhibit_cycles = uint8_t(s.clip_inhibit_cycles - 1);
    const GatePlanner::Plan plan =
        s.planner.on_crossing(s.pipeline.detector().crossing_ticks(), may_fire(s), s.delay_command_ticks);
    if (plan.arm) Hal::arm(plan.gate_at_ticks, plan.delay_ticks);
  }
}

template <class Hal>
inline void handle_pulse_end(IsrState& s) {
  const GatePlanner::Plan plan =
      s.planner.on_pulse_end(s.pipeline.detector().half_period_ticks(), may_fire(s), s.delay_command_ticks);
  if (plan.arm) Hal::arm(plan.gate_at_ticks, plan.delay_ticks);
}

extern IsrState g_isr;
// Simulator probe (docs/interfaces.md): delay from the estimated crossing to the scheduled edge.
extern "C" volatile uint16_t g_gate_delay_ticks;
