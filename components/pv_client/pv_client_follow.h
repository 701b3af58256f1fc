#pragma once

#include "esphome/core/component.h"
#include "esphome/core/defines.h"
#include "esphome/core/helpers.h"
#include "esphome/core/preferences.h"
#include "esphome/components/number/number.h"
#include "esphome/components/select/select.h"
#ifdef USE_SENSOR
#include "esphome/components/sensor/sensor.h"
#endif
#ifdef USE_BINARY_SENSOR
#include "esphome/components/binary_sensor/binary_sensor.h"
#endif
#ifdef USE_PV_CLIENT_GATEWAY_URL
#include "esphome/components/http_request/http_request.h"
#endif

#include "follow_logic.h"
#include "gateway_poll.h"
#include "pv_client_output.h"

#include <string>

namespace esphome::pv_client {

class PvClientFollow;

/// Manual ratio, percent (Home Assistant number).
class PvClientManualNumber : public number::Number, public Parented<PvClientFollow> {
 protected:
  void control(float value) override;
};

/// auto / off / forced (Home Assistant select).
class PvClientModeSelect : public select::Select, public Parented<PvClientFollow> {
 protected:
  void control(size_t index) override;
};

/// Follow controller: drives a pv_client output from the gateway's channel-2 ratio.
class PvClientFollow : public PollingComponent {
 public:
  void setup() override;
  void loop() override;
  void update() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::DATA; }

  void set_output(PvClientOutput *output) { this->output_ = output; }
  void set_timeout(uint32_t timeout_ms) {
    this->timeout_ms_ = timeout_ms;
    this->logic_.set_timeout_ms(timeout_ms);
  }
  void set_restore(bool restore) { this->restore_ = restore; }
#ifdef USE_SENSOR
  void set_ratio_sensor(sensor::Sensor *sensor) { this->ratio_sensor_ = sensor; }
  /// Watts allotted by a gateway that shares channel 2 among several loads (pv_loads).
  void set_allotted_sensor(sensor::Sensor *sensor) { this->allotted_sensor_ = sensor; }
  void set_offered_sensor(sensor::Sensor *sensor) { this->offered_sensor_ = sensor; }
  void set_level_sensor(sensor::Sensor *sensor) { this->level_sensor_ = sensor; }
  void set_power_sensor(sensor::Sensor *sensor) { this->power_sensor_ = sensor; }
#endif
#ifdef USE_BINARY_SENSOR
  void set_stale_binary_sensor(binary_sensor::BinarySensor *sensor) { this->stale_sensor_ = sensor; }
#endif
  void set_manual_number(PvClientManualNumber *number) { this->manual_number_ = number; }
  void set_mode_select(PvClientModeSelect *select) { this->mode_select_ = select; }
#ifdef USE_PV_CLIENT_GATEWAY_URL
  void set_http_request(http_request::HttpRequestComponent *http) { this->http_ = http; }
  void set_gateway_url(const std::string &url) { this->gateway_url_ = url; }
  void set_gateway_timeout(uint32_t timeout_ms) { this->gateway_timeout_ms_ = timeout_ms; }
#endif

  /// Ratio from any source (percent); also callable from lambdas.
  void set_ratio(float percent);
  void set_manual(float percent);
  void set_mode(FollowMode mode);
  FollowMode get_mode() const { return this->logic_.get_mode(); }
  float get_manual() const { return this->logic_.get_manual(); }
  /// The level in use, percent (what GET /api/info reports as VO2).
  float get_level() const { return this->level_; }
  bool is_stale() const { return this->stale_; }

 protected:
  void apply_(bool publish_all);
  void publish_offer_(bool force);
  void save_();
#ifdef USE_PV_CLIENT_GATEWAY_URL
  void poll_gateway_();
  bool fetch_gateway_vo2_(float *vo2);
  GatewayPollSchedule poll_{};
  http_request::HttpRequestComponent *http_{nullptr};
  std::string gateway_url_;
  uint32_t gateway_timeout_ms_{1500};
#endif

  FollowLogic logic_{};
  uint32_t timeout_ms_{5000};
  PvClientOutput *output_{nullptr};
  PvClientManualNumber *manual_number_{nullptr};
  PvClientModeSelect *mode_select_{nullptr};
#ifdef USE_SENSOR
  sensor::Sensor *ratio_sensor_{nullptr};
  sensor::Sensor *allotted_sensor_{nullptr};
  sensor::Sensor *offered_sensor_{nullptr};
  sensor::Sensor *level_sensor_{nullptr};
  sensor::Sensor *power_sensor_{nullptr};
#endif
#ifdef USE_BINARY_SENSOR
  binary_sensor::BinarySensor *stale_sensor_{nullptr};
#endif
  ESPPreferenceObject pref_;
  bool restore_{true};
  float level_{-1.0f};
  bool stale_{true};
  bool first_apply_{true};
  float offered_w_{NAN};
};

}  // namespace esphome::pv_client
