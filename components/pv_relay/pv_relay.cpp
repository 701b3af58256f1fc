#include "pv_relay.h"

#include <cmath>

#include "esphome/core/hal.h"
#include "esphome/core/log.h"

namespace esphome::pv_relay {

static const char *const TAG = "pv_relay";
static const uint32_t STATE_PREF_VERSION = 1;

// What a restart must not lose: the runtime done today (a daily minimum would run again) and the mode.
struct SavedState {
  int64_t day;
  uint32_t runtime_s;
  uint8_t mode;
} PACKED;

void PvRelayModeSelect::control(size_t index) {
  RelayMode mode;
  if (relay_mode_from_string(this->option_at(index), &mode))
    this->parent_->set_mode(mode);
}

void PvRelay::setup() {
  this->pref_ = global_preferences->make_preference<SavedState>(
      this->switch_->get_preference_hash() ^ fnv1_hash("pv_relay") ^ STATE_PREF_VERSION);
  SavedState saved{};
  if (this->pref_.load(&saved)) {
    this->stage_.restore_runtime_today(saved.day, saved.runtime_s);
    if (saved.mode <= uint8_t(RelayMode::ON))
      this->stage_.set_mode(static_cast<RelayMode>(saved.mode));
  }
  // The grid power stops coming when the gateway or its ATmega goes silent (a remote
  // packet_transport sensor keeps its last state): older than data_timeout is unknown.
  this->grid_->add_on_state_callback([this](float) { this->grid_ms_ = millis(); });
  if (this->mode_select_ != nullptr)
    this->mode_select_->publish_state(relay_mode_to_string(this->stage_.mode()));
  // Off until the stage decides (a relay restored "on" would otherwise skip the minimum off-time).
  this->switch_->turn_off();
}

void PvRelay::set_mode(RelayMode mode) {
  this->stage_.set_mode(mode);
  if (this->mode_select_ != nullptr)
    this->mode_select_->publish_state(relay_mode_to_string(mode));
  this->save_();
  this->update();
}

float PvRelay::available_w_(uint32_t now_ms) const {
  if (!this->grid_->has_state() || std::isnan(this->grid_->state) || now_ms - this->grid_ms_ > this->data_timeout_ms_)
    return NAN;
  float available = -this->grid_->state;
  // A load that gives way but cannot be read is not counted on to give anything.
  for (sensor::Sensor *s : this->gives_way_)
    if (s->has_state() && std::isfinite(s->state) && s->state > 0.0f)
      available += s->state;
  return available;
}

int64_t PvRelay::local_seconds_() const {
#ifdef USE_TIME
  if (this->clock_ != nullptr) {
    const ESPTime now = this->clock_->now();
    if (now.is_valid())
      return int64_t(now.timestamp) + ESPTime::timezone_offset();
  }
#endif
  return -1;
}

void PvRelay::update() {
  const uint32_t now_ms = millis();
  const bool on = this->stage_.update(uint32_t(millis_64() / 1000u), this->available_w_(now_ms), this->local_seconds_());
  if (on != this->switch_->state) {
    ESP_LOGI(TAG, "'%s': %s (%s)", this->switch_->get_name().c_str(), on ? "on" : "off",
             relay_reason_to_string(this->stage_.reason()));
    if (on)
      this->switch_->turn_on();
    else
      this->switch_->turn_off();
  }
  const uint32_t runtime_min = this->stage_.runtime_today_s() / 60u;
  if (runtime_min != this->saved_runtime_min_ || this->stage_.day() != this->saved_day_) {
    if (this->runtime_sensor_ != nullptr)
      this->runtime_sensor_->publish_state(float(runtime_min));
    this->save_();
  }
#ifdef USE_TEXT_SENSOR
  if (this->reason_text_ != nullptr) {
    const char *reason = relay_reason_to_string(this->stage_.reason());
    if (!this->reason_text_->has_state() || this->reason_text_->state != reason)
      this->reason_text_->publish_state(reason);
  }
#endif
}

void PvRelay::save_() {
  this->saved_runtime_min_ = this->stage_.runtime_today_s() / 60u;
  this->saved_day_ = this->stage_.day();
  SavedState state{this->stage_.day(), this->stage_.runtime_today_s(), uint8_t(this->stage_.mode())};
  this->pref_.save(&state);
}

void PvRelay::dump_config() {
  const RelayConfig &c = this->stage_.config();
  ESP_LOGCONFIG(TAG,
                "Relay stage '%s':\n"
                "  Rating: %.0f W, on after %u s of surplus, off after %u s of import above %.0f W\n"
                "  Minimum on / off: %u / %u s\n"
                "  Loads giving way to it: %u\n"
                "  Data timeout: %u ms",
                this->switch_->get_name().c_str(), c.rating_w, unsigned(c.on_delay_s), unsigned(c.off_delay_s),
                c.off_import_w, unsigned(c.min_on_s), unsigned(c.min_off_s), unsigned(this->gives_way_.size()),
                unsigned(this->data_timeout_ms_));
  if (c.daily_runtime_s > 0)
    ESP_LOGCONFIG(TAG, "  Daily runtime: %u min by %02u:%02u", unsigned(c.daily_runtime_s / 60),
                  unsigned(c.runtime_by_min / 60), unsigned(c.runtime_by_min % 60));
  LOG_UPDATE_INTERVAL(this);
}

}  // namespace esphome::pv_relay
