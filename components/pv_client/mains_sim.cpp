#include "mains_sim.h"

#include <cmath>

namespace esphome::pv_client {

static inline int32_t sdiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

void MainsSimulator::configure(const MainsSimConfig &config, uint32_t start_us) {
  this->config_ = config;
  this->half_us_ = 1e6 / (2.0 * static_cast<double>(config.frequency_hz));
  this->start_ = start_us;
  this->t_ = start_us;
  this->zc_k_ = 1;
  this->rng_ = config.seed != 0 ? config.seed : 1;
  this->edge_k_ = 0;
  // first detector edge whose time is not before the start
  this->next_edge_ = this->detector_edge_(this->edge_k_);
  while (sdiff(this->next_edge_, start_us) < 0)
    this->next_edge_ = this->detector_edge_(++this->edge_k_);
  this->noise_enabled_ = config.noise_edges_per_s > 0.0f;
  if (this->noise_enabled_)
    this->next_noise_at_ = this->next_noise_();
  this->next_poll_ = start_us;
  this->gate_ = false;
  this->conducting_ = false;
  this->energy_j_ = 0.0;
  this->half_cycles_ = 0;
  this->conducting_half_cycles_ = 0;
  this->noise_edges_ = 0;
  this->straddles_ = 0;
}

uint32_t MainsSimulator::rand_() {
  uint32_t x = this->rng_;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  this->rng_ = x;
  return x;
}

uint32_t MainsSimulator::true_zc_(uint64_t k) const {
  return this->start_ + static_cast<uint32_t>(std::llround(static_cast<double>(k) * this->half_us_));
}

uint32_t MainsSimulator::detector_edge_(uint64_t k) {
  int32_t jitter = 0;
  if (this->config_.jitter_us > 0)
    jitter = static_cast<int32_t>(this->rand_() % (2 * this->config_.jitter_us + 1)) -
             static_cast<int32_t>(this->config_.jitter_us);
  return this->true_zc_(k) + static_cast<uint32_t>(this->config_.detector_offset_us + jitter);
}

uint32_t MainsSimulator::next_noise_() {
  double u = (this->rand_() + 1.0) / 4294967297.0;
  double dt = -std::log(u) / static_cast<double>(this->config_.noise_edges_per_s) * 1e6;
  if (dt < 1.0)
    dt = 1.0;
  return this->t_ + static_cast<uint32_t>(dt);
}

void MainsSimulator::run_until(GateScheduler *scheduler, uint32_t until) {
  static constexpr double PI = 3.14159265358979323846;
  while (sdiff(until, this->t_) > 0) {
    // earliest pending event
    uint32_t zc = this->true_zc_(this->zc_k_);
    uint32_t e = until;
    auto pick = [&](uint32_t t) {
      if (sdiff(t, e) < 0)
        e = t;
    };
    pick(zc);
    pick(this->next_edge_);
    if (this->noise_enabled_)
      pick(this->next_noise_at_);
    pick(this->next_poll_);
    if (sdiff(e, this->t_) < 0)
      e = this->t_;
    this->t_ = e;

    if (e == zc) {
      // end of a half-cycle: account what it conducted
      double frac = 0.0;
      if (this->conducting_) {
        uint32_t start = this->true_zc_(this->zc_k_ - 1);
        double a = PI * static_cast<double>(sdiff(this->cond_start_, start)) / this->half_us_;
        if (a < 0.0)
          a = 0.0;
        frac = a >= PI ? 0.0 : 1.0 - a / PI + std::sin(2.0 * a) / (2.0 * PI);
        this->conducting_half_cycles_++;
      }
      this->last_fraction_ = frac;
      this->energy_j_ += static_cast<double>(this->config_.load_power_w) * frac * this->half_us_ * 1e-6;
      this->half_cycles_++;
      this->zc_k_++;
      // a gate still high at the crossing fires the new half-cycle from its start
      this->conducting_ = this->gate_;
      this->cond_start_ = e;
      if (this->gate_)
        this->straddles_++;
    }
    if (e == this->next_edge_) {
      if (this->detector_enabled_)
        scheduler->on_edge(e);
      this->next_edge_ = this->detector_edge_(++this->edge_k_);
    }
    if (this->noise_enabled_ && e == this->next_noise_at_) {
      scheduler->on_edge(e);
      this->noise_edges_++;
      this->next_noise_at_ = this->next_noise_();
    }
    uint32_t next = 0;
    bool gate = scheduler->poll(e, &next);
    if (sdiff(next, e) <= 0 || sdiff(next, e) > 1000)
      next = e + 1000;
    this->next_poll_ = next;
    if (gate != this->gate_) {
      this->gate_ = gate;
      if (this->gate_log_ != nullptr)
        this->gate_log_->push_back({e, gate});
      if (gate && !this->conducting_) {
        this->conducting_ = true;
        this->cond_start_ = e;
      }
    }
  }
}

}  // namespace esphome::pv_client
