// libFuzzer target for the routeur_pv frame parser (clang -fsanitize=fuzzer,address,undefined).
// Besides crashes and sanitizer reports, it aborts when the parser delivers a frame that does not
// come, byte for byte, from a line (or the tail of a line, after resynchronisation) whose CRC-8 is
// right: the CRC is recomputed here with an independent table-driven implementation.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "frame_parser.h"
#include "legacy_json.h"

using namespace esphome::routeur_pv;

namespace {

uint8_t TABLE[256];
bool table_ready = false;

void init_table() {
  // reflected 0x31 == 0x8C: table for the LSB-first CRC-8/MAXIM
  for (int i = 0; i < 256; i++) {
    uint8_t c = static_cast<uint8_t>(i);
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? static_cast<uint8_t>((c >> 1) ^ 0x8C) : static_cast<uint8_t>(c >> 1);
    TABLE[i] = c;
  }
  table_ready = true;
}

uint8_t ref_crc(const std::string &s) {
  uint8_t crc = 0;
  for (unsigned char ch : s)
    crc = TABLE[crc ^ ch];
  return crc;
}

/// Does `line` end with "$<decimal CRC of everything before the $>"?
bool crc_ok(const std::string &line) {
  size_t d = line.find('$');
  if (d == std::string::npos || d + 1 >= line.size() || line.size() - d - 1 > 3)
    return false;
  unsigned v = 0;
  for (size_t i = d + 1; i < line.size(); i++) {
    if (line[i] < '0' || line[i] > '9')
      return false;
    v = v * 10 + static_cast<unsigned>(line[i] - '0');
  }
  return v == ref_crc(line.substr(0, d));
}

void fail(const char *what, const std::string &line) {
  fprintf(stderr, "FUZZ INVARIANT BROKEN: %s\nline: ", what);
  for (unsigned char c : line)
    fprintf(stderr, (c >= 0x20 && c < 0x7f) ? "%c" : "\\x%02x", c);
  fprintf(stderr, "\n");
  abort();
}

bool same_frame(const Frame &a, const Frame &b) {
  if (a.present != b.present)
    return false;
  for (int k = 0; k < FIELD_COUNT; k++)
    if (a.has(static_cast<Field>(k)) && (a.value[k] != b.value[k] || a.decimals[k] != b.decimals[k]))
      return false;
  return true;
}

void check_frame(const Frame &fr, const std::string &line) {
  // the published frame must be exactly what a CRC-valid candidate (whole line, or a tail of it
  // starting at "EIB>") parses to
  bool found = false;
  FrameParser ref;
  for (size_t p = 0; p < line.size() && !found; p++) {
    if (p != 0 && line.compare(p, 4, "EIB>") != 0)
      continue;
    std::string cand = line.substr(p);
    if (!crc_ok(cand))
      continue;
    Frame again;
    if (ref.parse_line(cand.data(), cand.size(), again) == Reject::NONE && same_frame(again, fr))
      found = true;
  }
  if (!found)
    fail("frame published without a CRC-valid source line", line);
  for (int k = 0; k < FIELD_COUNT; k++) {
    if (!fr.has(static_cast<Field>(k)))
      continue;
    const FieldInfo &fi = field_info(static_cast<Field>(k));
    if (!std::isfinite(fr.value[k]) || fr.value[k] < fi.min || fr.value[k] > fi.max)
      fail("published value out of range", line);
  }
  // Whole (every required field), or channel 2's alone: VO2 and none of the required fields.
  const uint32_t required = fr.present & REQUIRED_FIELDS;
  if (required != REQUIRED_FIELDS && !(required == 0 && fr.has(FIELD_VO2)))
    fail("published frame lacks a required field", line);
  LegacyValues v;
  v.update(fr);
  char buf[LEGACY_JSON_MAX];
  size_t n = render_legacy_json(v, buf, sizeof(buf));
  if (n == 0 || buf[0] != '{' || buf[n - 1] != '}' || strlen(buf) != n)
    fail("legacy JSON rendering failed", line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!table_ready)
    init_table();
  FrameParser parser;
  std::string line;  // bytes since the last line end, as the fuzzer sees them
  uint32_t published = 0, rejected = 0;
  for (size_t i = 0; i < size; i++) {
    uint8_t c = data[i];
    FeedResult r = parser.feed(c);
    if (r == FeedResult::FRAME) {
      published++;
      check_frame(parser.frame(), line);
    } else if (r == FeedResult::REJECTED) {
      rejected++;
    }
    if (c == '\r' || c == '\n')
      line.clear();
    else
      line.push_back(static_cast<char>(c));
  }
  if (parser.frames_ok() != published || parser.frames_rejected() != rejected)
    fail("counters disagree with feed() results", line);
  return 0;
}
