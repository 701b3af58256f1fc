#pragma once
// YAML actions: routeur_pv.boost, routeur_pv.stop, routeur_pv.auto, routeur_pv.set_settings. Each
// calls the hub as the select and the numbers do (routeur_pv.h).
#include <cmath>

#include "esphome/core/automation.h"
#include "esphome/core/helpers.h"

#include "routeur_pv.h"

namespace esphome::routeur_pv {

template<typename... Ts> class BoostAction : public Action<Ts...>, public Parented<RouteurPvComponent> {
 public:
  TEMPLATABLE_VALUE(float, power)        // %
  TEMPLATABLE_VALUE(uint32_t, duration)  // ms, 0 or absent: until the next request

  void play(const Ts &...x) override {
    const uint32_t duration = this->duration_.has_value() ? this->duration_.value(x...) : 0;
    this->parent_->request_boost(this->power_.value(x...), duration);
  }
};

template<typename... Ts> class StopAction : public Action<Ts...>, public Parented<RouteurPvComponent> {
 public:
  TEMPLATABLE_VALUE(uint32_t, duration)

  void play(const Ts &...x) override {
    this->parent_->request_stop(this->duration_.has_value() ? this->duration_.value(x...) : 0);
  }
};

template<typename... Ts> class AutoAction : public Action<Ts...>, public Parented<RouteurPvComponent> {
 public:
  void play(const Ts &...x) override { this->parent_->request_auto(); }
};

template<typename... Ts> class SetSettingsAction : public Action<Ts...>, public Parented<RouteurPvComponent> {
 public:
  // In the user's units: W, W, W, mV/V, mV/A
  TEMPLATABLE_VALUE(float, heater_power)
  TEMPLATABLE_VALUE(float, channel2_power)
  TEMPLATABLE_VALUE(float, export_target)
  TEMPLATABLE_VALUE(float, voltage_calibration)
  TEMPLATABLE_VALUE(float, current_calibration)

  void play(const Ts &...x) override {
    std::pair<Setting, float> settings[SETTING_COUNT];
    size_t n = 0;
    if (this->heater_power_.has_value())
      settings[n++] = {SETTING_HEATER, this->heater_power_.value(x...)};
    if (this->channel2_power_.has_value())
      settings[n++] = {SETTING_CH2, this->channel2_power_.value(x...)};
    if (this->export_target_.has_value())
      settings[n++] = {SETTING_EXPORT, this->export_target_.value(x...)};
    if (this->voltage_calibration_.has_value())
      settings[n++] = {SETTING_VOLTAGE_CAL, this->voltage_calibration_.value(x...)};
    if (this->current_calibration_.has_value())
      settings[n++] = {SETTING_CURRENT_CAL, this->current_calibration_.value(x...)};
    this->parent_->request_settings(settings, n);
  }
};

}  // namespace esphome::routeur_pv
