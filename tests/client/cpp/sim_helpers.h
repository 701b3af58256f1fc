#pragma once
// Helpers shared by the unit tests and the bench tool: run the scheduler against the simulated
// mains and compare what each half-cycle conducted with what was asked.
#include <cmath>
#include <cstdint>
#include <vector>

#include "gate_scheduler.h"
#include "mains_sim.h"
#include "power_curve.h"

namespace pvtest {

using namespace esphome::pv_client;

struct RunResult {
  double mean_power_w;        // over the measured half-cycles
  uint64_t half_cycles;
  uint64_t misfires;          // half-cycles whose conducted fraction is off by more than `tolerance`
  uint64_t straddles;
  double max_fraction_error;  // worst |conducted - expected| of a half-cycle (phase angle)
};

/// Phase angle at power `level`: run `settle_s` to lock, then measure `seconds`; a half-cycle is a
/// misfire when its conducted fraction differs from f(expected angle) by more than `tolerance`.
inline RunResult run_phase(float level, float freq, float seconds, float noise_per_s = 0.0f, uint32_t jitter = 0,
                           double tolerance = 0.05, uint32_t seed = 7, float settle_s = 0.2f) {
  GateScheduler s;
  s.configure(GateSchedulerConfig{});
  s.set_method(FIRE_METHOD_PHASE_ANGLE);
  s.set_phase_delay_q16(phase_delay_q16_for_power(level));
  MainsSimulator sim;
  MainsSimConfig c;
  c.frequency_hz = freq;
  c.load_power_w = 1000.0f;
  c.noise_edges_per_s = noise_per_s;
  c.jitter_us = jitter;
  c.seed = seed;
  sim.configure(c, 1000);
  sim.run_until(&s, 1000 + static_cast<uint32_t>(settle_s * 1e6f));
  const double e0 = sim.get_energy_j();
  const uint64_t h0 = sim.get_half_cycles();
  const uint64_t st0 = sim.get_straddles();
  RunResult r{0, 0, 0, 0, 0};
  const double expected = level <= 0.0f ? 0.0 : (level >= 1.0f ? 1.0 : level);
  const uint32_t step = static_cast<uint32_t>(sim.get_half_period_us());
  uint32_t t = sim.now();
  const uint32_t end = t + static_cast<uint32_t>(seconds * 1e6f);
  uint64_t last_h = sim.get_half_cycles();
  while (static_cast<int32_t>(end - t) > 0) {
    t += step / 4;
    sim.run_until(&s, t);
    if (sim.get_half_cycles() != last_h) {
      last_h = sim.get_half_cycles();
      double err = std::fabs(sim.get_last_fraction() - expected);
      if (err > r.max_fraction_error)
        r.max_fraction_error = err;
      if (err > tolerance)
        r.misfires++;
    }
  }
  r.half_cycles = sim.get_half_cycles() - h0;
  r.straddles = sim.get_straddles() - st0;
  r.mean_power_w = (sim.get_energy_j() - e0) / (r.half_cycles * sim.get_half_period_us() * 1e-6);
  return r;
}

}  // namespace pvtest
