#include "hot_water_entities.h"

#include <cmath>

#include "esphome/core/log.h"

namespace esphome::hot_water {

static const char *const TAG = "hot_water";

#ifdef USE_NUMBER
float HotWaterNumber::first_value_() const {
  const Config &c = this->parent_->manager().config();
  switch (this->kind_) {
    case MAX_TEMPERATURE:
      return c.max_c;
    case DEADLINE_TEMPERATURE:
      return c.deadline_c;
    case BOOST_DURATION:
      return this->parent_->boost_duration_s() / 60.0f;
    case BOOST_TARGET:
    default:
      return std::isnan(this->parent_->boost_target_c()) ? 0.0f : this->parent_->boost_target_c();
  }
}

void HotWaterNumber::apply_(float value) {
  switch (this->kind_) {
    case MAX_TEMPERATURE: {
      const Config &c = this->parent_->manager().config();
      if (c.legionella_every_days != 0 && c.legionella_c > value - c.hysteresis_c)
        ESP_LOGW(TAG, "Maximum temperature %.1f degC: the anti-legionella cycle (%.1f degC) cannot hold under %.1f",
                 value, c.legionella_c, value - c.hysteresis_c);
      this->parent_->set_max_temperature(value);
      break;
    }
    case DEADLINE_TEMPERATURE:
      this->parent_->set_deadline_temperature(value);
      break;
    case BOOST_DURATION:
      this->parent_->set_boost_duration(static_cast<uint32_t>(std::lround(value * 60.0f)));
      break;
    case BOOST_TARGET:
      this->parent_->set_boost_target(value);  // 0: no target
      break;
  }
  this->publish_state(value);
}

void HotWaterNumber::dump_config() {
  LOG_NUMBER("", "Hot water number", this);
  this->dump_restore_();
}
#endif

#ifdef USE_SWITCH
void DeadlineSwitch::setup() {
  const optional<bool> initial = this->get_initial_state_with_restore_mode();
  this->write_state(initial.has_value() ? *initial : this->parent_->manager().config().deadline_enabled);
}

void DeadlineSwitch::write_state(bool state) {
  this->parent_->set_deadline_enabled(state);
  this->publish_state(state);
}

void DeadlineSwitch::dump_config() { LOG_SWITCH("", "Hot water deadline", this); }
#endif

#ifdef USE_BUTTON
void HotWaterButton::press_action() {
  if (this->kind_ == BOOST) {
    this->parent_->start_boost(this->parent_->boost_duration_s(), this->parent_->boost_target_c());
  } else {
    this->parent_->cancel_boost();
  }
}
#endif

}  // namespace esphome::hot_water
