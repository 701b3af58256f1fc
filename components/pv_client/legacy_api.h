#pragma once
// The old client's JSON, as pure functions (host unit tested):
//  - reading VO2 from the gateway's GET /api/routeur answer,
//  - GET /api/info -> {"VO2":n}, POST /api/param {"ratio":n} -> {"ratio":n,"error":0}: the
//    request's body gathered and judged here, so the web server glue only moves bytes.
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

/// A manual ratio as text ("35"): an integer 0..100 in decimal, nothing else (no sign, no leading
/// zero, no decimals, no spaces); false otherwise.
bool parse_ratio_text(const char *text, size_t len, float *ratio);

/// The manual ratio from a whole POST /api/param body: exactly {"ratio": n} (JSON whitespace
/// anywhere between tokens), n as parse_ratio_text(); any other key, a second key, a truncated body
/// or trailing bytes make it false.
bool parse_param_ratio(const char *body, size_t len, float *ratio);

/// Longest POST /api/param body taken, bytes ({"ratio": 100} is 14).
static constexpr size_t PARAM_BODY_MAX = 128;

/// A request body that arrives in pieces (ESPAsyncWebServer's handleBody(data, len, index, total),
/// one piece per TCP segment; httpd_req_recv() on ESP32), gathered into a fixed buffer. Complete
/// only when every byte of `total` arrived, in order; a longer body is never stored. All-zero
/// bytes are a valid empty state (it can live in calloc'ed memory).
struct BodyBuffer {
  char data[PARAM_BODY_MAX];
  size_t len;    // bytes gathered, in order
  size_t total;  // the announced length (Content-Length)
  bool broken;   // a piece out of order, past `total`, or with another `total`

  void add(const uint8_t *piece, size_t piece_len, size_t index, size_t total);
  bool too_long() const { return this->total > PARAM_BODY_MAX; }
  bool complete() const { return !this->broken && !this->too_long() && this->len == this->total; }
};

/// What POST /api/param answers, and the ratio to apply when `status` is 200.
struct ParamReply {
  int status;  // 200, 400 (malformed or incomplete), 413 (body longer than PARAM_BODY_MAX)
  float ratio;
};

/// POST /api/param from what the web server gathered. `body`: the raw body handed to the handler
/// (nullptr when there was none: no body, or a form the server parsed itself); `ratio_arg`: the
/// `ratio` query or form field, nullptr when absent. A body decides alone (a bad body is never
/// rescued by the query); without one, the field must be valid.
ParamReply param_request(const BodyBuffer *body, const char *ratio_arg, size_t ratio_arg_len);

/// Whether a Content-Type is a form (application/x-www-form-urlencoded or multipart/form-data, any
/// case), which the ESP32 web server reads itself; any other body is left for the handler.
bool is_form_content_type(const char *content_type);

/// {"VO2":n} with n rounded to an integer. Returns the length written (snprintf semantics).
int render_info_json(char *buf, size_t size, float vo2);

/// {"ratio":n,"error":e} with n rounded to an integer.
int render_param_json(char *buf, size_t size, float ratio, int error);

}  // namespace esphome::pv_client
