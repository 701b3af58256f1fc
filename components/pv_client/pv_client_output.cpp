#include "pv_client_output.h"
#include "power_curve.h"
#include "esphome/core/log.h"

#include <cmath>

namespace esphome::pv_client {

static const char *const TAG = "pv_client.output";

#ifndef USE_HOST
uint32_t IRAM_ATTR HOT PvClientIsrStore::poll_gate(uint32_t now, uint32_t min_step_us, uint32_t max_step_us) {
  bool on;
  const uint32_t step = this->scheduler.poll_step(now, min_step_us, max_step_us, &on);
  if (on != this->gate) {
    this->gate_pin.digital_write(on);
    this->gate = on;
  }
  return step;
}

static void IRAM_ATTR HOT pv_client_zero_cross_isr(PvClientIsrStore *store) { store->scheduler.on_edge(micros()); }

void PvClientOutput::setup_pins_() {
  this->gate_pin_->setup();
  this->gate_pin_->digital_write(false);
  this->store_.gate_pin = this->gate_pin_->to_isr();
  this->zero_cross_pin_->setup();
  this->zero_cross_pin_->attach_interrupt(&pv_client_zero_cross_isr, &this->store_, this->zero_cross_interrupt_type_);
}
#endif

void PvClientOutput::setup() {
  this->store_.scheduler.configure(this->scheduler_config_);
  this->platform_setup_();
}

void PvClientOutput::loop() {
  this->platform_loop_();
  bool locked = this->store_.scheduler.is_locked();
  if (locked != this->was_locked_) {
    this->was_locked_ = locked;
    if (locked) {
      ESP_LOGI(TAG, "Mains locked: half-period %" PRIu32 " us", this->store_.scheduler.get_half_period_us());
    } else {
      ESP_LOGW(TAG, "Zero crossings lost: gate off");
    }
  }
}

void PvClientOutput::write_state(float state) {
  if (!(state > 0.0f))
    state = 0.0f;
  if (state > 1.0f)
    state = 1.0f;
  this->applied_ = state;
  // Computed here in the main loop (floating point); the interrupts only read the Q16 results.
  this->store_.scheduler.set_phase_delay_q16(phase_delay_q16_for_power(state));
  this->store_.scheduler.set_burst_level_q16(static_cast<uint32_t>(std::lround(state * 65536.0f)));
}

int32_t PvClientOutput::get_firing_delay_us() const {
  const auto &sched = this->store_.scheduler;
  const auto &plan = sched.get_plan();
  if (!sched.is_locked() || !plan.fire)
    return -1;
  return static_cast<int32_t>(plan.on_us - sched.get_zero_cross_us());
}

void PvClientOutput::dump_config() {
  ESP_LOGCONFIG(TAG,
                "PV client dimmer:\n"
                "  Method: %s\n"
                "  Load power: %.0f W\n"
                "  Zero-cross offset: %" PRId32 " us\n"
                "  Crossing window: +-%" PRIu32 " us",
                this->store_.scheduler.get_method() == FIRE_METHOD_BURST ? "burst" : "phase_angle",
                this->load_power_, this->scheduler_config_.zero_cross_offset_us, this->scheduler_config_.window_us);
#ifndef USE_HOST
  LOG_PIN("  Gate Pin: ", this->gate_pin_);
  LOG_PIN("  Zero-Cross Pin: ", this->zero_cross_pin_);
#else
  ESP_LOGCONFIG(TAG, "  Simulated mains: %.1f Hz", this->mains_frequency_);
#ifdef USE_SENSOR
  LOG_SENSOR("  ", "Simulated power", this->simulated_power_sensor_);
#endif
#endif
  LOG_FLOAT_OUTPUT(this);
}

}  // namespace esphome::pv_client
