/*
 * Test firmware for the simulator (not the product firmware).
 *
 * It exercises exactly the parts of the harness that need checking:
 *  - ADC free-running at prescaler 128, alternating mux V/I in the ISR, written the way
 *    real silicon needs it (a mux written in ISR k applies to conversion k+2), so a
 *    harness without the one-conversion lag shows swapped channels (VRM wrong);
 *    built with -DSINGLE_CONVERSION it uses single conversions instead (no lag at all);
 *  - zero crossing (rising and falling) from the voltage samples, interpolated;
 *  - gate PD2 HIGH at a fixed delay after the estimated crossing (Timer1 compare ISR),
 *    LOW 100 us later, with g_gate_delay_ticks = the delay it intended;
 *  - one frame per 50 mains cycles, interrupt-driven UART, with CRC-8 Dallas/Maxim:
 *    REE from the sum of v*i (sign: positive = export), VRM, FRQ, SPL, and a VO2 that
 *    steps 0,25,50,75,100 so the channel-2 client can be checked;
 *  - interrupt-driven UART RX (for --rx-input): RXN bytes received, RXC their CRC-8,
 *    and once something arrived RXF/RXL, the Timer1 time (us) of the first/last byte;
 *  - EEB, a boot counter in EEPROM bytes 0..1 (blank 0xFFFF = 0), for --eeprom.
 */
#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/eeprom.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#define V_CH 3
#define I_CH 5
#define GATE_DELAY_US 3000u
#define GATE_PULSE_TICKS 200u          /* 100 us */
#define CONV_TICKS 208u                 /* 13 ADC clocks at /128 = 104 us = 208 Timer1 ticks */
#define ADC_MID 512

volatile uint16_t g_gate_delay_ticks;

/* per-cycle accumulators (ISR side) */
static volatile int32_t acc_p, acc_v2;
static volatile uint16_t acc_nv, acc_ni;
/* per-frame results handed to the main loop */
static volatile int32_t frame_p, frame_v2;
static volatile uint16_t frame_nv, frame_cycles, frame_ticks_hi, last_pairs;
static volatile uint32_t frame_ticks;
static volatile uint8_t frame_ready;

static volatile uint16_t tick_hi;      /* Timer1 overflow count: 32-bit time base */
ISR(TIMER1_OVF_vect) { tick_hi++; }

static uint32_t now_ticks_isr(void)
{
	uint16_t lo = TCNT1;
	uint16_t hi = tick_hi;
	if ((TIFR1 & _BV(TOV1)) && lo < 0x8000) hi++;
	return ((uint32_t)hi << 16) | lo;
}

/* 0 idle, 1 waiting for the edge, 2 pulse on. COMPA stays enabled and idle matches
 * are ignored: clearing OCF1A by writing TIFR1 loses a pending TOV1 in simavr 1.6. */
static volatile uint8_t gate_phase;
ISR(TIMER1_COMPA_vect)
{
	if (gate_phase == 1) {
		PORTD |= _BV(PD2);
		OCR1A = OCR1A + GATE_PULSE_TICKS;
		gate_phase = 2;
	} else if (gate_phase == 2) {
		PORTD &= ~_BV(PD2);
		gate_phase = 0;
	}
}

static void schedule_gate(uint32_t zc_ticks)
{
	uint32_t edge = zc_ticks + 2u * GATE_DELAY_US;
	uint32_t now = now_ticks_isr();
	g_gate_delay_ticks = (uint16_t)(edge - zc_ticks);
	if (gate_phase || (int32_t)(edge - now) < 40) return;  /* busy or too late: skip */
	OCR1A = (uint16_t)edge;
	gate_phase = 1;
}

static int16_t prev_v = 0;
static uint32_t prev_v_t;
static uint8_t have_prev;
static uint32_t cycle_start;
static uint16_t cycles_in_frame;
static int32_t cur_v;                 /* last voltage sample, for the v*i product */

