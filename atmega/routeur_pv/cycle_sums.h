// Raw per-cycle sums handed from the ADC ISR to loop(): integer only, no scaling in the ISR.
#pragma once
#include <stdint.h>

enum CycleFlags : uint8_t {
  kCycleClipped = 1,      // a sample of this cycle was 0 or 1023
  kCycleNoCrossing = 2,   // the cycle did not end on a measured positive crossing
};

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
};

// sum over the pairs of (V_{j-1} + V_j), from sum_v and the two boundary samples.
inline uint32_t sum_vmid(const CycleSums& s) {
  return 2 * s.sum_v + s.voltage_before_first - s.last_voltage;
}
