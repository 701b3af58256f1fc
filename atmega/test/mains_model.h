// Test helper: the analog front end of docs/interfaces.md, sampled like the ATmega's ADC.
#pragma once
#include <math.h>
#include <stdint.h>
#include "config.h"

struct MainsModel {
  double hz = 50.0;
  double vrms = 230.0;
  double phase_s = 0.0;        // time of a positive-going crossing
  double current_rms = 0.0;    // in-phase grid current (A), + = import
  double noise_counts = 0.0;   // uniform noise amplitude added before quantising

  double volts(double t) const { return sqrt(2.0) * vrms * sin(2.0 * M_PI * hz * (t - phase_s)); }
  double amps(double t) const { return sqrt(2.0) * current_rms * sin(2.0 * M_PI * hz * (t - phase_s)); }
  static uint16_t code(double mv) {
    double c = floor(mv * 1024.0 / 5000.0);
    return uint16_t(c < 0 ? 0 : c > 1023 ? 1023 : c);
  }
  uint16_t voltage_code(double t, double noise = 0.0) const { return code(2500.0 + 5.0 * volts(t) + noise); }
  uint16_t current_code(double t, double noise = 0.0) const { return code(2500.0 + 40.0 * amps(t) + noise); }
};

// Seconds <-> Timer1 ticks (0.5 us), wrapped to 16 bits like TCNT1.
inline uint16_t ticks_at(double t) { return uint16_t(uint32_t(llround(t * cfg::kTicksPerSecond)) & 0xFFFF); }
inline double seconds_per_conversion() { return double(cfg::kTicksPerConversion) / cfg::kTicksPerSecond; }