static void on_sample(uint8_t ch, int16_t x, uint32_t t_sample)
{
	if (ch == V_CH) {
		cur_v = x;
		acc_v2 += (int32_t)x * x;
		acc_nv++;
		if (have_prev && ((prev_v < 0 && x >= 0) || (prev_v >= 0 && x < 0))) {
			/* linear interpolation between the two samples */
			int32_t dv = (int32_t)x - prev_v;
			uint32_t dt = t_sample - prev_v_t;
			uint32_t zc = t_sample - (uint32_t)(((int32_t)x * (int32_t)dt) / dv);
			schedule_gate(zc);
			if (prev_v < 0) {     /* rising: a new mains cycle */
				last_pairs = acc_nv < acc_ni ? acc_nv : acc_ni;
				frame_p += acc_p; frame_v2 += acc_v2; frame_nv += acc_nv;
				acc_p = acc_v2 = 0; acc_nv = acc_ni = 0;
				if (++cycles_in_frame == 50) {
					frame_cycles = cycles_in_frame;
					frame_ticks = zc - cycle_start;
					cycle_start = zc;
					cycles_in_frame = 0;
					frame_ready = 1;
				}
			}
		}
		prev_v = x; prev_v_t = t_sample; have_prev = 1;
	} else {
		acc_p += cur_v * x;
		acc_ni++;
	}
}

#ifndef SINGLE_CONVERSION
/* mux written in ISR k is used by conversion k+2; keep the two in flight */
static uint8_t inflight[2] = { V_CH, I_CH };
ISR(ADC_vect)
{
	uint32_t t = now_ticks_isr();
	int16_t x = (int16_t)ADC - ADC_MID;
	uint8_t ch = inflight[0];
	inflight[0] = inflight[1];
	inflight[1] = ch;                 /* alternate: conversion k+2 = same channel as k */
	ADMUX = _BV(REFS0) | ch;
	/* S/H closed 1.5 ADC clocks after the start, which was one conversion ago */
	on_sample(ch, x, t - CONV_TICKS + 24);
}
#endif

static uint8_t crc8(const char *s, uint8_t n)
{
	uint8_t crc = 0;
	while (n--) {
		uint8_t b = (uint8_t)*s++;
		for (uint8_t i = 0; i < 8; i++) {
			uint8_t mix = (crc ^ b) & 1;
			crc >>= 1;
			if (mix) crc ^= 0x8C;
			b >>= 1;
		}
	}
	return crc;
}

/* UART RX. The ISR stays a few dozen cycles (a nibble table for the CRC) so that bytes
 * arriving do not move the gate edges measurably. */
static const uint8_t crc_nib[16] = {
	0x00, 0x9d, 0x23, 0xbe, 0x46, 0xdb, 0x65, 0xf8, 0x8c, 0x11, 0xaf, 0x32, 0xca, 0x57, 0xe9, 0x74,
};
static volatile uint32_t rx_n, rx_first_t, rx_last_t;   /* count; Timer1 ticks of first/last byte */
static volatile uint8_t rx_crc;
ISR(USART_RX_vect)
{
	uint32_t t = now_ticks_isr();
	uint8_t c = rx_crc ^ UDR0;
	c = (c >> 4) ^ crc_nib[c & 15];
	rx_crc = (c >> 4) ^ crc_nib[c & 15];
	if (!rx_n) rx_first_t = t;
	rx_last_t = t;
	rx_n++;
}

static char txbuf[200];
static volatile uint8_t tx_len, tx_pos;
ISR(USART_UDRE_vect)
{
	if (tx_pos < tx_len) UDR0 = txbuf[tx_pos++];
	else UCSR0B &= ~_BV(UDRIE0);
}

