#pragma once
// The entities that command the ATmega through the hub (routeur_pv.h): the "Channel 1 mode" select,
// the boost numbers (kept by the gateway) and the setting numbers (kept by the ATmega, shown as it
// reports them). Thin: every request goes to the hub, the same path as the YAML actions.
#include "esphome/core/component.h"
#include "esphome/core/defines.h"
#include "esphome/core/helpers.h"
#include "esphome/core/preferences.h"

#include "routeur_pv.h"

namespace esphome::routeur_pv {

#ifdef USE_SELECT
/// Auto / Boost / Off (options in Ch1Request order): the request, not what the ATmega does (the
/// "Channel 1 mode in force" text sensor says that). Not restored: a gateway restart means auto.
class Channel1ModeSelect : public select::Select, public Parented<RouteurPvComponent> {
 protected:
  void control(size_t index) override;
};
#endif

#ifdef USE_NUMBER
/// One of the ATmega's settings, in the user's unit. Its state is what the frames report (unknown
/// until then, and after a link loss); setting it sends the value, which shows once stored.
class SettingNumber : public number::Number, public Parented<RouteurPvComponent> {
 public:
  void set_setting(Setting s) { this->setting_ = s; }

 protected:
  void control(float value) override;
  Setting setting_{SETTING_HEATER};
};

/// A number the gateway keeps (also the hot-water manager's): it starts from first_value_(), or with
/// restore_value from the value saved last; each change is applied (apply_ publishes it) and saved.
class KeptNumber : public number::Number, public Component {
 public:
  void set_restore_value(bool restore) { this->restore_value_ = restore; }
  void setup() override;
  /// After the parents' setters (code generation) and before their first use.
  float get_setup_priority() const override { return setup_priority::DATA; }

 protected:
  void control(float value) override;
  virtual float first_value_() const = 0;
  virtual void apply_(float value) = 0;
  void dump_restore_() const;
  bool restore_value_{true};
  ESPPreferenceObject pref_;
};

/// "Boost power" (%) or "Boost duration" (min): what the select's Boost starts; kept by the gateway,
/// restored after a restart (restore_value) or its initial value.
class BoostNumber : public KeptNumber, public Parented<RouteurPvComponent> {
 public:
  enum Kind : uint8_t { POWER, DURATION };
  void set_kind(Kind kind) { this->kind_ = kind; }
  void set_initial_value(float value) { this->initial_value_ = value; }
  void dump_config() override;

 protected:
  float first_value_() const override { return this->initial_value_; }
  void apply_(float value) override;
  Kind kind_{POWER};
  float initial_value_{NAN};
};
#endif

}  // namespace esphome::routeur_pv
