#include "relay_stage.h"

#include <cstring>
#include <initializer_list>

namespace esphome::pv_relay {

static constexpr int64_t SECONDS_PER_DAY = 86400;

const char *relay_mode_to_string(RelayMode mode) {
  switch (mode) {
    case RelayMode::OFF:
      return "off";
    case RelayMode::ON:
      return "on";
    default:
      return "auto";
  }
}

bool relay_mode_from_string(const char *str, RelayMode *mode) {
  for (RelayMode m : {RelayMode::AUTO, RelayMode::OFF, RelayMode::ON}) {
    if (std::strcmp(str, relay_mode_to_string(m)) == 0) {
      *mode = m;
      return true;
    }
  }
  return false;
}

const char *relay_reason_to_string(RelayReason reason) {
  switch (reason) {
    case RelayReason::SURPLUS:
      return "surplus";
    case RelayReason::DAILY_RUNTIME:
      return "daily runtime";
    case RelayReason::MODE:
      return "mode";
    case RelayReason::HELD:
      return "minimum on/off time";
    default:
      return "no surplus";
  }
}

bool RelayStage::runtime_due_(uint32_t second) const {
  const uint32_t goal = this->config_.daily_runtime_s;
  if (goal == 0 || this->runtime_today_s_ >= goal) return false;
  const uint32_t left = goal - this->runtime_today_s_;
  const uint32_t by = uint32_t(this->config_.runtime_by_min) * 60;
  // As late as it still finishes by the deadline; after it (held off meanwhile), until done.
  return left >= by || second >= by - left;
}

bool RelayStage::want_on_(uint32_t now_s, float available_w, int64_t local_s, RelayReason *why) {
  // NaN compares false: unknown is neither a surplus nor a reason to wait before switching off.
  const bool importing = this->on_ && !(available_w >= -this->config_.off_import_w);
  if (importing && !this->importing_) this->importing_since_s_ = now_s;
  this->importing_ = importing;
  const bool covered = !this->on_ && available_w >= this->config_.rating_w;
  if (covered && !this->covered_) this->covered_since_s_ = now_s;
  this->covered_ = covered;

  if (this->mode_ != RelayMode::AUTO) {
    *why = RelayReason::MODE;
    return this->mode_ == RelayMode::ON;
  }
  if (local_s >= 0 && (this->runtime_running_ || this->runtime_due_(uint32_t(local_s % SECONDS_PER_DAY)))) {
    this->runtime_running_ = this->runtime_today_s_ < this->config_.daily_runtime_s;
    if (this->runtime_running_) {
      *why = RelayReason::DAILY_RUNTIME;
      return true;
    }
  }
  this->runtime_running_ = false;
  if (!this->on_) {
    const bool on = covered && now_s - this->covered_since_s_ >= this->config_.on_delay_s;
    *why = on ? RelayReason::SURPLUS : RelayReason::OFF;
    return on;
  }
  const bool unknown = available_w != available_w;
  const bool off = unknown || (importing && now_s - this->importing_since_s_ >= this->config_.off_delay_s);
  *why = off ? RelayReason::OFF : RelayReason::SURPLUS;
  return !off;
}

bool RelayStage::update(uint32_t now_s, float available_w, int64_t local_s) {
  if (!this->started_) {
    this->started_ = true;
    this->last_s_ = this->changed_s_ = now_s;
  }
  if (this->on_) this->runtime_today_s_ += now_s - this->last_s_;
  this->last_s_ = now_s;
  if (local_s >= 0) {
    const int64_t day = local_s / SECONDS_PER_DAY;
    if (this->day_ >= 0 && day != this->day_) {
      this->runtime_today_s_ = 0;
      this->runtime_running_ = false;
    }
    this->day_ = day;
  }

  RelayReason why = RelayReason::OFF;
  const bool want = this->want_on_(now_s, available_w, local_s, &why);
  if (want != this->on_) {
    const uint32_t hold = this->on_ ? this->config_.min_on_s : this->config_.min_off_s;
    if (now_s - this->changed_s_ >= hold) {
      this->on_ = want;
      this->changed_s_ = now_s;
      this->covered_ = this->importing_ = false;
      ++this->switchings_;
    } else {
      why = RelayReason::HELD;
    }
  }
  this->reason_ = why;
  return this->on_;
}

}  // namespace esphome::pv_relay