int main(void)
{
	/* boot counter: survives a reset only if the harness keeps the EEPROM (--eeprom) */
	uint16_t boots = eeprom_read_word((uint16_t *)0);
	if (boots == 0xFFFF) boots = 0;
	eeprom_update_word((uint16_t *)0, ++boots);
	DDRD |= _BV(PD2) | _BV(PD4);
	/* Timer1 normal mode, /8: 0.5 us ticks */
	TCCR1A = 0; TCCR1B = _BV(CS11); TIMSK1 = _BV(TOIE1) | _BV(OCIE1A);
	/* UART 9600 8N1 */
	UBRR0 = 103; UCSR0B = _BV(TXEN0) | _BV(RXEN0) | _BV(RXCIE0); UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
#ifndef SINGLE_CONVERSION
	ADMUX = _BV(REFS0) | V_CH;
	ADCSRB = 0;
	ADCSRA = _BV(ADEN) | _BV(ADATE) | _BV(ADIE) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0) | _BV(ADSC);
	/* conversion 0 (V) has started with mux V: conversion 1 must be I */
	ADMUX = _BV(REFS0) | I_CH;
#else
	ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
#endif
	sei();
	uint16_t frame_no = 0;
	for (;;) {
#ifdef SINGLE_CONVERSION
		static uint8_t ch = V_CH;
		ADMUX = _BV(REFS0) | ch;
		cli(); uint32_t t0 = now_ticks_isr(); sei();
		ADCSRA |= _BV(ADSC);
		while (ADCSRA & _BV(ADSC)) ;
		int16_t x = (int16_t)ADC - ADC_MID;
		cli(); on_sample(ch, x, t0 + 24); sei();
		ch = ch == V_CH ? I_CH : V_CH;
#endif
		if (!frame_ready) continue;
		cli();
		int32_t p = frame_p, v2 = frame_v2;
		uint16_t nv = frame_nv, nc = frame_cycles, spl = last_pairs;
		uint32_t ticks = frame_ticks;
		frame_p = frame_v2 = 0; frame_nv = 0; frame_ready = 0;
		uint32_t rxn = rx_n, rxf = rx_first_t, rxl = rx_last_t;
		uint8_t rxc = rx_crc;
		sei();
		if (tx_pos < tx_len) continue;            /* previous frame still going out */
		/* 1 count = 5000/1023 mV; V: 5 mV/V, I: 40 mV/A */
		const float k = 5000.0f / 1023.0f;
		float vrms = sqrtf((float)v2 / nv) * k / 5.0f;
		float pw = (float)p / nv * (k / 5.0f) * (k / 40.0f);
		float frq = ticks ? nc * 2000000.0f / ticks : 0;
		uint8_t vo2 = (uint8_t)((frame_no % 5) * 25);
		int n = snprintf(txbuf, sizeof txbuf - 12,
			"EIB>0.00;REE>%ld.%02u;MPC>0.00;POR>0.00;FID>%u;SPL>%u;VO2>%u;FRQ>%u.%02u;VRM>%u.%u;STA>0;TKS>%lu;"
			"RXN>%lu;RXC>%u;EEB>%u;",
			(long)(-pw), 0u, GATE_DELAY_US, spl, vo2,
			(unsigned)frq, (unsigned)((frq - (unsigned)frq) * 100),
			(unsigned)vrms, (unsigned)((vrms - (unsigned)vrms) * 10), (unsigned long)ticks,
			(unsigned long)rxn, rxc, boots);
		/* only once bytes arrived: longer frames shift the channel-2 timing the self-test checks */
		if (rxn)
			n += snprintf(txbuf + n, sizeof txbuf - 12 - n, "RXF>%lu;RXL>%lu;",
			              (unsigned long)(rxf / 2), (unsigned long)(rxl / 2));
		n += snprintf(txbuf + n, 12, "$%u\r\n", crc8(txbuf, (uint8_t)n));
		frame_no++;
		cli(); tx_len = (uint8_t)n; tx_pos = 0; sei();
		UCSR0B |= _BV(UDRIE0);
	}
}
