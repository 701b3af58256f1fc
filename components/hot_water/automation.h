#pragma once
// YAML actions: hot_water.boost and hot_water.cancel_boost. They call the component as the Boost
// and Cancel boost buttons do (hot_water.h).
#include "esphome/core/automation.h"
#include "esphome/core/helpers.h"

#include "hot_water.h"

// esphome::Action, not hot_water::Action (the Manager's decision)
namespace esphome::hot_water {

template<typename... Ts> class BoostAction : public esphome::Action<Ts...>, public Parented<HotWaterComponent> {
 public:
  TEMPLATABLE_VALUE(uint32_t, duration)         // ms; absent: the Boost duration number; 0: until the target
  TEMPLATABLE_VALUE(float, target_temperature)  // degC; absent: the Boost target number; 0: no target

  void play(const Ts &...x) override {
    const uint32_t seconds =
        this->duration_.has_value() ? this->duration_.value(x...) / 1000u : this->parent_->boost_duration_s();
    const float target =
        this->target_temperature_.has_value() ? this->target_temperature_.value(x...) : this->parent_->boost_target_c();
    this->parent_->start_boost(seconds, target);
  }
};

template<typename... Ts> class CancelBoostAction : public esphome::Action<Ts...>, public Parented<HotWaterComponent> {
 public:
  void play(const Ts &...x) override { this->parent_->cancel_boost(); }
};

}  // namespace esphome::hot_water
