#include "legacy_api.h"
#ifdef USE_ROUTEUR_PV_LEGACY_API
#include "esphome/core/log.h"
#include "esphome/core/progmem.h"

namespace esphome::routeur_pv {

static const char *const TAG = "routeur_pv.legacy_api";

bool RouteurPvLegacyApi::canHandle(AsyncWebServerRequest *request) const {
  if (request->method() != HTTP_GET)
    return false;
  // same URL matching as ESPHome's prometheus handler
#ifdef USE_ESP32
  char url_buf[AsyncWebServerRequest::URL_BUF_SIZE];
  return request->url_to(url_buf) == "/api/routeur";
#else
  return request->url() == ESPHOME_F("/api/routeur");
#endif
}

void RouteurPvLegacyApi::handleRequest(AsyncWebServerRequest *request) {
  char buf[LEGACY_JSON_MAX];
  render_legacy_json(this->parent_->legacy_values(), buf, sizeof(buf));
  request->send(200, "application/json", buf);
}

void RouteurPvLegacyApi::setup() {
  this->base_->init();
  this->base_->add_handler(this);
}

void RouteurPvLegacyApi::dump_config() { ESP_LOGCONFIG(TAG, "Routeur PV legacy API: GET /api/routeur"); }

}  // namespace esphome::routeur_pv
#endif
