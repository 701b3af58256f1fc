#include "legacy_json.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace esphome::routeur_pv {

void LegacyValues::update(const Frame &frame) {
  for (uint8_t k = 0; k < FIELD_COUNT; k++) {
    if (frame.has(static_cast<Field>(k))) {
      this->value[k] = frame.value[k];
      this->decimals[k] = frame.decimals[k];
    }
  }
}

void LegacyValues::clear() {
  for (uint8_t k = 0; k < FIELD_COUNT; k++) {
    this->value[k] = 0.0;
    this->decimals[k] = 0;
  }
}

size_t format_legacy_number(double value, uint8_t decimals, char *buf, size_t size) {
  if (size == 0)
    return 0;
  if (!std::isfinite(value) || std::fabs(value) >= 1e15)
    value = 0.0;  // never produced from a validated frame; keeps the document valid JSON
  if (decimals > 6)
    decimals = 6;
  static const double SCALE[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
  double scaled_d = std::round(std::fabs(value) * SCALE[decimals]);
  if (scaled_d >= 9e18)
    scaled_d = 0.0;
  auto scaled = static_cast<unsigned long long>(scaled_d);
  unsigned long long div = 1;
  for (uint8_t i = 0; i < decimals; i++)
    div *= 10;
  unsigned long long ip = scaled / div, fp = scaled % div;
  bool neg = value < 0 && scaled != 0;
  int n;
  if (fp == 0) {
    n = snprintf(buf, size, "%s%llu", neg ? "-" : "", ip);
  } else {
    uint8_t d = decimals;
    while (fp % 10 == 0) {
      fp /= 10;
      d--;
    }
    n = snprintf(buf, size, "%s%llu.%0*llu", neg ? "-" : "", ip, static_cast<int>(d), fp);
  }
  if (n < 0)
    return 0;
  return static_cast<size_t>(n) < size ? static_cast<size_t>(n) : size - 1;
}

size_t render_legacy_json(const LegacyValues &values, char *buf, size_t size) {
  static const Field ORDER[] = {FIELD_FID, FIELD_EIB, FIELD_MPC, FIELD_REE, FIELD_POR, FIELD_SPL, FIELD_VO2};
  size_t pos = 0;
  auto put = [&](const char *s) {
    size_t l = std::strlen(s);
    if (pos + l + 1 > size)
      return false;
    std::memcpy(buf + pos, s, l);
    pos += l;
    buf[pos] = '\0';
    return true;
  };
  if (size == 0)
    return 0;
  buf[0] = '\0';
  bool ok = put("{");
  for (size_t i = 0; ok && i < sizeof(ORDER) / sizeof(ORDER[0]); i++) {
    Field f = ORDER[i];
    char item[48];
    char num[32];
    double v = values.value[f];
    if (f == FIELD_POR && v < 0)
      v = 0.0;  // the old gateway clamped negative routed power
    format_legacy_number(v, values.decimals[f], num, sizeof(num));
    snprintf(item, sizeof(item), "%s\"%s\":%s", i == 0 ? "" : ",", field_info(f).key, num);
    ok = put(item);
  }
  ok = ok && put("}");
  if (!ok) {
    buf[0] = '\0';
    return 0;
  }
  return pos;
}

}  // namespace esphome::routeur_pv
