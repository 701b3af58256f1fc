// Solar PV surplus router, ATmega328P (Arduino Nano/Uno). Thin sketch: the logic lives in the
// headers beside it (pure C++, unit-tested natively), the hardware access in hal_avr.h.
// See ../README.md for wiring, calibration and the serial frame; config.h for every setting.
#include "config.h"
#include "controller.h"
#include "hal_avr.h"
#include "isr_state.h"

static RouterController controller;
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
  hal::start_uart();
  hal::start_sampling();
  hal::start_watchdog();
}

void loop() {
  hal::feed_watchdog();
  uart.poll();
  const uint8_t completed = g_isr.pipeline.completed_count();
  PV_COMPILER_BARRIER();
  while (cycles_processed != completed) {
    ++cycles_processed;
    controller.set_tx_busy(uart.busy());
    const GateCommand command = controller.on_cycle(g_isr.pipeline.completed(cycles_processed));
    hal::publish(command.fire, command.delay_ticks, controller.voltage_offset_scaled());
    if (controller.frame_ready()) {
#ifdef PV_TEST_HANG_AFTER_FRAMES
      if (++frames_started > PV_TEST_HANG_AFTER_FRAMES) for (;;) {}
#endif
      uart.start(controller.frame().text(), controller.frame().length());
      controller.frame_taken();
    }
    uart.poll();
  }
}
