#pragma once
// The old client's HTTP API on ESP targets (web_server_base handler, like ESPHome's prometheus):
//   GET  /api/info            -> {"VO2":n}              (the level in use, percent)
//   POST /api/param {"ratio":n} -> {"ratio":n,"error":0} (sets the manual ratio, in the main loop)
// What it gathers, renders and parses lives in legacy_api.h (host tested).
#include "esphome/core/defines.h"
#ifdef USE_PV_CLIENT_LEGACY_HTTP

#include "esphome/components/web_server_base/web_server_base.h"
#include "esphome/core/component.h"

#include "pv_client_follow.h"

namespace esphome::pv_client {

class PvClientLegacyHttp : public AsyncWebHandler, public Component {
 public:
  PvClientLegacyHttp(web_server_base::WebServerBase *base, PvClientFollow *follow) : base_(base), follow_(follow) {}

  bool canHandle(AsyncWebServerRequest *request) const override;
  void handleRequest(AsyncWebServerRequest *request) override;
  void handleBody(AsyncWebServerRequest *request, uint8_t *data, size_t len, size_t index, size_t total) override;
  bool isRequestHandlerTrivial() const override { return false; }

  void setup() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::WIFI - 1.0f; }

 protected:
  web_server_base::WebServerBase *base_;
  PvClientFollow *follow_;
};

}  // namespace esphome::pv_client

#endif  // USE_PV_CLIENT_LEGACY_HTTP
