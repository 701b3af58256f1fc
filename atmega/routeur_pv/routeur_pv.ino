// Solar PV surplus router, ATmega328P (Arduino Nano/Uno). Thin sketch: the logic lives in the
// headers beside it (pure C++, unit-tested natively), the hardware access in hal_avr.h.
// See ../README.md for wiring, calibration and the serial frame; config.h for every setting.
#include "config.h"
#include "controller.h"
#include "hal_avr.h"
#include "isr_state.h"

static RouterController controller;
static FrameBuilder frame;
static hal::UartSender uart;
static uint8_t cycles_processed = 0;
#ifdef PV_TEST_HANG_AFTER_FRAMES
// Test build only (tests/atmega/test_atmega_sim.py): loop() hangs after that many frames, so the
// simulator shows the gate stopping at once and the watchdog resetting the chip.
static uint8_t frames_started = 0;
#endif

void setup() {
  hal::gate_low();
  controller.set_watchdog_reset(hal::was_watchdog_reset());
  Settings settings;
  const bool from_eeprom = load_settings<hal::Eeprom>(settings);
  controller.begin(settings, from_eeprom);
  hal::start_uart();
  hal::start_sampling();
  hal::start_watchdog();
}

void loop() {
  hal::feed_watchdog();
  uart.poll();
  uint8_t received;
  while (g_isr.rx.pop(received)) controller.on_rx_byte(received);
  controller.poll_settings<hal::Eeprom>();
  const uint8_t completed = g_isr.pipeline.completed_count();
  PV_COMPILER_BARRIER();
  while (cycles_processed != completed) {
    ++cycles_processed;
    controller.set_tx_busy(uart.busy());
    const GateCommand command = controller.on_cycle(g_isr.pipeline.completed(cycles_processed), frame);
    hal::publish(command.fire, command.delay_ticks, controller.voltage_offset_scaled());
    if (controller.frame_ready()) {
#ifdef PV_TEST_HANG_AFTER_FRAMES
      if (++frames_started > PV_TEST_HANG_AFTER_FRAMES) for (;;) {}
#endif
      uart.start(frame.text(), frame.length());
      controller.frame_taken();
    }
    uart.poll();
  }
}

// Our own main(): the Arduino core's would first run init(), which sets up Timer0 (millis), the
// PWM timers and the ADC, all of which start_sampling() sets up its own way (~170 B of flash).
int main() {
  setup();
  for (;;) loop();
}
