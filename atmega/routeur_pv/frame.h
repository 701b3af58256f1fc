// Serial frame encoder: "KEY>value;" pairs, '$', CRC-8 in decimal, CR LF.
// CRC-8 Dallas/Maxim reflected (poly 0x8C, init 0) over every character before '$'.
// Numbers are printed from integers in fixed point (no printf, no float formatting).
#pragma once
#include <stdint.h>
#include "config.h"

inline uint8_t crc8_maxim_update(uint8_t crc, uint8_t byte) {
  for (uint8_t bit = 0; bit < 8; ++bit) {
    const uint8_t mix = uint8_t((crc ^ byte) & 1);
    crc >>= 1;
    if (mix) crc ^= 0x8C;
    byte >>= 1;
  }
  return crc;
}

inline uint8_t crc8_maxim(const char* text, uint8_t length) {
  uint8_t crc = 0;
  for (uint8_t i = 0; i < length; ++i) crc = crc8_maxim_update(crc, uint8_t(text[i]));
  return crc;
}

// Rounds value * 10^decimals half away from zero (values are clamped to +-2e9 / 10^decimals);
// decimals: 0, 1 or 2 (the frame's fields).
inline int32_t to_fixed(float value, uint8_t decimals) {
  float scaled = value * (decimals >= 2 ? 100.0f : decimals == 1 ? 10.0f : 1.0f);
  const float limit = 2.0e9f;
  if (scaled > limit) scaled = limit;
  if (scaled < -limit) scaled = -limit;
  return int32_t(scaled + (scaled >= 0.0f ? 0.5f : -0.5f));
}

// Writes scaled / 10^decimals with exactly `decimals` digits after the point; returns chars written.
// out must hold 13 chars ("-2147483648" plus a point); no terminating NUL is written.
inline uint8_t format_fixed(char* out, int32_t scaled, uint8_t decimals) {
  char digits[11];
  uint8_t count = 0;
  uint32_t magnitude = scaled < 0 ? uint32_t(0) - uint32_t(scaled) : uint32_t(scaled);
  do {
    digits[count++] = char('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0 || count <= decimals);  // at least one digit before the point
  uint8_t length = 0;
  if (scaled < 0) out[length++] = '-';
  while (count > 0) {
    if (count == decimals) out[length++] = '.';
    out[length++] = digits[--count];
  }
  return length;
}

class FrameBuilder {
 public:
  void begin() { length_ = 0; }
  void add_fixed(const char* key, int32_t scaled, uint8_t decimals) {
    add_key(key);
    if (length_ + kMaxNumberChars + 1 > kCapacity) return;
    length_ = uint8_t(length_ + format_fixed(buffer_ + length_, scaled, decimals));
    put(';');
  }
  void add_integer(const char* key, int32_t value) { add_fixed(key, value, 0); }
  // Appends '$', the CRC of everything before it, CR LF and a NUL (not counted in length()).
  void finish() {
    const uint8_t crc = crc8_maxim(buffer_, length_);
    put('$');
    if (length_ + kMaxNumberChars + 3 > kCapacity) return;
    length_ = uint8_t(length_ + format_fixed(buffer_ + length_, crc, 0));
    put('\r');
    put('\n');
    buffer_[length_] = '\0';
  }
  const char* text() const { return buffer_; }
  uint8_t length() const { return length_; }

 private:
  static constexpr uint8_t kCapacity = cfg::kTxBufferSize;
  static constexpr uint8_t kMaxNumberChars = 12;
  void put(char c) {
    if (length_ + 1 < kCapacity) buffer_[length_++] = c;
  }
  void add_key(const char* key) {
    while (*key) put(*key++);
    put('>');
  }
  char buffer_[kCapacity] = {};
  uint8_t length_ = 0;
};
