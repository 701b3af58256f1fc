// Host: no pins, no interrupts. The same GateScheduler runs against a simulated mains clock in the
// main loop; the gate edges it schedules become the power a resistive load_power heater would take,
// published (average over each mains cycle) on the optional simulated power sensor.
#ifdef USE_HOST

#include "pv_client_output.h"
#include "esphome/core/log.h"

#include <csignal>

namespace esphome::pv_client {

/// A real dimmer applies a new level within a half-cycle, and in a real house the grid meter sees it
/// at once: the simulated power is published every mains cycle so the house model it feeds (the
/// demo, the whole-system tests) sees the change nearly as soon.
static constexpr uint32_t SIM_POWER_PERIOD_MS = 20;

void PvClientOutput::platform_setup_() {
  // A peer that drops its socket (Home Assistant restarting) must give EPIPE, not kill the process.
  signal(SIGPIPE, SIG_IGN);
  MainsSimConfig config;
  config.frequency_hz = this->mains_frequency_;
  config.load_power_w = this->load_power_;
  const uint32_t now = micros();
  this->sim_.configure(config, now);
  this->sim_mark_halves_ = 0;
  this->sim_energy_mark_j_ = 0.0;
  this->set_interval("sim_power", SIM_POWER_PERIOD_MS, [this]() {
    // average over the half-cycles completed since the last publication
    const uint64_t halves = this->sim_.get_half_cycles();
    if (halves == this->sim_mark_halves_)
      return;
    const double energy = this->sim_.get_energy_j();
    const double seconds = static_cast<double>(halves - this->sim_mark_halves_) * this->sim_.get_half_period_us() * 1e-6;
    this->simulated_power_ = static_cast<float>((energy - this->sim_energy_mark_j_) / seconds);
    this->sim_energy_mark_j_ = energy;
    this->sim_mark_halves_ = halves;
#ifdef USE_SENSOR
    if (this->simulated_power_sensor_ != nullptr)
      this->simulated_power_sensor_->publish_state(this->simulated_power_);
#endif
  });
}

void PvClientOutput::platform_loop_() {
  this->sim_.run_until(&this->store_.scheduler, micros());
}

}  // namespace esphome::pv_client

#endif  // USE_HOST
