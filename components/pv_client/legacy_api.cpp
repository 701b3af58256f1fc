#include "legacy_api.h"

#include <cctype>
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

bool parse_ratio_text(const char *text, size_t len, float *ratio) {
  if (text == nullptr || len == 0 || len > 3)
    return false;
  if (len > 1 && text[0] == '0')
    return false;  // no leading zero: "007" is not a JSON number
  unsigned value = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  if (value > 100)
    return false;
  *ratio = static_cast<float>(value);
  return true;
}

/// Skips JSON whitespace from p; true when p then starts with `token`, and moves p past it.
static bool expect_token(const char *&p, const char *end, const char *token) {
  while (p < end && is_space(*p))
    p++;
  const size_t n = std::strlen(token);
  if (static_cast<size_t>(end - p) < n || std::memcmp(p, token, n) != 0)
    return false;
  p += n;
  return true;
}

bool parse_param_ratio(const char *body, size_t len, float *ratio) {
  if (body == nullptr)
    return false;
  const char *p = body;
  const char *end = body + len;
  if (!expect_token(p, end, "{") || !expect_token(p, end, "\"ratio\"") || !expect_token(p, end, ":"))
    return false;
  while (p < end && is_space(*p))
    p++;
  const char *digits = p;
  while (p < end && *p >= '0' && *p <= '9')
    p++;
  float value;
  if (!parse_ratio_text(digits, static_cast<size_t>(p - digits), &value))
    return false;
  if (!expect_token(p, end, "}"))
    return false;
  while (p < end && is_space(*p))
    p++;
  if (p != end)
    return false;  // trailing bytes
  *ratio = value;
  return true;
}

void BodyBuffer::add(const uint8_t *piece, size_t piece_len, size_t index, size_t total) {
  if (index == 0 && this->len == 0 && !this->broken)
    this->total = total;  // the first piece
  if (total != this->total) {
    this->broken = true;
    return;
  }
  if (this->too_long())
    return;  // never stored: answered 413
  // in order and within `total` (len <= total always, so total - index cannot wrap)
  if (index != this->len || piece_len > total - index) {
    this->broken = true;
    return;
  }
  if (piece_len > 0)
    std::memcpy(this->data + this->len, piece, piece_len);
  this->len += piece_len;
}

ParamReply param_request(const BodyBuffer *body, const char *ratio_arg, size_t ratio_arg_len) {
  ParamReply reply{400, 0.0f};
  if (body != nullptr) {
    if (body->too_long()) {
      reply.status = 413;
    } else if (body->complete() && parse_param_ratio(body->data, body->len, &reply.ratio)) {
      reply.status = 200;
    }
    return reply;
  }
  if (ratio_arg != nullptr && parse_ratio_text(ratio_arg, ratio_arg_len, &reply.ratio))
    reply.status = 200;
  return reply;
}

static bool contains_ignore_case(const char *haystack, const char *needle) {
  const size_t n = std::strlen(needle);
  for (const char *h = haystack; *h != '\0'; h++) {
    size_t i = 0;
    while (i < n && h[i] != '\0' && std::tolower(static_cast<unsigned char>(h[i])) == needle[i])
      i++;
    if (i == n)
      return true;
  }
  return false;
}

bool is_form_content_type(const char *content_type) {
  if (content_type == nullptr)
    return false;
  return contains_ignore_case(content_type, "application/x-www-form-urlencoded") ||
         contains_ignore_case(content_type, "multipart/form-data");
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
