#pragma once
// pv_relay: a relay stage in ESPHome. Thin glue around RelayStage (relay_stage.h, where every
// decision is made): each update it reads the grid power and the power of the loads that give way
// to it, the local time, and drives an ESPHome switch. See docs/relay.md.
#include <vector>

#include "esphome/components/select/select.h"
#include "esphome/components/sensor/sensor.h"
#include "esphome/components/switch/switch.h"
#include "esphome/core/component.h"
#include "esphome/core/defines.h"
#include "esphome/core/helpers.h"
#include "esphome/core/preferences.h"
#ifdef USE_TIME
#include "esphome/components/time/real_time_clock.h"
#endif
#ifdef USE_TEXT_SENSOR
#include "esphome/components/text_sensor/text_sensor.h"
#endif

#include "relay_stage.h"

namespace esphome::pv_relay {

class PvRelay;

class PvRelayModeSelect : public select::Select, public Parented<PvRelay> {
 protected:
  void control(size_t index) override;
};

class PvRelay : public PollingComponent {
 public:
  explicit PvRelay(const RelayConfig &config) : stage_(config) {}

  void set_switch(switch_::Switch *sw) { this->switch_ = sw; }
  void set_grid_sensor(sensor::Sensor *s) { this->grid_ = s; }
  void add_gives_way_sensor(sensor::Sensor *s) { this->gives_way_.push_back(s); }
  void set_data_timeout(uint32_t ms) { this->data_timeout_ms_ = ms; }
#ifdef USE_TIME
  void set_clock(time::RealTimeClock *clock) { this->clock_ = clock; }
#endif
  void set_mode_select(PvRelayModeSelect *s) { this->mode_select_ = s; }
  void set_runtime_sensor(sensor::Sensor *s) { this->runtime_sensor_ = s; }
#ifdef USE_TEXT_SENSOR
  void set_reason_text_sensor(text_sensor::TextSensor *s) { this->reason_text_ = s; }
#endif

  void set_mode(RelayMode mode);

  void setup() override;
  void update() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::DATA; }

 protected:
  /// The surplus the load may take now, NaN when the grid power is unknown or stale.
  float available_w_(uint32_t now_ms) const;
  int64_t local_seconds_() const;
  void save_();

  RelayStage stage_;
  switch_::Switch *switch_{nullptr};
  sensor::Sensor *grid_{nullptr};
  std::vector<sensor::Sensor *> gives_way_;
  uint32_t data_timeout_ms_{70000};
  uint32_t grid_ms_{0};  // when the grid power last came in
#ifdef USE_TIME
  time::RealTimeClock *clock_{nullptr};
#endif
  PvRelayModeSelect *mode_select_{nullptr};
  sensor::Sensor *runtime_sensor_{nullptr};
#ifdef USE_TEXT_SENSOR
  text_sensor::TextSensor *reason_text_{nullptr};
#endif
  ESPPreferenceObject pref_;
  uint32_t saved_runtime_min_{UINT32_MAX};
  int64_t saved_day_{-2};
};

}  // namespace esphome::pv_relay
