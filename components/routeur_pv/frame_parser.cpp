#include "frame_parser.h"

#include <cmath>
#include <cstring>

namespace esphome::routeur_pv {

// Plausible ranges: wide enough for every firmware version known (the seed's older versions used
// bigger buckets and other units: its own API example carries EIB 2092.77 and POR 784.76), narrow
// enough to refuse what no household installation can produce. VO2 is clamped 0-100 by design.
static const FieldInfo FIELD_INFO[FIELD_COUNT] = {
    {"EIB", -100000.0, 100000.0, false},  // J
    {"REE", -100000.0, 100000.0, false},  // W (100 kW)
    {"MPC", 0.0, 100000.0, false},        // W
    {"POR", -1000.0, 100000.0, false},    // % (older versions: other units)
    {"FID", 0.0, 100000.0, false},        // us
    {"SPL", 0.0, 10000.0, false},         // pairs per cycle
    {"VO2", 0.0, 100.0, false},           // %
    {"PO2", 0.0, 32767.0, true},          // W (VO2 of DIM)
    {"FRQ", 0.0, 100.0, false},           // Hz (0 while there is no mains)
    {"VRM", 0.0, 500.0, false},           // V
    {"STA", 0.0, 65535.0, true},          // bit field
    {"PW1", 0.0, 100000.0, false},        // W
    {"WHI", 0.0, 100000000.0, false},     // Wh (the ATmega's counters wrap at 10 MWh)
    {"WHE", 0.0, 100000000.0, false},     // Wh
    {"WH1", 0.0, 100000000.0, false},     // Wh
    // The commands' state: integers as the ATmega counts them.
    {"MOD", 0.0, 2.0, true},              // 0 auto, 1 boost, 2 stop
    {"LSR", 0.0, 255.0, true},            // s (a lease is 30 s at most)
    {"CAC", 0.0, 65535.0, true},          // 16-bit counters
    {"CRJ", 0.0, 65535.0, true},
    {"SCS", 0.0, 255.0, true},            // CRC-8
    // Settings: any 16-bit value the commands can carry that is not negative (the ATmega checks
    // them against its own ranges before it stores them; a wider range here never drops a frame).
    {"HTR", 0.0, 32767.0, true},          // W
    {"DIM", 0.0, 32767.0, true},          // W
    {"EXT", 0.0, 32767.0, true},          // W
    {"VCL", 0.0, 32767.0, true},          // 0.01 mV/V
    {"ICL", 0.0, 32767.0, true},          // 0.1 mV/A
};

const FieldInfo &field_info(Field f) { return FIELD_INFO[f]; }

const char *reject_name(Reject r) {
  switch (r) {
    case Reject::NONE:
      return "none";
    case Reject::OVERLONG:
      return "overlong";
    case Reject::SYNTAX:
      return "syntax";
    case Reject::CRC:
      return "crc";
    case Reject::NON_NUMERIC:
      return "non_numeric";
    case Reject::OUT_OF_RANGE:
      return "out_of_range";
    case Reject::MISSING_FIELD:
      return "missing_field";
    case Reject::DUPLICATE_FIELD:
      return "duplicate_field";
    default:
      return "?";
  }
}

uint8_t crc8_maxim(const char *data, size_t len) {
  uint8_t crc = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t b = static_cast<uint8_t>(data[i]);
    for (uint8_t bit = 0; bit < 8; bit++) {
      uint8_t mix = (crc ^ b) & 0x01;
      crc >>= 1;
      if (mix)
        crc ^= 0x8C;
      b >>= 1;
    }
  }
  return crc;
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
static inline bool is_key_char(char c) { return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_'; }

static const double POW10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

/// Strict decimal number: -?[0-9]+(\.[0-9]+)? of at most MAX_VALUE_LEN characters.
static bool parse_number(const char *s, size_t len, double &out, uint8_t &decimals) {
  if (len == 0 || len > FrameParser::MAX_VALUE_LEN)
    return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
  }
  uint64_t mant = 0;
  size_t int_digits = 0, frac_digits = 0;
  for (; i < len && is_digit(s[i]); i++, int_digits++)
    mant = mant * 10 + static_cast<uint64_t>(s[i] - '0');
  if (int_digits == 0)
    return false;
  if (i < len) {
    if (s[i] != '.')
      return false;
    i++;
    for (; i < len && is_digit(s[i]); i++, frac_digits++)
      mant = mant * 10 + static_cast<uint64_t>(s[i] - '0');
    if (frac_digits == 0 || i != len)
      return false;
  }
  // at most 15 digits (MAX_VALUE_LEN 16 with sign and point): mantissa and power of ten are exact
  // doubles, so one division gives the correctly rounded value, as strtod would.
  double v = static_cast<double>(mant) / POW10[frac_digits];
  out = neg ? -v : v;
  if (!std::isfinite(out))
    return false;
  decimals = static_cast<uint8_t>(frac_digits);
  return true;
}

Reject FrameParser::parse_once_(const char *line, size_t len, Frame &out) const {
  // -- structure: <fields>$<1-3 digits>, printable ASCII only
  const char *dollar = static_cast<const char *>(std::memchr(line, '$', len));
  if (dollar == nullptr)
    return Reject::SYNTAX;
  size_t body_len = static_cast<size_t>(dollar - line);
  size_t crc_len = len - body_len - 1;
  if (body_len < 2 || crc_len < 1 || crc_len > 3 || line[body_len - 1] != ';')
    return Reject::SYNTAX;
  unsigned crc_rx = 0;
  for (size_t i = 0; i < crc_len; i++) {
    char c = dollar[1 + i];
    if (!is_digit(c))
      return Reject::SYNTAX;
    crc_rx = crc_rx * 10 + static_cast<unsigned>(c - '0');
  }
  if (crc_rx > 255)
    return Reject::SYNTAX;
  for (size_t i = 0; i < body_len; i++) {
    char c = line[i];
    if (c < 0x20 || c > 0x7E)
      return Reject::SYNTAX;
  }
  // -- CRC over every character before '$'
  if (crc8_maxim(line, body_len) != crc_rx)
    return Reject::CRC;
  // -- fields
  Frame f{};
  Reject value_error = Reject::NONE;
  size_t i = 0;
  while (i < body_len) {
    size_t key_start = i;
    while (i < body_len && is_key_char(line[i]))
      i++;
    size_t key_len = i - key_start;
    if (key_len == 0 || key_len > 8 || i >= body_len || line[i] != '>')
      return Reject::SYNTAX;
    i++;  // '>'
    size_t val_start = i;
    while (i < body_len && line[i] != ';') {
      if (line[i] == '>')
        return Reject::SYNTAX;
      i++;
    }
    size_t val_len = i - val_start;
    if (val_len == 0)
      return Reject::SYNTAX;
    i++;  // ';' (guaranteed: the body ends with ';')
    for (uint8_t k = 0; k < FIELD_COUNT; k++) {
      if (key_len != 3 || std::memcmp(line + key_start, FIELD_INFO[k].key, 3) != 0)
        continue;
      if (f.has(static_cast<Field>(k)))
        return Reject::DUPLICATE_FIELD;
      f.present |= 1u << k;
      double v = 0.0;
      uint8_t dec = 0;
      if (!parse_number(line + val_start, val_len, v, dec) || (FIELD_INFO[k].integer_only && dec != 0)) {
        if (value_error == Reject::NONE)
          value_error = Reject::NON_NUMERIC;
      } else if (v < FIELD_INFO[k].min || v > FIELD_INFO[k].max) {
        if (value_error == Reject::NONE)
          value_error = Reject::OUT_OF_RANGE;
      }
      f.value[k] = v;
      f.decimals[k] = dec;
      break;
    }
    // unknown keys are ignored
  }
  if (value_error != Reject::NONE)
    return value_error;
  if ((f.present & REQUIRED_FIELDS) != REQUIRED_FIELDS && !f.channel2_only())
    return Reject::MISSING_FIELD;
  out = f;
  return Reject::NONE;
}

Reject FrameParser::parse_line(const char *line, size_t len, Frame &out) {
  Reject r = this->parse_once_(line, len, out);
  if (r != Reject::NONE && r != Reject::MISSING_FIELD) {
    // Resynchronise inside the line: garbage (or a partial frame from an ATmega reset) directly in
    // front of a frame, without a line end between them. Both firmwares start their frame with EIB.
    for (size_t p = len; p-- > 1;) {
      if (p + 4 <= len && std::memcmp(line + p, "EIB>", 4) == 0) {
        if (this->parse_once_(line + p, len - p, out) == Reject::NONE)
          r = Reject::NONE;
        break;  // only the last start is tried: one more CRC trial at most
      }
    }
  }
  if (r == Reject::NONE) {
    this->frames_ok_++;
  } else {
    this->frames_rejected_++;
    this->rejected_[static_cast<uint8_t>(r)]++;
  }
  this->last_reject_ = r;
  return r;
}

FeedResult FrameParser::finish_line_() {
  size_t len = this->len_;
  this->len_ = 0;
  if (this->overlong_) {
    this->overlong_ = false;
    this->frames_rejected_++;
    this->rejected_[static_cast<uint8_t>(Reject::OVERLONG)]++;
    this->last_reject_ = Reject::OVERLONG;
    return FeedResult::REJECTED;
  }
  if (len == 0)
    return FeedResult::NONE;  // empty line (second half of CR LF)
  Frame f;
  if (this->parse_line(this->buf_, len, f) != Reject::NONE)
    return FeedResult::REJECTED;
  this->frame_ = f;
  return FeedResult::FRAME;
}

FeedResult FrameParser::restart_on_frame_start_() {
  // "EIB>" just went by while an overlong line was being discarded: count that line, keep the start
  this->overlong_ = false;
  std::memcpy(this->buf_, "EIB>", 4);
  this->len_ = 4;
  this->frames_rejected_++;
  this->rejected_[static_cast<uint8_t>(Reject::OVERLONG)]++;
  this->last_reject_ = Reject::OVERLONG;
  return FeedResult::REJECTED;
}

FeedResult FrameParser::feed(uint8_t c) {
  static const uint32_t FRAME_START = 0x4549423Eu;  // "EIB>"
  if (c == '\n' || c == '\r')
    return this->finish_line_();
  if (this->overlong_) {
    // Discarding an overlong line: restart as soon as a frame start goes by.
    this->window_ = (this->window_ << 8) | c;
    return this->window_ == FRAME_START ? this->restart_on_frame_start_() : FeedResult::NONE;
  }
  if (this->len_ >= MAX_LINE) {
    this->overlong_ = true;
    this->len_ = 0;
    this->window_ = 0;
    for (size_t i = MAX_LINE - 3; i < MAX_LINE; i++)
      this->window_ = (this->window_ << 8) | static_cast<uint8_t>(this->buf_[i]);
    this->window_ = (this->window_ << 8) | c;
    return this->window_ == FRAME_START ? this->restart_on_frame_start_() : FeedResult::NONE;
  }
  this->buf_[this->len_++] = static_cast<char>(c);
  return FeedResult::NONE;
}

void FrameParser::reset() {
  this->len_ = 0;
  this->overlong_ = false;
  this->window_ = 0;
  this->frame_ = Frame{};
  this->last_reject_ = Reject::NONE;
  this->frames_ok_ = 0;
  this->frames_rejected_ = 0;
  for (auto &r : this->rejected_)
    r = 0;
}

}  // namespace esphome::routeur_pv
