// All ATmega328P register access: early pin init, Timer1, ADC, USART0, watchdog, the ISRs.
// Included once, by routeur_pv.ino.
#pragma once
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>
#include <util/delay.h>
#include "config.h"
#include "isr_state.h"
#include "frame.h"

static_assert(F_CPU == cfg::kCpuHz, "config.h kCpuHz must match F_CPU");

IsrState g_isr;
extern "C" {
volatile uint16_t g_gate_delay_ticks = 0;
volatile uint16_t g_adc_isr_max_ticks = 0;  // diagnostics: longest ADC ISR pass (Timer1 ticks)
volatile uint8_t g_adc_overruns = 0;        // diagnostics: ADC ISR passes that overran 52 us
}
// MCUSR as found at reset (kept out of .bss zeroing).
uint8_t g_reset_cause __attribute__((section(".noinit")));

namespace hal {

constexpr uint8_t kGateMask = uint8_t(1u << cfg::kGateCh1PortDBit);
constexpr uint8_t kCh2Mask = uint8_t(1u << cfg::kCh2ReservedPortDBit);
constexpr uint8_t kAdmuxReference = _BV(REFS0);  // AVcc
constexpr uint8_t kAdcPrescalerBits = _BV(ADPS2) | _BV(ADPS1);  // /64
static_assert(cfg::kAdcPrescaler == 64, "kAdcPrescalerBits encode /64");
static_assert(cfg::kTimer1Prescaler == 8, "TCCR1B uses CS11 (/8)");
constexpr uint16_t kUbrr = uint16_t(cfg::kCpuHz / (16UL * cfg::kSerialBaud) - 1);  // 103: 9615 baud

// Runs before the C runtime init: gate LOW first thing, and the watchdog off (after a watchdog
// reset it stays enabled).
extern "C" void hal_early_init(void) __attribute__((naked, used, section(".init3")));
extern "C" void hal_early_init(void) {
  PORTD &= uint8_t(~(kGateMask | kCh2Mask));
  DDRD |= kGateMask | kCh2Mask;
  g_reset_cause = MCUSR;
  MCUSR = 0;
  wdt_disable();
}

inline bool was_watchdog_reset() { return g_reset_cause & _BV(WDRF); }

// TCNT1 is read through the timer's shared high-byte register (TEMP); the gate ISRs use it too, so
// a read from the preemptible ADC ISR must not be split by them.
inline uint16_t timer1_now() {
  const uint8_t sreg = SREG;
  cli();
  const uint16_t now = TCNT1;
  SREG = sreg;
  return now;
}

struct GateHal {
  struct Critical {
    uint8_t sreg;
    Critical() : sreg(SREG) { cli(); }
    ~Critical() { SREG = sreg; }
  };
  // Arms the rising edge at gate_at (Timer1 ticks) unless it is too close or already past.
  static void arm(uint16_t gate_at, uint16_t delay) {
    const uint16_t compare = uint16_t(gate_at - cfg::kGateIsrLatencyTicks);
    const uint16_t lead = uint16_t(compare - TCNT1);
    if (lead < cfg::kScheduleMinLeadTicks || lead > cfg::kScheduleMaxLeadTicks) return;
    OCR1A = compare;
    TIFR1 = _BV(OCF1A);  // drop a stale match flag
    TIMSK1 |= _BV(OCIE1A);
    g_gate_delay_ticks = delay;
  }
  // Drops a pending edge; a pulse already HIGH still ends through COMPB.
  static void cancel() { TIMSK1 &= uint8_t(~_BV(OCIE1A)); }
};

inline void gate_low() { PORTD &= uint8_t(~kGateMask); }

inline void start_uart() {
  UBRR0 = kUbrr;
  // Normal speed (U2X0 = 0, its reset value). A bootloader may have set U2X0: clear it, but only
  // then, because any UCSR0A write also clears UDRE0 in simavr 1.6 and polled TX would never start.
  if (UCSR0A & _BV(U2X0)) UCSR0A &= uint8_t(~_BV(U2X0));
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);  // 8N1
  // TX polled from loop() (no ISR, no blocking); RX (the gateway's optional command line) by a
  // tiny ISR into a ring. The pull-up keeps an unconnected D0 quiet.
  PORTD |= _BV(PD0);
  UCSR0B = _BV(TXEN0) | _BV(RXEN0) | _BV(RXCIE0);
}

// Timer1 free running at 0.5 us; the ADC free running V, I, V, I... at 52 us per conversion,
// its sample instants aligned once on Timer1.
inline void start_sampling() {
  cli();
  TIMSK0 = 0;  // millis() unused: no Timer0 ISR to delay the gate edges
  TCCR1A = 0;
  TCCR1B = _BV(CS11);
  TIMSK1 = 0;
  DIDR0 = _BV(cfg::kVoltageAdcMux) | _BV(cfg::kCurrentAdcMux);
  ADCSRB = 0;  // free running
  ADMUX = kAdmuxReference | cfg::kVoltageAdcMux;  // conversion 0: V
  // ADIF is clear after reset; it is not written here (writing 1 clears it on silicon but sets it
  // in simavr, which would end the busy-wait below at once).
  ADCSRA = _BV(ADEN) | _BV(ADSC) | _BV(ADATE) | kAdcPrescalerBits;
  _delay_us(8);                                   // > 1 ADC clock: conversion 0 has latched V
  ADMUX = kAdmuxReference | cfg::kCurrentAdcMux;  // conversion 1: I
  while (!(ADCSRA & _BV(ADIF))) {
  }
  const uint16_t conversion1_start = uint16_t(TCNT1 - cfg::kAlignPollLatencyTicks);
  ADCSRA |= _BV(ADIF);                            // conversion 0 discarded
  ADMUX = kAdmuxReference | cfg::kVoltageAdcMux;  // conversion 2: V (the mux lags one conversion)
  g_isr.pipeline.start(uint16_t(conversion1_start + cfg::kSampleHoldTicks), false);
  ADCSRA |= _BV(ADIE);
  sei();
}

