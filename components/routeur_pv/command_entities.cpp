#include "command_entities.h"

#include "esphome/core/log.h"

namespace esphome::routeur_pv {

static const char *const TAG = "routeur_pv";

#ifdef USE_SELECT
void Channel1ModeSelect::control(size_t index) {
  if (index > static_cast<size_t>(Ch1Request::STOP))
    return;
  this->parent_->select_channel1(static_cast<Ch1Request>(index));  // the hub publishes the new state
}
#endif

#ifdef USE_NUMBER
void SettingNumber::control(float value) {
  const std::pair<Setting, float> setting{this->setting_, value};
  this->parent_->request_settings(&setting, 1);  // the state follows when the frames report it
}

void KeptNumber::setup() {
  float value = this->first_value_();
  if (this->restore_value_) {
    this->pref_ = this->make_entity_preference<float>();
    float saved;
    if (this->pref_.load(&saved) && !std::isnan(saved))
      value = saved;
  }
  this->apply_(value);
}

void KeptNumber::control(float value) {
  this->apply_(value);
  if (this->restore_value_)
    this->pref_.save(&value);
}

void KeptNumber::dump_restore_() const { ESP_LOGCONFIG(TAG, "  Restore value: %s", YESNO(this->restore_value_)); }

void BoostNumber::apply_(float value) {
  this->publish_state(value);
  if (this->kind_ == POWER) {
    this->parent_->set_boost_power(value);
  } else {
    this->parent_->set_boost_duration(value);
  }
}

void BoostNumber::dump_config() {
  if (this->kind_ == POWER) {
    LOG_NUMBER("", "Routeur PV boost power", this);
  } else {
    LOG_NUMBER("", "Routeur PV boost duration", this);
  }
  this->dump_restore_();
}
#endif

}  // namespace esphome::routeur_pv
