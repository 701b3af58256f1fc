#pragma once
// The old gateway's `GET /api/routeur` document, rendered by a pure function (host-testable):
//   {"FID":4187,"EIB":2092.77,"MPC":37.5,"REE":-90.43,"POR":784.76,"SPL":57,"VO2":0}
// Keys in that order; each number printed with the decimals the frame had, trailing zeros dropped
// (as ArduinoJson printed the old gateway's floats); 0 before the first frame; POR clamped >= 0.
#include <cstddef>
#include <cstdint>

#include "frame_parser.h"

namespace esphome::routeur_pv {

struct LegacyValues {
  double value[FIELD_COUNT]{};
  uint8_t decimals[FIELD_COUNT]{};
  /// Copy the fields the frame carried (others keep their previous value).
  void update(const Frame &frame);
  /// Back to the power-on state (every value 0).
  void clear();
};

/// Longest document: 7 keys, values of at most 16 characters.
static const size_t LEGACY_JSON_MAX = 192;

/// Format `value` with `decimals` digits after the point, trailing zeros and point dropped, "-0" as
/// "0". Returns the length written (buf always NUL-terminated, size >= 24).
size_t format_legacy_number(double value, uint8_t decimals, char *buf, size_t size);

/// Render the document into buf (NUL-terminated). Returns its length, or 0 if size is too small.
size_t render_legacy_json(const LegacyValues &values, char *buf, size_t size);

}  // namespace esphome::routeur_pv
