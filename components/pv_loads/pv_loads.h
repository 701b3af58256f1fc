#pragma once
// pv_loads: channel 2 shared by several loads (docs/loads.md). Thin glue around LoadAllotter
// (routeur_pv/load_allotter.h, where every decision is made): each load reports what it offers (its
// rating while it follows, 0 otherwise) over packet_transport; at every frame channel 2's watts
// (VO2 x the ATmega's full scale DIM) are allotted by priority and published, one sensor a load,
// for packet_transport to send to it. With the command line, DIM follows the loads' capacity.
#include <vector>

#include "esphome/components/number/number.h"
#include "esphome/components/routeur_pv/change_gate.h"
#include "esphome/components/routeur_pv/load_allotter.h"
#include "esphome/components/routeur_pv/routeur_pv.h"
#include "esphome/components/sensor/sensor.h"
#include "esphome/core/component.h"
#include "esphome/core/helpers.h"
#include "esphome/core/preferences.h"

namespace esphome::pv_loads {

class PvLoads;

/// A load's priority, 1 first (Home Assistant number, restored after a restart).
class LoadPriorityNumber : public number::Number, public Parented<PvLoads> {
 public:
  void set_index(size_t index) { this->index_ = index; }

 protected:
  void control(float value) override;
  size_t index_{0};
};

class PvLoads : public Component {
 public:
  void set_hub(routeur_pv::RouteurPvComponent *hub) { this->hub_ = hub; }
  void set_full_scale(float watts) { this->configured_full_scale_w_ = watts; }
  void set_load_timeout(uint32_t ms) { this->allotter_.set_timeout_ms(ms); }
  void set_follow_capacity(bool follow) { this->follow_capacity_ = follow; }
  void add_load(sensor::Sensor *offered, sensor::Sensor *allotted, uint8_t priority, LoadPriorityNumber *number);

  void set_priority(size_t index, uint8_t priority);

  void setup() override;
  void loop() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::DATA; }

 protected:
  struct Entry {
    sensor::Sensor *offered;
    sensor::Sensor *allotted;
    LoadPriorityNumber *number;
    routeur_pv::ChangeGate gate;
    ESPPreferenceObject pref;
  };
  void on_frame_(const routeur_pv::Frame &frame);
  void allot_(uint32_t now_ms);
  /// VO2 100 % in watts: DIM as the frames report it, else as configured.
  float full_scale_w_() const { return this->reported_full_scale_w_ > 0.0f ? this->reported_full_scale_w_ : this->configured_full_scale_w_; }

  routeur_pv::RouteurPvComponent *hub_{nullptr};
  routeur_pv::LoadAllotter allotter_;
  routeur_pv::FullScaleFollower full_scale_follower_;
  std::vector<Entry> loads_;
  float configured_full_scale_w_{1000.0f};
  float reported_full_scale_w_{0.0f};
  float vo2_percent_{NAN};  ///< of the last frame; NaN while the link is down
  float po2_w_{NAN};        ///< of the last frame; NaN while the link is down or from older ATmegas
  bool follow_capacity_{true};
  uint32_t last_allot_ms_{0};
};

}  // namespace esphome::pv_loads
