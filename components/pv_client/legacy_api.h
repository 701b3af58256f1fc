#pragma once
// The old client's JSON, as pure functions (host unit tested):
//  - reading VO2 from the gateway's GET /api/routeur answer,
//  - GET /api/info -> {"VO2":n}, POST /api/param {"ratio":n} -> {"ratio":n,"error":0}.
// No allocation, no locale, no JSON library (ArduinoJson cannot be fetched offline here).

#include <cstddef>
#include <cstdint>

namespace esphome::pv_client {

/// Find the number value of the top-level key `key` in a flat JSON object.
/// Accepts integers, decimals, exponents and a leading sign; returns false when the key is
/// missing, the value is not a number, or the text is truncated.
bool json_find_number(const char *json, size_t len, const char *key, float *out);

/// VO2 (percent) from a /api/routeur answer: {"FID":4187,...,"VO2":0}.
bool parse_routeur_vo2(const char *json, size_t len, float *vo2);

/// The manual ratio from a POST /api/param body {"ratio": n}: false unless 0 <= n <= 100.
bool parse_param_ratio(const char *body, size_t len, float *ratio);

/// {"VO2":n} with n rounded to an integer. Returns the length written (snprintf semantics).
int render_info_json(char *buf, size_t size, float vo2);

/// {"ratio":n,"error":e} with n rounded to an integer.
int render_param_json(char *buf, size_t size, float ratio, int error);

}  // namespace esphome::pv_client
