#pragma once
// Simulated mains and zero-cross detector for the host platform, the unit tests and the bench.
// It feeds a GateScheduler with detector edges (optionally offset, jittered, noisy or missing),
// polls it at every event it asks for, and turns the gate edges into the power a resistive load
// would take: a triac latches at the first instant its gate is high within a half-cycle and
// conducts to the end of it, so each half-cycle delivers load_power * integral(sin^2) over the
// conducted part, normalised. Plain C++, no ESPHome dependency.

#include <cstdint>
#include <vector>

#include "gate_scheduler.h"

namespace esphome::pv_client {

struct MainsSimConfig {
  float frequency_hz{50.0f};
  float load_power_w{2000.0f};
  int32_t detector_offset_us{0};   // detector edge = true crossing + offset
  uint32_t jitter_us{0};           // uniform +-jitter on every detector edge
  float noise_edges_per_s{0.0f};   // spurious detector edges (Poisson)
  uint32_t seed{12345};
};

struct GateEdge {
  uint32_t time_us;
  bool high;
};

class MainsSimulator {
 public:
  void configure(const MainsSimConfig &config, uint32_t start_us);
  /// Run the scheduler from the current simulated time up to `until` (absolute, us).
  void run_until(GateScheduler *scheduler, uint32_t until);
  /// Stop/resume the detector's real edges (mains or detector failure); noise edges continue.
  void set_detector_enabled(bool enabled) { this->detector_enabled_ = enabled; }
  /// Record every gate edge into `log` (nullptr: off).
  void set_gate_log(std::vector<GateEdge> *log) { this->gate_log_ = log; }

  uint32_t now() const { return this->t_; }
  double get_energy_j() const { return this->energy_j_; }
  uint64_t get_half_cycles() const { return this->half_cycles_; }
  uint64_t get_conducting_half_cycles() const { return this->conducting_half_cycles_; }
  uint64_t get_noise_edges() const { return this->noise_edges_; }
  /// Conducted fraction (0..1) of the last completed half-cycle.
  double get_last_fraction() const { return this->last_fraction_; }
  double get_half_period_us() const { return this->half_us_; }
  /// Gate high at a true zero crossing (the triac then conducts the whole next half-cycle).
  uint64_t get_straddles() const { return this->straddles_; }

 protected:
  uint32_t true_zc_(uint64_t k) const;
  uint32_t detector_edge_(uint64_t k);
  uint32_t next_noise_();
  uint32_t rand_();

  MainsSimConfig config_{};
  double half_us_{10000.0};
  uint32_t start_{0};
  uint32_t t_{0};
  uint64_t zc_k_{1};        // index of the next true crossing
  uint64_t edge_k_{0};      // index of the crossing of the next detector edge
  uint32_t next_edge_{0};
  uint32_t next_noise_at_{0};
  bool noise_enabled_{false};
  bool detector_enabled_{true};
  uint32_t next_poll_{0};
  bool gate_{false};
  bool conducting_{false};
  uint32_t cond_start_{0};
  uint32_t rng_{1};
  double energy_j_{0.0};
  double last_fraction_{0.0};
  uint64_t half_cycles_{0};
  uint64_t conducting_half_cycles_{0};
  uint64_t noise_edges_{0};
  uint64_t straddles_{0};
  std::vector<GateEdge> *gate_log_{nullptr};
};

}  // namespace esphome::pv_client