// The settings' EEPROM (settings.h), by its registers: a write starts and returns at once (3.4 ms
// on silicon), nothing waits.
struct Eeprom {
  static bool ready() { return !(EECR & _BV(EEPE)); }
  static uint8_t read(uint8_t address) {
    EEAR = address;
    EECR |= _BV(EERE);
    return EEDR;
  }
  static void write(uint8_t address, uint8_t value) {
    EEAR = address;
    EEDR = value;
    const uint8_t sreg = SREG;
    cli();  // EEPE within 4 cycles of EEMPE
    EECR |= _BV(EEMPE);
    EECR |= _BV(EEPE);
    SREG = sreg;
  }
};

inline void start_watchdog() { wdt_enable(WDTO_2S); }
static_assert(cfg::kWatchdogTimeoutMs == 2000, "WDTO_2S");
inline void feed_watchdog() { wdt_reset(); }

// Non-blocking transmitter: one byte whenever the data register is empty.
class UartSender {
 public:
  void start(const char* text, uint8_t length) {
    text_ = text;
    length_ = length;
    next_ = 0;
  }
  void poll() {
    // The very first byte goes without looking at UDRE0: the transmitter is idle after reset, and
    // simavr 1.6 loses the UDRE0 reset value on the USART set-up writes (later bytes raise it).
    if (next_ < length_ && (never_sent_ || (UCSR0A & _BV(UDRE0)))) {
      UDR0 = uint8_t(text_[next_++]);
      never_sent_ = false;
    }
  }
  bool busy() const { return next_ < length_; }

 private:
  const char* text_ = nullptr;
  uint8_t length_ = 0;
  uint8_t next_ = 0;
  bool never_sent_ = true;
};

// loop() -> ISR hand-over of the gate command and the voltage offset.
inline void publish(bool fire, uint16_t delay_ticks, uint16_t voltage_offset_scaled) {
  GateHal::Critical guard;
  set_gate_command(g_isr, fire, delay_ticks);
  g_isr.pipeline.set_voltage_offset_scaled(voltage_offset_scaled);
  if (!fire) GateHal::cancel();
}

}  // namespace hal

#ifdef PV_DIAGNOSTICS
void add_diagnostics(FrameBuilder& frame) {
  frame.add_integer("ISR", g_adc_isr_max_ticks);
  frame.add_integer("LAT", g_isr.pipeline.reference_lateness());
  frame.add_integer("OVR", g_adc_overruns);
  g_adc_isr_max_ticks = 0;
}
#endif

// ISR_NOBLOCK: interrupts are enabled at the first instruction, so the gate (Timer1) ISRs preempt
// this one. Its own interrupt is switched off meanwhile, so it never nests: if it ever overran a
// conversion (52 us), the next result is taken in the same invocation instead.
ISR(ADC_vect, ISR_NOBLOCK) {
  const uint8_t control = uint8_t(ADCSRA & ~(_BV(ADIE) | _BV(ADIF)));  // writing ADIF=1 clears it
  ADCSRA = control;
  for (;;) {
    const uint16_t entered = hal::timer1_now();
    // The conversion running now was set up by the previous ISR; this write selects the channel
    // of the one after it, which is the channel of the result read here (V, I alternate).
    ADMUX = hal::kAdmuxReference |
            (g_isr.pipeline.next_is_current() ? cfg::kCurrentAdcMux : cfg::kVoltageAdcMux);
    const uint8_t events = g_isr.pipeline.on_conversion(ADC, entered);
    if (events) handle_adc_events<hal::GateHal>(g_isr, events);
    const uint16_t took = uint16_t(hal::timer1_now() - entered);
    if (took > g_adc_isr_max_ticks) g_adc_isr_max_ticks = took;
    cli();
    ADCSRA = uint8_t(control | _BV(ADIE));
    if (!(ADCSRA & _BV(ADIF))) return;  // reti re-enables interrupts
    // Overrun: the next conversion has ended. Clear its flag (1 clears it on silicon, 0 in
    // simavr) and take it now.
    ADCSRA = uint8_t(control | _BV(ADIF));
    ADCSRA = control;
    if (g_adc_overruns < 0xFF) ++g_adc_overruns;
    sei();
  }
}

// Short: it may delay a gate edge by its own length (a few us).
ISR(USART_RX_vect) { g_isr.rx.push(UDR0); }

ISR(TIMER1_COMPA_vect) {
  PORTD |= hal::kGateMask;  // first: the edge time is what the delay promised
  g_isr.pipeline.on_gate_edge(TCNT1);  // the same Timer1 tick: for the edge-sample correction
  OCR1B = uint16_t(OCR1A + cfg::kGatePulseTicks);
  TIFR1 = _BV(OCF1B);
  TIMSK1 = uint8_t((TIMSK1 & ~_BV(OCIE1A)) | _BV(OCIE1B));
  g_isr.planner.on_fired();
}

ISR(TIMER1_COMPB_vect) {
  hal::gate_low();
  TIMSK1 &= uint8_t(~_BV(OCIE1B));
  handle_pulse_end<hal::GateHal>(g_isr);
}
