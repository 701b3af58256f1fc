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
    const GateCommand command = controller.on_cycle(g_isr.pipeline.completed(cycles_processed));
    hal::publish(command.fire, command.delay_ticks, controller.voltage_offset_scaled());
    if (controller.frame_ready()) {
      uart.start(controller.frame().text(), controller.frame().length());
      controller.frame_taken();
    }
    uart.poll();
  }
}
