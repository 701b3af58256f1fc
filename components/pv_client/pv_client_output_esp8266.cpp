// ESP8266: zero-cross GPIO interrupt + timer1 (through the Arduino core's waveform generator, which
// shares timer1 with soft PWM, as ESPHome's ac_dimmer does).
#ifdef USE_ESP8266

#include "pv_client_output.h"
#include "esphome/core/log.h"

#include <Arduino.h>  // clockCyclesPerMicrosecond()
#include <core_esp8266_waveform.h>

namespace esphome::pv_client {

static const char *const TAG = "pv_client.esp8266";

/// Longest timer1 step: the scheduler is polled at least this often (window closes, lost mains).
static constexpr uint32_t MAX_TIMER_STEP_US = 500;

static PvClientIsrStore *g_store = nullptr;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

/// timer1 callback. The core wants CPU clock cycles until the next call, not microseconds
/// (core_esp8266_waveform.h): a 500 us step returned as 500 would be 6 us at 80 MHz, an interrupt
/// storm starving Wi-Fi. clockCyclesPerMicrosecond() is the core's F_CPU (80 or 160 MHz).
static uint32_t IRAM_ATTR HOT pv_client_timer_isr() {
  PvClientIsrStore *store = g_store;
  if (store == nullptr)
    return us_to_cycles(MAX_TIMER_STEP_US, clockCyclesPerMicrosecond());
  const uint32_t dt = store->poll_gate(micros(), ESP8266_TIMER1_MIN_US, MAX_TIMER_STEP_US);
  return us_to_cycles(dt, clockCyclesPerMicrosecond());
}

void PvClientOutput::platform_setup_() {
  if (g_store != nullptr) {
    ESP_LOGE(TAG, "Only one pv_client output per device");
    this->mark_failed();
    return;
  }
  g_store = &this->store_;
  this->setup_pins_();
  setTimer1Callback(&pv_client_timer_isr);
}

void PvClientOutput::platform_loop_() {}

}  // namespace esphome::pv_client

#endif  // USE_ESP8266
