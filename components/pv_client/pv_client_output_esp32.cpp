// ESP32: zero-cross GPIO interrupt + a gptimer (1 MHz) whose alarm is re-armed from its own ISR at
// the next event the scheduler asks for (at most 500 us ahead). The callback and the gptimer
// control functions are placed in IRAM (sdkconfig set by the component's Python code).
#ifdef USE_ESP32

#include "pv_client_output.h"
#include "esphome/core/log.h"

#include "driver/gptimer.h"

namespace esphome::pv_client {

static const char *const TAG = "pv_client.esp32";

static constexpr uint32_t MAX_TIMER_STEP_US = 500;
static constexpr uint32_t MIN_TIMER_STEP_US = 5;

static gptimer_handle_t g_timer = nullptr;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

static bool IRAM_ATTR pv_client_timer_isr(gptimer_handle_t timer, const gptimer_alarm_event_data_t *edata,
                                          void *arg) {
  auto *store = static_cast<PvClientIsrStore *>(arg);
  const uint32_t dt = store->poll_gate(micros(), MIN_TIMER_STEP_US, MAX_TIMER_STEP_US);  // 1 MHz: us = ticks
  gptimer_alarm_config_t alarm{};
  alarm.alarm_count = edata->count_value + static_cast<uint64_t>(dt);
  gptimer_set_alarm_action(timer, &alarm);
  return false;  // no task woken
}

void PvClientOutput::platform_setup_() {
  if (g_timer != nullptr) {
    ESP_LOGE(TAG, "Only one pv_client output per device");
    this->mark_failed();
    return;
  }
  this->setup_pins_();

  gptimer_config_t config{};
  config.clk_src = GPTIMER_CLK_SRC_DEFAULT;
  config.direction = GPTIMER_COUNT_UP;
  config.resolution_hz = 1000000;
  esp_err_t err = gptimer_new_timer(&config, &g_timer);
  if (err == ESP_OK) {
    gptimer_event_callbacks_t cbs{};
    cbs.on_alarm = pv_client_timer_isr;
    err = gptimer_register_event_callbacks(g_timer, &cbs, &this->store_);
  }
  if (err == ESP_OK)
    err = gptimer_enable(g_timer);
  if (err == ESP_OK) {
    gptimer_alarm_config_t alarm{};
    alarm.alarm_count = MAX_TIMER_STEP_US;
    err = gptimer_set_alarm_action(g_timer, &alarm);
  }
  if (err == ESP_OK)
    err = gptimer_start(g_timer);
  if (err != ESP_OK) {
    ESP_LOGE(TAG, "gptimer setup failed: %s", esp_err_to_name(err));
    this->mark_failed();
  }
}

void PvClientOutput::platform_loop_() {}

}  // namespace esphome::pv_client

#endif  // USE_ESP32
