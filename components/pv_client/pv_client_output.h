#pragma once

#include "esphome/core/component.h"
#include "esphome/core/defines.h"
#include "esphome/core/hal.h"
#include "esphome/components/output/float_output.h"
#ifdef USE_SENSOR
#include "esphome/components/sensor/sensor.h"
#endif

#include "gate_scheduler.h"
#ifdef USE_HOST
#include "mains_sim.h"
#endif

namespace esphome::pv_client {

/// Interrupt-side state: the scheduler plus the gate pin, touched only from the zero-cross and
/// timer interrupts (and from the main loop on the host, where there are no interrupts).
struct PvClientIsrStore {
  GateScheduler scheduler;
#ifndef USE_HOST
  ISRInternalGPIOPin gate_pin;
  /// From the timer interrupt: drives the gate as the scheduler says at `now` (us); returns the
  /// microseconds until the next event it asks for (GateScheduler::poll_step).
  uint32_t poll_gate(uint32_t now, uint32_t min_step_us, uint32_t max_step_us);
#endif
  volatile bool gate{false};
};

/// Triac dimmer output (RobotDyn): the level is a POWER fraction of load_power.
class PvClientOutput : public output::FloatOutput, public Component {
 public:
  void setup() override;
  void loop() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::HARDWARE; }

#ifndef USE_HOST
  void set_gate_pin(InternalGPIOPin *pin) { this->gate_pin_ = pin; }
  void set_zero_cross_pin(InternalGPIOPin *pin) { this->zero_cross_pin_ = pin; }
  void set_zero_cross_interrupt_type(gpio::InterruptType type) { this->zero_cross_interrupt_type_ = type; }
#endif
  void set_method(FireMethod method) { this->store_.scheduler.set_method(method); }
  void set_load_power(float watts) { this->load_power_ = watts; }
  void set_zero_cross_offset(int32_t us) { this->scheduler_config_.zero_cross_offset_us = us; }
  void set_window(uint32_t us) { this->scheduler_config_.window_us = us; }
#ifdef USE_HOST
  void set_mains_frequency(float hz) { this->mains_frequency_ = hz; }
#ifdef USE_SENSOR
  void set_simulated_power_sensor(sensor::Sensor *s) { this->simulated_power_sensor_ = s; }
#endif
  /// Stop/resume the simulated detector edges (test hook: mains loss).
  void set_simulated_mains(bool on) { this->sim_.set_detector_enabled(on); }
  float get_simulated_power() const { return this->simulated_power_; }
#endif

  float get_load_power() const { return this->load_power_; }
  /// The power fraction currently applied (after min/max power mapping), 0..1.
  float get_applied_fraction() const { return this->applied_; }
  bool is_mains_locked() const { return this->store_.scheduler.is_locked(); }
  /// Firing delay of the current plan after the mains crossing, us (-1 when not firing).
  int32_t get_firing_delay_us() const;

 protected:
  void write_state(float state) override;
  void platform_setup_();
  void platform_loop_();
#ifndef USE_HOST
  /// Gate LOW, zero-cross interrupt attached: what every hardware platform does first.
  void setup_pins_();
#endif

  PvClientIsrStore store_{};
  GateSchedulerConfig scheduler_config_{};
  float load_power_{2000.0f};
  float applied_{0.0f};
  bool was_locked_{false};
#ifndef USE_HOST
  InternalGPIOPin *gate_pin_{nullptr};
  InternalGPIOPin *zero_cross_pin_{nullptr};
  gpio::InterruptType zero_cross_interrupt_type_{gpio::INTERRUPT_RISING_EDGE};
#else
  float mains_frequency_{50.0f};
  MainsSimulator sim_{};
  double sim_energy_mark_j_{0.0};
  uint64_t sim_mark_halves_{0};
  float simulated_power_{0.0f};
#ifdef USE_SENSOR
  sensor::Sensor *simulated_power_sensor_{nullptr};
#endif
#endif
};

}  // namespace esphome::pv_client
