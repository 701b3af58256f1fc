// Phase-angle power curve of a resistive load behind a random-fire SSR, and its inverse.
// f(a) = 1 - a/pi + sin(2a)/(2pi): power fraction when the gate fires at angle a in every
// half-cycle. The router wants a POWER fraction, so it needs a(f): the inverse is found by a
// binary search in the generated table of f and linear interpolation inside the segment.
// Angles are in units of pi/65536 (a "q16 angle": 65535 ~ pi), fractions in units of 1/65535.
#pragma once
#include <stdint.h>
#include "phase_table.h"

namespace phase {

constexpr uint32_t kAngleQ16PerSegment = 65536UL / kSegments;  // 1024
constexpr uint16_t kMaxAngleQ16 = 65535;                         // ~ pi: no conduction
constexpr uint16_t kFullFraction = 65535;

inline uint16_t table_at(uint8_t index) { return pv_read_u16(&kFractionAtAngle[index]); }

// Firing angle (q16) that delivers the given power fraction (0..65535).
inline uint16_t fraction_to_angle_q16(uint16_t fraction) {
  uint8_t low = 0, high = kSegments;  // invariant: table(low) >= fraction > table(high) or high is the end
  while (uint8_t(high - low) > 1) {
    const uint8_t mid = uint8_t((low + high) / 2);
    if (table_at(mid) >= fraction) low = mid; else high = mid;
  }
  const uint16_t upper = table_at(low), lower = table_at(high);
  const uint16_t span = uint16_t(upper - lower);
  const uint32_t within = span ? (uint32_t(upper - fraction) * kAngleQ16PerSegment + span / 2) / span : 0;
  const uint32_t angle = uint32_t(low) * kAngleQ16PerSegment + within;
  return angle > kMaxAngleQ16 ? kMaxAngleQ16 : uint16_t(angle);
}

// Power fraction (0..65535) at a firing angle (q16), from the same interpolated table.
inline uint16_t angle_q16_to_fraction(uint16_t angle) {
  const uint8_t index = uint8_t(angle / kAngleQ16PerSegment);
  const uint16_t within = uint16_t(angle % kAngleQ16PerSegment);
  const uint16_t upper = table_at(index);
  const uint16_t lower = table_at(uint8_t(index + 1));
  return uint16_t(upper - (uint32_t(upper - lower) * within + kAngleQ16PerSegment / 2) / kAngleQ16PerSegment);
}

// Firing delay after the zero crossing, in Timer1 ticks, for a power fraction (0..65535):
// scaled by the MEASURED half-period so it is right at 50 and 60 Hz alike.
inline uint16_t fraction_to_delay_ticks(uint16_t fraction, uint16_t half_period_ticks) {
  return uint16_t((uint32_t(fraction_to_angle_q16(fraction)) * half_period_ticks + 32768UL) >> 16);
}

}  // namespace phase
