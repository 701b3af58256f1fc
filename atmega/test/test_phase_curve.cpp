#include <math.h>
#include "controller.h"
#include "mini_test.h"
#include "phase_curve.h"

static double exact_fraction(double angle) { return 1.0 - angle / M_PI + sin(2.0 * angle) / (2.0 * M_PI); }

TEST(phase_table_matches_the_formula) {
  for (int i = 0; i <= phase::kSegments; ++i) {
    const double expected = exact_fraction(M_PI * i / phase::kSegments) * 65535.0;
    CHECK_NEAR(phase::table_at(uint8_t(i)), expected, 0.5 + 1e-9);
  }
}

TEST(phase_inverse_is_accurate_to_0_2_percent_of_full_power) {
  double worst = 0.0;
  uint16_t previous_angle = 0xFFFF;
  bool monotonic = true;
  for (uint32_t f = 0; f <= 65535; f += 7) {
    const uint16_t angle = phase::fraction_to_angle_q16(uint16_t(f));
    const double delivered = exact_fraction(angle / 65536.0 * M_PI);
    const double error = fabs(delivered - f / 65535.0);
    if (error > worst) worst = error;
    if (angle > previous_angle) monotonic = false;  // more power: earlier firing
    previous_angle = angle;
  }
  CHECK(worst < 0.002);
  CHECK(worst < 0.0005);  // in fact ~0.02 % + rounding
  CHECK(monotonic);
  printf("    phase inverse: worst error %.4f %% of full power\n", worst * 100.0);
}

TEST(phase_forward_and_inverse_agree) {
  for (uint32_t a = 0; a < 65536; a += 997) {
    const uint16_t f = phase::angle_q16_to_fraction(uint16_t(a));
    CHECK_NEAR(exact_fraction(a / 65536.0 * M_PI) * 65535.0, f, 65535 * 0.0005);
  }
}

TEST(firing_delay_scales_with_the_half_period) {
  // Half power fires at the middle of the half-cycle: 5 ms at 50 Hz, 4.167 ms at 60 Hz.
  CHECK_NEAR(phase::fraction_to_delay_ticks(32768, 20000), 10000, 2);
  CHECK_NEAR(phase::fraction_to_delay_ticks(32768, 16667), 8333, 2);
  CHECK_EQ(phase::fraction_to_delay_ticks(65535, 20000), 0);
}

TEST(delay_is_clamped_so_no_pulse_straddles_a_crossing) {
  const uint16_t half = 20000;
  CHECK_EQ(clamp_delay_ticks(0, half), cfg::kMinDelayTicks);
  CHECK_EQ(clamp_delay_ticks(19990, half), half - cfg::kGatePulseTicks - cfg::kEndMarginTicks);
  // The smallest fraction fired (MPC) is far from the clamp, at 50 and 60 Hz.
  const uint16_t at_min_50 = phase::fraction_to_delay_ticks(uint16_t(cfg::kMinFiredFraction * 65535), 20000);
  const uint16_t at_min_60 = phase::fraction_to_delay_ticks(uint16_t(cfg::kMinFiredFraction * 65535), 16667);
  CHECK(at_min_50 + cfg::kGatePulseTicks + cfg::kEndMarginTicks < 20000);
  CHECK(at_min_60 + cfg::kGatePulseTicks + cfg::kEndMarginTicks < 16667);
}
