// Raw per-cycle sums handed from the ADC ISR to loop(): integer only, no scaling in the ISR.
#pragma once
#include <stdint.h>

enum CycleFlags : uint8_t {
  kCycleClipped = 1,      // a sample of this cycle was 0 or 1023
  kCycleNoCrossing = 2,   // the cycle did not end on a measured positive crossing
  kCycleTrackerSettling = 4,  // the crossing tracker was not settled: the gate could not fire
};

// A channel-1 gate edge steps the current between two current samples. The sums are rectangle sums:
// each current sample I_j stands for the whole pair interval (its cell, kTicksPerPair = 104 us,
// centred on it), so the step is counted from the middle between the two samples around it, up to
// +-52 us away from the edge: up to ~20 W per half-cycle at 800 W fired mid-half-cycle. That error
// depends on where the edge falls on the sampling grid, which the regulator itself moves, so it does
// not average out: in closed loop the firing settled where the sums under-read the heater (5.7 W of
// import read as the 5 W export target). measure_cycle() corrects each cycle from these records.
// I_s is the first current sample at or after the edge, x = after_edge_ticks / kTicksPerPair.
// The cells of I_{s-1} and I_s truly hold 2 I_{s-1} + (I_s - I_{s-1}) (x + 1/2) of current, the sums
// I_{s-1} + I_s: the correction is base + span * (x + 1/2) with base = I_{s-1} - I_s, span = I_s - I_{s-1}.
// When the edge is within a few ticks of a sample (the times are known to a tick or so), that sample
// may or may not have seen the step: the record then spans three cells, from a sample surely before
// the edge to one surely after it (see AdcPipeline::edge_on_current), in the same form.
// The same record measures channel 1 itself (measure_cycle): the heater's current at I_s is its
// conductance times the voltage there, and the step it made is what I_s exceeds the straight line
// through I_{s-2} and I_{s-1} by (the rest of the grid current moves by up to ~3 counts per pair
// near a crossing: a plain difference would be off by ~20 % at full power).
constexpr int16_t kNoHeaterStep = -32767 - 1;  // step: the record cannot tell (a sample near the edge)
struct EdgeSample {
  int16_t base;              // counts: the current the cells around the edge hold in the sums, negated,
                             // plus what they truly hold before the edge
  int16_t span;              // counts: the step the edge caused (sample after - sample before)
  uint16_t vmid;             // V_{s-1} + V_s: twice the voltage at I_s
  uint16_t after_edge_ticks; // from the edge to the end of the corrected cells, minus half a cell
  int16_t step;              // counts: I_s - 2 I_{s-1} + I_{s-2}, or kNoHeaterStep
};
constexpr uint8_t kMaxCycleEdges = 2;  // one per half-cycle

// Pair j of a cycle is the current sample I_j with the voltage samples around it, V_{j-1} and
// V_j (52 us before and after it): their mean is the voltage at the current's instant.
struct CycleSums {
  uint16_t pairs;           // pairs accumulated
  uint16_t period_ticks;    // positive-to-positive period, 0 when not measured
  uint32_t sum_v;           // V_j (raw counts)
  uint32_t sum_vv;          // V_j^2
  uint32_t sum_i;           // I_j
  uint32_t sum_vmid_i;      // (V_{j-1} + V_j) * I_j
  uint16_t voltage_before_first;  // V_0: with sum_v and the last V_j it gives sum(V_{j-1} + V_j)
  uint16_t last_voltage;          // V_n
  uint8_t flags;            // CycleFlags
  uint8_t edge_count;       // gate edges recorded in this cycle (<= kMaxCycleEdges; more are dropped)
  EdgeSample edges[kMaxCycleEdges];
};

// sum over the pairs of (V_{j-1} + V_j), from sum_v and the two boundary samples.
inline uint32_t sum_vmid(const CycleSums& s) {
  return 2 * s.sum_v + s.voltage_before_first - s.last_voltage;
}
