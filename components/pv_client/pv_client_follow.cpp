#include "pv_client_follow.h"
#include "legacy_api.h"
#include "esphome/core/hal.h"
#include "esphome/core/log.h"

#include <cmath>

namespace esphome::pv_client {

static const char *const TAG = "pv_client";

struct FollowSettings {
  float manual;
  uint8_t mode;
} PACKED;

void PvClientManualNumber::control(float value) { this->parent_->set_manual(value); }

void PvClientModeSelect::control(size_t index) {
  FollowMode mode;
  if (follow_mode_from_string(this->option_at(index), &mode))
    this->parent_->set_mode(mode);
}

void PvClientFollow::setup() {
  if (this->restore_) {
    this->pref_ = global_preferences->make_preference<FollowSettings>(fnv1_hash("pv_client_follow"));
    FollowSettings saved{};
    if (this->pref_.load(&saved)) {
      this->logic_.set_manual(saved.manual);
      if (saved.mode <= FOLLOW_MODE_FORCED)
        this->logic_.set_mode(static_cast<FollowMode>(saved.mode));
    }
  }
#ifdef USE_SENSOR
  if (this->ratio_sensor_ != nullptr) {
    this->ratio_sensor_->add_on_state_callback([this](float value) { this->set_ratio(value); });
  }
  if (this->allotted_sensor_ != nullptr) {
    this->allotted_sensor_->add_on_state_callback([this](float watts) {
      this->logic_.set_allotted_w(watts, this->output_->get_load_power(), millis());
      this->apply_(false);
    });
  }
#endif
  if (this->manual_number_ != nullptr)
    this->manual_number_->publish_state(this->logic_.get_manual());
  if (this->mode_select_ != nullptr)
    this->mode_select_->publish_state(follow_mode_to_string(this->logic_.get_mode()));
  this->apply_(true);
}

void PvClientFollow::set_ratio(float percent) {
  this->logic_.set_ratio(percent, millis());
  this->apply_(false);
}

void PvClientFollow::set_manual(float percent) {
  this->logic_.set_manual(percent);
  if (this->manual_number_ != nullptr)
    this->manual_number_->publish_state(this->logic_.get_manual());
  this->save_();
  this->apply_(false);
}

void PvClientFollow::set_mode(FollowMode mode) {
  this->logic_.set_mode(mode);
  if (this->mode_select_ != nullptr)
    this->mode_select_->publish_state(follow_mode_to_string(mode));
  this->save_();
  this->apply_(false);
}

void PvClientFollow::save_() {
  if (!this->restore_)
    return;
  FollowSettings settings{this->logic_.get_manual(), static_cast<uint8_t>(this->logic_.get_mode())};
  this->pref_.save(&settings);
}

void PvClientFollow::loop() {
#ifdef USE_PV_CLIENT_GATEWAY_URL
  this->poll_gateway_();
#endif
  this->apply_(false);  // cheap: acts only when the level or the staleness changes
  this->publish_offer_(false);
}

void PvClientFollow::update() {
  this->apply_(true);
  this->publish_offer_(true);
}

void PvClientFollow::publish_offer_(bool force) {
#ifdef USE_SENSOR
  if (this->offered_sensor_ == nullptr || this->output_ == nullptr)
    return;
  // Every update (packet_transport sends it on), and at once when it changes (a mode, the mains).
  const float offered = this->logic_.offered_w(this->output_->get_load_power(), this->output_->is_mains_locked());
  if (force || offered != this->offered_w_) {
    this->offered_w_ = offered;
    this->offered_sensor_->publish_state(offered);
  }
#endif
}

void PvClientFollow::apply_(bool publish_all) {
  const uint32_t now = millis();
  const bool stale = this->logic_.is_stale(now);
  const float level = this->logic_.level_percent(now);
  const bool level_changed = level != this->level_;
  const bool stale_changed = stale != this->stale_ || this->first_apply_;
  if (stale_changed && stale && !this->first_apply_ && this->logic_.get_mode() == FOLLOW_MODE_AUTO)
    ESP_LOGW(TAG, "No ratio for %" PRIu32 " ms: level 0", this->logic_.get_timeout_ms());
  this->stale_ = stale;
  this->first_apply_ = false;
  if (level_changed) {
    this->level_ = level;
    if (this->output_ != nullptr)
      this->output_->set_level(level / 100.0f);
    ESP_LOGD(TAG, "Level %.1f%% (ratio %.1f%%, manual %.1f%%, mode %s%s)", level, this->logic_.get_ratio(),
             this->logic_.get_manual(), follow_mode_to_string(this->logic_.get_mode()), stale ? ", stale" : "");
  }
#ifdef USE_BINARY_SENSOR
  if (this->stale_sensor_ != nullptr && (stale_changed || publish_all))
    this->stale_sensor_->publish_state(stale);
#endif
#ifdef USE_SENSOR
  if (level_changed || publish_all) {
    if (this->level_sensor_ != nullptr)
      this->level_sensor_->publish_state(level);
    if (this->power_sensor_ != nullptr && this->output_ != nullptr)
      this->power_sensor_->publish_state(this->output_->get_applied_fraction() * this->output_->get_load_power());
  }
#endif
}

#ifdef USE_PV_CLIENT_GATEWAY_URL
void PvClientFollow::poll_gateway_() {
  if (!this->poll_.due(millis()))
    return;
  // The request blocks the loop: for this poll only, http_request's timeout is gateway_timeout.
  const uint32_t http_timeout = this->http_->get_timeout();
  this->http_->set_timeout(this->gateway_timeout_ms_);
  float vo2;
  const bool ok = this->fetch_gateway_vo2_(&vo2);
  this->http_->set_timeout(http_timeout);
  const uint32_t now = millis();
  if (ok) {
    if (this->poll_.get_failures() > 0)
      ESP_LOGI(TAG, "Gateway %s answers again", this->gateway_url_.c_str());
    this->poll_.on_answer(now, vo2);
    this->logic_.set_timeout_ms(this->poll_.freshness_ms(this->timeout_ms_));
    this->set_ratio(vo2);
  } else {
    const uint32_t wait = this->poll_.on_failure(now);
    ESP_LOGW(TAG, "No VO2 from %s (%" PRIu32 " failures): next try in %" PRIu32 " s", this->gateway_url_.c_str(),
             this->poll_.get_failures(), wait / 1000);
  }
}

bool PvClientFollow::fetch_gateway_vo2_(float *vo2) {
  auto container = this->http_->get(this->gateway_url_);
  if (container == nullptr)
    return false;
  if (container->status_code != 200) {
    ESP_LOGD(TAG, "GET %s: HTTP %d", this->gateway_url_.c_str(), container->status_code);
    container->end();
    return false;
  }
  char body[384];
  size_t len = 0;
  uint32_t last_data = millis();
  while (len < sizeof(body) - 1) {
    int n = container->read(reinterpret_cast<uint8_t *>(body) + len, sizeof(body) - 1 - len);
    auto result = http_request::http_read_loop_result(n, last_data, this->http_->get_timeout(),
                                                      container->is_read_complete());
    if (result == http_request::HttpReadLoopResult::DATA) {
      len += static_cast<size_t>(n);
    } else if (result != http_request::HttpReadLoopResult::RETRY) {
      break;
    }
  }
  container->end();
  body[len] = '\0';
  return parse_routeur_vo2(body, len, vo2);
}
#endif

void PvClientFollow::dump_config() {
  ESP_LOGCONFIG(TAG,
                "PV client follow:\n"
                "  Timeout: %" PRIu32 " ms\n"
                "  Restore manual ratio and mode: %s",
                this->logic_.get_timeout_ms(), YESNO(this->restore_));
#ifdef USE_PV_CLIENT_GATEWAY_URL
  if (!this->gateway_url_.empty())
    ESP_LOGCONFIG(TAG,
                  "  Gateway URL: %s\n"
                  "  Gateway timeout: %" PRIu32 " ms",
                  this->gateway_url_.c_str(), this->gateway_timeout_ms_);
#endif
#ifdef USE_SENSOR
  LOG_SENSOR("  ", "Level", this->level_sensor_);
  LOG_SENSOR("  ", "Routed power", this->power_sensor_);
  if (this->allotted_sensor_ != nullptr)
    ESP_LOGCONFIG(TAG, "  Follows: the watts a gateway allots (of load_power)");
  LOG_SENSOR("  ", "Offered power", this->offered_sensor_);
#endif
#ifdef USE_BINARY_SENSOR
  LOG_BINARY_SENSOR("  ", "Ratio stale", this->stale_sensor_);
#endif
  LOG_UPDATE_INTERVAL(this);
}

}  // namespace esphome::pv_client
