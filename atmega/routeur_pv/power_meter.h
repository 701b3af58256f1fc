// Per-cycle measurements from the raw ISR sums (loop() context, float once per cycle).
// DC offsets are removed with the cycle's own means: P = mean(v*i) - mean(v)*mean(i) is the
// covariance of the centred signals, so neither bias drift nor the 2.5 V bias error matters
// (the error is the product of the DC estimate errors, both ~0 over a whole mains period).
#pragma once
#include <stdint.h>
#include <string.h>
#include "config.h"
#include "cycle_sums.h"

struct CycleMeasurement {
  float import_watts;              // real power at the grid connection, positive = import
  float vrms;                      // mains RMS voltage
  uint16_t voltage_offset_scaled;  // mean voltage sample, counts x cfg::kVoltageScale
  // Channel 1's full power as its gate edges measured it (conductance x Vrms^2: ~0 with the
  // thermostat open); ch1_measured false when no edge of this cycle could tell (not fired, or
  // every edge close to a sample).
  bool ch1_measured;
  float ch1_full_watts;
};

// The sensors' scale: the config.h defaults, or the settings' VCL and ICL (controller.h).
struct Calibration {
  float volts_per_count;
  float amps_per_count;
};
constexpr Calibration kDefaultCalibration = {cfg::kVoltsPerCount, cfg::kAmpsPerCount};

// Least-squares conductance through the origin over the cycle's edges (step = G v), in counts of
// current per count of voltage, times Vrms^2: the heater's power at full conduction. One edge has
// ~1.2 counts of noise on a step of ~14 counts at the earliest firing: an unbiased estimate,
// averaged by the frame and the energy counter. A channel-2 dimmer's own edge falling within two
// pairs (~0.2 ms) before channel 1's would be counted with it (docs/interfaces.md).
// Returns false (out untouched) when no edge of the cycle can tell.
inline bool measure_ch1_full_watts(const CycleSums& s, const Calibration& cal, float mean_v, float vrms, float& out) {
  float num = 0.0f, den = 0.0f;
  for (uint8_t k = 0; k < s.edge_count && k < kMaxCycleEdges; ++k) {
    const EdgeSample& e = s.edges[k];
    if (e.step == kNoHeaterStep) continue;
    const float v = 0.5f * float(e.vmid) - mean_v;  // counts, centred
    num += float(e.step) * v;
    den += v * v;
  }
  if (den <= 0.0f) return false;
  // Not clamped at 0: with the thermostat open the estimate is noise around 0, and clamping each
  // cycle would add that noise's positive half to the energy.
  out = num / den * (cal.amps_per_count / cal.volts_per_count) * vrms * vrms;
  return true;
}

// Square root of x > 0: a seed from halving the float's exponent (within 4 %), then Newton steps,
// each squaring the relative error (3 steps: exact to the float's last bits). avr-libc's sqrt is
// 140 B of flash the ATmega does not have; this is a third of it.
inline float square_root(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  bits = (bits >> 1) + 0x1FBD1DF5u;
  float y;
  memcpy(&y, &bits, sizeof y);
  for (uint8_t k = 0; k < 3; ++k) y = 0.5f * (y + x / y);
  return y;
}

inline CycleMeasurement measure_cycle(const CycleSums& s, const Calibration& cal = kDefaultCalibration) {
  CycleMeasurement m = {0.0f, 0.0f, cfg::kAdcBiasScaled, false, 0.0f};
  if (s.pairs == 0) return m;
  const float n = float(s.pairs);
  // Gate edges: the cells of the samples around each edge get the current they truly held (see
  // EdgeSample); the difference is counted at the voltage of I_s (the cells are 104-312 us long).
  float sum_i = float(s.sum_i);
  float sum_vmid_i = float(s.sum_vmid_i);
  for (uint8_t k = 0; k < s.edge_count && k < kMaxCycleEdges; ++k) {
    const EdgeSample& e = s.edges[k];
    const float x = float(e.after_edge_ticks) / float(cfg::kTicksPerPair);
    const float moved = float(e.base) + float(e.span) * (x + 0.5f);
    sum_i += moved;
    sum_vmid_i += moved * float(e.vmid);
  }
  const float mean_vmid = float(sum_vmid(s)) / n;
  const float mean_i = sum_i / n;
  // (V(k-1)+V(k+1)) is twice the voltage at the current sample: halve the covariance.
  const float covariance_vi = (sum_vmid_i / n - mean_vmid * mean_i) * 0.5f;
  m.import_watts = covariance_vi * (cal.volts_per_count * cal.amps_per_count);
  const float mean_v = float(s.sum_v) / n;
  const float variance_v = float(s.sum_vv) / n - mean_v * mean_v;
  m.vrms = variance_v > 0.0f ? square_root(variance_v) * cal.volts_per_count : 0.0f;
  m.voltage_offset_scaled = uint16_t((s.sum_v * uint32_t(cfg::kVoltageScale) + s.pairs / 2) / s.pairs);
  m.ch1_measured = measure_ch1_full_watts(s, cal, mean_v, m.vrms, m.ch1_full_watts);
  return m;
}
