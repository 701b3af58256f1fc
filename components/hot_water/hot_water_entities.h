#pragma once
// The entities that change the hot-water manager at run time (hot_water.h): the numbers (written
// into the Manager's config, or the boost defaults), the deadline switch and the boost buttons.
// Thin: each calls the component, the same path as the YAML actions.
#include "esphome/core/component.h"
#include "esphome/core/defines.h"
#include "esphome/core/helpers.h"
#include "esphome/core/preferences.h"
#ifdef USE_NUMBER
#include "esphome/components/number/number.h"
#include "esphome/components/routeur_pv/command_entities.h"
#endif
#ifdef USE_SWITCH
#include "esphome/components/switch/switch.h"
#endif
#ifdef USE_BUTTON
#include "esphome/components/button/button.h"
#endif

#include "hot_water.h"

namespace esphome::hot_water {

#ifdef USE_NUMBER
/// Starts from the hot_water: option it changes (or the value saved, restore_value); a change
/// applies at the next update.
class HotWaterNumber : public routeur_pv::KeptNumber, public Parented<HotWaterComponent> {
 public:
  enum Kind : uint8_t { MAX_TEMPERATURE, DEADLINE_TEMPERATURE, BOOST_DURATION, BOOST_TARGET };
  void set_kind(Kind kind) { this->kind_ = kind; }
  void dump_config() override;

 protected:
  /// The value in force, in the number's unit.
  float first_value_() const override;
  void apply_(float value) override;
  Kind kind_{MAX_TEMPERATURE};
};
#endif

#ifdef USE_SWITCH
/// The deadline on or off (restore_mode, RESTORE_DEFAULT_ON by default).
class DeadlineSwitch : public switch_::Switch, public Component, public Parented<HotWaterComponent> {
 public:
  void setup() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::DATA; }

 protected:
  void write_state(bool state) override;
};
#endif

#ifdef USE_BUTTON
/// Boost (with the Boost duration and Boost target numbers) or Cancel boost.
class HotWaterButton : public button::Button, public Parented<HotWaterComponent> {
 public:
  enum Kind : uint8_t { BOOST, CANCEL_BOOST };
  void set_kind(Kind kind) { this->kind_ = kind; }

 protected:
  void press_action() override;
  Kind kind_{BOOST};
};
#endif

}  // namespace esphome::hot_water
