#include "legacy_api.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace esphome::pv_client {

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// Parse a JSON number at [p, end); on success *out is set and *next points after it.
static bool parse_number(const char *p, const char *end, float *out, const char **next) {
  bool neg = false;
  if (p < end && (*p == '-' || *p == '+')) {
    neg = *p == '-';
    p++;
  }
  double value = 0.0;
  int digits = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    value = value * 10.0 + (*p - '0');
    p++;
    digits++;
  }
  if (p < end && *p == '.') {
    p++;
    double scale = 0.1;
    while (p < end && *p >= '0' && *p <= '9') {
      value += (*p - '0') * scale;
      scale *= 0.1;
      p++;
      digits++;
    }
  }
  if (digits == 0)
    return false;
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    bool eneg = false;
    if (p < end && (*p == '-' || *p == '+')) {
      eneg = *p == '-';
      p++;
    }
    int exp = 0, edigits = 0;
    while (p < end && *p >= '0' && *p <= '9' && exp < 400) {
      exp = exp * 10 + (*p - '0');
      p++;
      edigits++;
    }
    if (edigits == 0)
      return false;
    value *= std::pow(10.0, eneg ? -exp : exp);
  }
  // the number must end at a delimiter
  if (p >= end)
    return false;
  if (!(is_space(*p) || *p == ',' || *p == '}'))
    return false;
  *out = static_cast<float>(neg ? -value : value);
  *next = p;
  return true;
}

bool json_find_number(const char *json, size_t len, const char *key, float *out) {
  if (json == nullptr || key == nullptr)
    return false;
  const char *end = json + len;
  const size_t klen = std::strlen(key);
  int depth = 0;
  bool in_string = false;
  bool expect_key = false;
  for (const char *p = json; p < end; p++) {
    char c = *p;
    if (in_string) {
      if (c == '\\') {
        p++;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '{' || c == '[') {
      depth++;
      expect_key = (c == '{');
      continue;
    }
    if (c == '}' || c == ']') {
      depth--;
      continue;
    }
    if (c == ',') {
      expect_key = true;
      continue;
    }
    if (c != '"')
      continue;
    // a string: is it a top-level key equal to `key`?
    const char *s = p + 1;
    const char *q = s;
    while (q < end && *q != '"') {
      if (*q == '\\')
        q++;
      q++;
    }
    if (q >= end)
      return false;
    bool candidate = expect_key && depth == 1 && static_cast<size_t>(q - s) == klen && std::memcmp(s, key, klen) == 0;
    bool was_key = expect_key;
    expect_key = false;
    p = q;  // closing quote
    if (!was_key)
      continue;
    const char *r = q + 1;
    while (r < end && is_space(*r))
      r++;
    if (r >= end || *r != ':')
      return false;
    r++;
    while (r < end && is_space(*r))
      r++;
    if (candidate) {
      const char *next = nullptr;
      float v;
      if (!parse_number(r, end, &v, &next))
        return false;
      *out = v;
      return true;
    }
    p = r - 1;  // continue scanning at the value
  }
  return false;
}

bool parse_routeur_vo2(const char *json, size_t len, float *vo2) {
  float v;
  if (!json_find_number(json, len, "VO2", &v) || std::isnan(v) || std::isinf(v))
    return false;
  *vo2 = v;
  return true;
}

bool parse_param_ratio(const char *body, size_t len, float *ratio) {
  float v;
  if (!json_find_number(body, len, "ratio", &v))
    return false;
  if (!(v >= 0.0f && v <= 100.0f))
    return false;
  *ratio = v;
  return true;
}

static long round_percent(float v) {
  if (std::isnan(v))
    return 0;
  return std::lround(v);
}

int render_info_json(char *buf, size_t size, float vo2) {
  return std::snprintf(buf, size, "{\"VO2\":%ld}", round_percent(vo2));
}

int render_param_json(char *buf, size_t size, float ratio, int error) {
  return std::snprintf(buf, size, "{\"ratio\":%ld,\"error\":%d}", round_percent(ratio), error);
}

}  // namespace esphome::pv_client
