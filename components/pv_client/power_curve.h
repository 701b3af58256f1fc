#pragma once
// Phase-angle power curve of a resistive load and its inverse.
// Plain C++: no ESPHome or Arduino dependency (unit tested on the host).

#include <cstdint>

namespace esphome::pv_client {

/// Fraction of full power delivered when a resistive load is fired at angle `a` (radians, 0..pi)
/// after the zero crossing and conducts to the end of the half-cycle:
///   f(a) = 1 - a/pi + sin(2a)/(2 pi)   (the normalised integral of sin^2 over [a, pi]).
float phase_power_fraction(float angle);

/// Inverse of phase_power_fraction(): the firing angle (0..pi) that delivers the power fraction `p`
/// (clamped to 0..1). Bisection plus Newton polish: error well below 1e-4 of full power.
float phase_angle_for_power(float p);

/// Firing delay as a Q16 fraction of the half-period for the power fraction `p`:
/// 0 = fire at the zero crossing (full power), 65536 = never fire.
uint32_t phase_delay_q16_for_power(float p);

}  // namespace esphome::pv_client
