#include <string.h>
#include "frame.h"
#include "mini_test.h"

TEST(crc8_matches_the_seed_example_frame) {
  // SEED-FACTS: EIB>1234.56;REE>-90.43;MPC>300.00;POR>42.00;FID>5800;SPL>57;VO2>0;$74\r\n
  const char* body = "EIB>1234.56;REE>-90.43;MPC>300.00;POR>42.00;FID>5800;SPL>57;VO2>0;";
  CHECK_EQ(crc8_maxim(body, uint8_t(strlen(body))), 74);
}

TEST(crc8_is_the_reflected_dallas_maxim_one) {
  // Reference values of CRC-8/MAXIM (poly 0x31 reflected = 0x8C, init 0): "123456789" -> 0xA1.
  CHECK_EQ(crc8_maxim("123456789", 9), 0xA1);
  CHECK_EQ(crc8_maxim("", 0), 0);
}

static const char* fixed(int32_t scaled, uint8_t decimals) {
  static char out[16];
  out[format_fixed(out, scaled, decimals)] = '\0';
  return out;
}

TEST(fixed_point_formatting) {
  CHECK(strcmp(fixed(0, 2), "0.00") == 0);
  CHECK(strcmp(fixed(5, 2), "0.05") == 0);
  CHECK(strcmp(fixed(-5, 2), "-0.05") == 0);
  CHECK(strcmp(fixed(-9043, 2), "-90.43") == 0);
  CHECK(strcmp(fixed(123456, 2), "1234.56") == 0);
  CHECK(strcmp(fixed(2301, 1), "230.1") == 0);
  CHECK(strcmp(fixed(0, 0), "0") == 0);
  CHECK(strcmp(fixed(5800, 0), "5800") == 0);
  CHECK(strcmp(fixed(2147483647, 2), "21474836.47") == 0);
  CHECK(strcmp(fixed(-2147483647 - 1, 0), "-2147483648") == 0);
}

TEST(to_fixed_rounds_half_away_from_zero) {
  CHECK_EQ(to_fixed(1.005f, 2), 101);
  CHECK_EQ(to_fixed(2.675f, 2), 268);
  CHECK_EQ(to_fixed(-90.425f, 2), -9043);
  CHECK_EQ(to_fixed(0.004f, 2), 0);
  CHECK_EQ(to_fixed(-0.004f, 2), 0);
  CHECK_EQ(to_fixed(230.26f, 1), 2303);
  CHECK_EQ(to_fixed(1e12f, 2), 2000000000);  // clamped, never overflows
}

TEST(frame_encoding_has_keys_values_crc_and_crlf) {
  FrameBuilder f;
  f.begin();
  f.add_fixed("EIB", 123456, 2);
  f.add_fixed("REE", -9043, 2);
  f.add_fixed("MPC", 30000, 2);
  f.add_fixed("POR", 4200, 2);
  f.add_integer("FID", 5800);
  f.add_integer("SPL", 57);
  f.add_integer("VO2", 0);
  f.finish();
  CHECK(strcmp(f.text(), "EIB>1234.56;REE>-90.43;MPC>300.00;POR>42.00;FID>5800;SPL>57;VO2>0;$74\r\n") == 0);
  CHECK_EQ(f.length(), strlen(f.text()));
}

TEST(frame_longest_fits_the_buffer) {
  FrameBuilder f;
  f.begin();
  f.add_fixed("EIB", 100000, 2);
  f.add_fixed("REE", -9999999, 2);
  f.add_fixed("MPC", 2000, 2);
  f.add_fixed("POR", 10000, 2);
  f.add_integer("FID", 11111);
  f.add_integer("SPL", 255);
  f.add_integer("VO2", 100);
  f.add_fixed("FRQ", 6500, 2);
  f.add_fixed("VRM", 3000, 1);
  f.add_integer("STA", 31);
  f.finish();
  CHECK(f.length() <= cfg::kFrameMaxLength);
  CHECK(f.text()[f.length() - 1] == '\n');
}
