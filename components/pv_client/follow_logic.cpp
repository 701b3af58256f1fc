#include "follow_logic.h"

#include <cmath>
#include <cstring>

namespace esphome::pv_client {

const char *follow_mode_to_string(FollowMode mode) {
  switch (mode) {
    case FOLLOW_MODE_OFF:
      return "off";
    case FOLLOW_MODE_FORCED:
      return "forced";
    case FOLLOW_MODE_AUTO:
    default:
      return "auto";
  }
}

bool follow_mode_from_string(const char *str, FollowMode *mode) {
  if (str == nullptr)
    return false;
  if (std::strcmp(str, "auto") == 0) {
    *mode = FOLLOW_MODE_AUTO;
  } else if (std::strcmp(str, "off") == 0) {
    *mode = FOLLOW_MODE_OFF;
  } else if (std::strcmp(str, "forced") == 0) {
    *mode = FOLLOW_MODE_FORCED;
  } else {
    return false;
  }
  return true;
}

float FollowLogic::clamp_percent(float percent) {
  if (std::isnan(percent) || percent < 0.0f)
    return 0.0f;
  return percent > 100.0f ? 100.0f : percent;
}

void FollowLogic::set_ratio(float percent, uint32_t now_ms) {
  if (std::isnan(percent)) {
    // The gateway says it has no valid ratio (its ATmega link is down): stale at once, no
    // second timeout on top of the gateway's.
    this->has_ratio_ = false;
    return;
  }
  this->ratio_ = clamp_percent(percent);
  this->has_ratio_ = true;
  this->last_ratio_ms_ = now_ms;
}

bool FollowLogic::is_stale(uint32_t now_ms) const {
  return !this->has_ratio_ || (now_ms - this->last_ratio_ms_) > this->timeout_ms_;
}

float FollowLogic::level_percent(uint32_t now_ms) const {
  switch (this->mode_) {
    case FOLLOW_MODE_OFF:
      return 0.0f;
    case FOLLOW_MODE_FORCED:
      return this->manual_;
    case FOLLOW_MODE_AUTO:
    default:
      if (this->is_stale(now_ms))
        return 0.0f;
      return this->ratio_ > this->manual_ ? this->ratio_ : this->manual_;
  }
}

}  // namespace esphome::pv_client
