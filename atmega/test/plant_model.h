// Test helper: turns a house + heater situation into the CycleSums the ISR would produce, by
// sampling the analog model at the real sample instants (V and I alternating every 52 us).
#pragma once
#include <math.h>
#include <string.h>
#include "cycle_sums.h"
#include "mains_model.h"
#include "phase_curve.h"

struct House {
  double surplus_w = 800.0;   // PV minus house, + = export before the router
  double heater_w = 2000.0;   // channel-1 rating at 230 V (0 = thermostat open)
  double ch2_w = 0.0;         // power drawn by channel 2
  double vrms = 230.0;
  double hz = 50.0;
};

// Firing angle (rad) of a power fraction, from the exact curve (bisection): independent of the table.
inline double firing_angle(double fired_fraction) {
  if (fired_fraction <= 0.0) return M_PI;
  double lo = 0.0, hi = M_PI;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    const double f = 1.0 - mid / M_PI + sin(2.0 * mid) / (2.0 * M_PI);
    (f > fired_fraction ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// One mains cycle with the heater fired at `fired_fraction` (0 = off), as sums; with
// `second_half_fraction` >= 0 the negative half-cycle fires that fraction instead (the firmware
// applies a new command from the negative half of the next cycle).
inline CycleSums simulate_cycle(const House& h, double fired_fraction, double t0 = 0.0,
                                double second_half_fraction = -1.0) {
  CycleSums s;
  memset(&s, 0, sizeof s);
  const double period = 1.0 / h.hz, conversion = seconds_per_conversion();
  const double angle_first = firing_angle(fired_fraction);
  const double angle_second = second_half_fraction >= 0.0 ? firing_angle(second_half_fraction) : angle_first;
  const double resistance = h.heater_w > 0 ? 230.0 * 230.0 / h.heater_w : 0.0;
  auto volts = [&](double t) { return sqrt(2.0) * h.vrms * sin(2.0 * M_PI * h.hz * t); };
  auto amps = [&](double t) {
    const double v = volts(t);
    double i = -(h.surplus_w - h.ch2_w) / h.vrms * sqrt(2.0) * sin(2.0 * M_PI * h.hz * t);
    const double cycle_phase = fmod(2.0 * M_PI * h.hz * t, 2.0 * M_PI);
    const double phase = fmod(cycle_phase, M_PI);
    const double angle = cycle_phase < M_PI ? angle_first : angle_second;
    if (resistance > 0 && phase >= angle) i += v / resistance;
    return i;
  };
  auto code = [](double mv) { return MainsModel::code(mv); };
  uint16_t previous_v = code(2500.0 + 5.0 * volts(t0 - conversion));
  for (double t = t0; t < t0 + period - 1e-9; t += 2.0 * conversion) {
    const uint16_t i = code(2500.0 + 40.0 * amps(t));
    const uint16_t v = code(2500.0 + 5.0 * volts(t + conversion));
    if (s.pairs == 0) s.voltage_before_first = previous_v;
    s.sum_i += i;
    s.sum_vmid_i += uint32_t(previous_v + v) * i;
    s.sum_v += v;
    s.sum_vv += uint32_t(v) * v;
    if (i == 0 || i >= 1023 || v == 0 || v >= 1023) s.flags |= kCycleClipped;
    ++s.pairs;
    previous_v = v;
  }
  s.last_voltage = previous_v;
  s.period_ticks = uint16_t(llround(period * cfg::kTicksPerSecond));
  return s;
}

// Routed power of a fired fraction with the heater at the actual voltage.
inline double routed_watts(const House& h, double fired_fraction) {
  return fired_fraction * h.heater_w * (h.vrms / 230.0) * (h.vrms / 230.0);
}
