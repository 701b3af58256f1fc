#include "legacy_http.h"
#ifdef USE_PV_CLIENT_LEGACY_HTTP

#include "legacy_api.h"
#include "esphome/core/log.h"

#include <cstdlib>

namespace esphome::pv_client {

static const char *const TAG = "pv_client.http";
static constexpr size_t MAX_BODY = 128;

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
  // ESPAsyncWebServer (ESP8266) hands a JSON body over in chunks before handleRequest()
  if (index == 0)
    this->body_.clear();
  if (this->body_.size() + len <= MAX_BODY)
    this->body_.append(reinterpret_cast<const char *>(data), len);
}

void PvClientLegacyHttp::handleRequest(AsyncWebServerRequest *request) {
  char out[48];
  if (request->method() == HTTP_GET) {
    render_info_json(out, sizeof(out), this->follow_->get_level());
    request->send(200, "application/json", out);
    return;
  }
  std::string body;
  body.swap(this->body_);
#ifdef USE_ESP32
  // esp_http_server: a non-form body is left unread for the handler
  if (body.empty() && request->contentLength() > 0 && request->contentLength() <= MAX_BODY) {
    char buf[MAX_BODY + 1];
    int n = httpd_req_recv(*request, buf, request->contentLength());
    if (n > 0)
      body.assign(buf, static_cast<size_t>(n));
  }
#endif
  float ratio = 0.0f;
  bool ok = parse_param_ratio(body.data(), body.size(), &ratio);
  if (!ok && request->hasArg("ratio")) {
    // form or query fallback: ratio=n
    std::string arg = request->arg("ratio").c_str();
    char *end = nullptr;
    float v = std::strtof(arg.c_str(), &end);
    ok = end != arg.c_str() && v >= 0.0f && v <= 100.0f;
    ratio = v;
  }
  if (ok) {
    this->follow_->set_manual(ratio);
    ESP_LOGD(TAG, "Manual ratio %.0f%% from /api/param", ratio);
  }
  render_param_json(out, sizeof(out), ok ? ratio : this->follow_->get_manual(), ok ? 0 : 1);
  request->send(ok ? 200 : 400, "application/json", out);
}

}  // namespace esphome::pv_client

#endif  // USE_PV_CLIENT_LEGACY_HTTP
