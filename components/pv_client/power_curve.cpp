#include "power_curve.h"

#include <cmath>

namespace esphome::pv_client {

static constexpr float PI_F = 3.14159265358979f;

float phase_power_fraction(float angle) {
  if (angle <= 0.0f)
    return 1.0f;
  if (angle >= PI_F)
    return 0.0f;
  return 1.0f - angle / PI_F + std::sin(2.0f * angle) / (2.0f * PI_F);
}

float phase_angle_for_power(float p) {
  if (!(p > 0.0f))  // also catches NaN
    return PI_F;
  if (p >= 1.0f)
    return 0.0f;
  // f is monotonically decreasing on [0, pi]: bisection is robust everywhere, including the flat
  // ends where Newton alone would overshoot (f'(a) = -2 sin^2(a) / pi vanishes at 0 and pi).
  float lo = 0.0f, hi = PI_F;
  for (int i = 0; i < 22; i++) {
    float mid = 0.5f * (lo + hi);
    if (phase_power_fraction(mid) > p) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  float a = 0.5f * (lo + hi);
  // Two Newton steps, kept inside the bracket.
  for (int i = 0; i < 2; i++) {
    float s = std::sin(a);
    float d = -2.0f * s * s / PI_F;
    if (d > -1e-6f)
      break;
    float next = a - (phase_power_fraction(a) - p) / d;
    if (next < lo || next > hi)
      break;
    a = next;
  }
  return a;
}

uint32_t phase_delay_q16_for_power(float p) {
  if (!(p > 0.0f))
    return 65536;
  if (p >= 1.0f)
    return 0;
  float frac = phase_angle_for_power(p) / PI_F;
  auto q = static_cast<uint32_t>(std::lround(frac * 65536.0f));
  return q > 65536 ? 65536 : q;
}

}  // namespace esphome::pv_client
