#include "legacy_http.h"
#ifdef USE_PV_CLIENT_LEGACY_HTTP

#include "legacy_api.h"
#include "esphome/core/log.h"

#include <cstdlib>
#include <string>

namespace esphome::pv_client {

static const char *const TAG = "pv_client.http";

static bool url_is(AsyncWebServerRequest *request, const char *path) {
#ifdef USE_ESP32
  char url_buf[AsyncWebServerRequest::URL_BUF_SIZE];
  return request->url_to(url_buf) == path;
#else
  return request->url() == path;
#endif
}

void PvClientLegacyHttp::setup() {
  this->base_->init();
  this->base_->add_handler(this);
}

void PvClientLegacyHttp::dump_config() { ESP_LOGCONFIG(TAG, "Legacy HTTP API: GET /api/info, POST /api/param"); }

bool PvClientLegacyHttp::canHandle(AsyncWebServerRequest *request) const {
  if (request->method() == HTTP_GET)
    return url_is(request, "/api/info");
  if (request->method() == HTTP_POST)
    return url_is(request, "/api/param");
  return false;
}

void PvClientLegacyHttp::handleBody(AsyncWebServerRequest *request, uint8_t *data, size_t len, size_t index,
                                    size_t total) {
#ifndef USE_ESP32
  // ESPAsyncWebServer hands a body over in pieces (one per TCP segment) before handleRequest(). It is
  // gathered in the request's own _tempObject (freed with the request), so two clients cannot mix.
  auto *body = static_cast<BodyBuffer *>(request->_tempObject);
  if (body == nullptr) {
    body = static_cast<BodyBuffer *>(calloc(1, sizeof(BodyBuffer)));  // NOLINT(cppcoreguidelines-no-malloc)
    if (body == nullptr)
      return;  // no memory: a later piece, or no body at all, is answered 400
    request->_tempObject = body;
  }
  body->add(data, len, index, total);
#endif
}

#ifdef USE_ESP32
/// esp_http_server leaves a non-form body unread for the handler; httpd_req_recv() may return it in
/// pieces. A body longer than BodyBuffer takes is not read (the server discards it).
static void read_body(AsyncWebServerRequest *request, BodyBuffer *body) {
  const size_t total = request->contentLength();
  body->add(nullptr, 0, 0, total);
  uint8_t piece[PARAM_BODY_MAX];
  while (!body->too_long() && !body->broken && body->len < total) {
    const int n = httpd_req_recv(*request, reinterpret_cast<char *>(piece), total - body->len);
    if (n <= 0)
      return;  // closed or timed out: incomplete, answered 400
    body->add(piece, static_cast<size_t>(n), body->len, total);
  }
}
#endif

void PvClientLegacyHttp::handleRequest(AsyncWebServerRequest *request) {
  char out[48];
  if (request->method() == HTTP_GET) {
    render_info_json(out, sizeof(out), this->follow_->get_level());
    request->send(200, "application/json", out);
    return;
  }
  const BodyBuffer *body = nullptr;
#ifdef USE_ESP32
  BodyBuffer esp32_body{};
  if (request->contentLength() > 0) {
    auto type = request->get_header("Content-Type");
    if (type.has_value() && !is_form_content_type(type->c_str())) {
      read_body(request, &esp32_body);
      body = &esp32_body;
    }
  }
#else
  body = static_cast<const BodyBuffer *>(request->_tempObject);
#endif
  // no raw body: the form field or query `ratio=n`
  std::string arg;
  const bool has_arg = body == nullptr && request->hasArg("ratio");
  if (has_arg)
    arg = request->arg("ratio").c_str();
  const ParamReply reply = param_request(body, has_arg ? arg.c_str() : nullptr, arg.size());
  const bool ok = reply.status == 200;
  if (ok) {
    // This runs in the web server's context (ESP8266 TCP callbacks, the ESP32 httpd task): the
    // ratio is applied from the main loop, as ESPHome's web_server does.
    const float ratio = reply.ratio;
    this->defer([this, ratio]() { this->follow_->set_manual(ratio); });
    ESP_LOGD(TAG, "Manual ratio %.0f%% from /api/param", ratio);
  } else {
    ESP_LOGW(TAG, "/api/param rejected (HTTP %d)", reply.status);
  }
  render_param_json(out, sizeof(out), ok ? reply.ratio : this->follow_->get_manual(), ok ? 0 : 1);
  request->send(reply.status, "application/json", out);
}

}  // namespace esphome::pv_client

#endif  // USE_PV_CLIENT_LEGACY_HTTP
