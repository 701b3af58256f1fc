#pragma once
// The old gateway's HTTP API, `GET /api/routeur`, on web_server_base (ESP8266/ESP32 only: this file
// is not compiled on other platforms, see FILTER_SOURCE_FILES in __init__.py).
#include "esphome/core/defines.h"
#ifdef USE_ROUTEUR_PV_LEGACY_API
#include "esphome/components/web_server_base/web_server_base.h"
#include "esphome/core/component.h"

#include "routeur_pv.h"

namespace esphome::routeur_pv {

class RouteurPvLegacyApi : public AsyncWebHandler, public Component {
 public:
  RouteurPvLegacyApi(web_server_base::WebServerBase *base, RouteurPvComponent *parent)
      : base_(base), parent_(parent) {}

  bool canHandle(AsyncWebServerRequest *request) const override;
  void handleRequest(AsyncWebServerRequest *request) override;

  void setup() override;
  void dump_config() override;
  float get_setup_priority() const override {
    // After WiFi, like the other web_server_base handlers
    return setup_priority::WIFI - 1.0f;
  }

 protected:
  web_server_base::WebServerBase *base_;
  RouteurPvComponent *parent_;
};

}  // namespace esphome::routeur_pv
#endif
