// Constant tables in flash on the AVR, plain const arrays on the host (unit tests).
#pragma once
#include <stdint.h>
#if defined(__AVR__)
#include <avr/pgmspace.h>
#define PV_PROGMEM PROGMEM
inline uint16_t pv_read_u16(const uint16_t* address) { return pgm_read_word(address); }
#else
#define PV_PROGMEM
inline uint16_t pv_read_u16(const uint16_t* address) { return *address; }
#endif
