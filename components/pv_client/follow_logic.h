#pragma once
// Follow controller logic: the dimmer level from the gateway's channel-2 ratio, the manual ratio
// and the mode. Plain C++, no ESPHome dependency (host unit tested).

#include <cstdint>

namespace esphome::pv_client {

enum FollowMode : uint8_t {
  FOLLOW_MODE_AUTO = 0,    // level = max(router ratio, manual ratio); 0 when the ratio is stale
  FOLLOW_MODE_OFF = 1,     // level = 0
  FOLLOW_MODE_FORCED = 2,  // level = manual ratio, whatever the router says
};

const char *follow_mode_to_string(FollowMode mode);
/// "auto" / "off" / "forced" (case-sensitive); returns false for anything else.
bool follow_mode_from_string(const char *str, FollowMode *mode);

class FollowLogic {
 public:
  void set_timeout_ms(uint32_t timeout_ms) { this->timeout_ms_ = timeout_ms; }
  uint32_t get_timeout_ms() const { return this->timeout_ms_; }
  /// A fresh ratio (percent) from the router at `now_ms`. NaN (the gateway lost its ATmega) makes
  /// the ratio stale at once.
  void set_ratio(float percent, uint32_t now_ms);
  /// Watts allotted by a gateway that shares channel 2 among several loads (pv_loads), as a ratio
  /// of this load's own rating: one rating per load, in the load alone. NaN as in set_ratio().
  void set_allotted_w(float watts, float load_power_w, uint32_t now_ms) {
    this->set_ratio(load_power_w > 0.0f ? watts * 100.0f / load_power_w : 0.0f, now_ms);
  }
  /// What this load offers such a gateway: its rating while it follows (auto) and its dimmer can
  /// fire (mains locked), else 0 (off and forced take no share; a dead dimmer would waste its share).
  float offered_w(float load_power_w, bool can_fire) const {
    return this->mode_ == FOLLOW_MODE_AUTO && can_fire ? load_power_w : 0.0f;
  }
  void set_manual(float percent) { this->manual_ = clamp_percent(percent); }
  void set_mode(FollowMode mode) { this->mode_ = mode; }

  float get_ratio() const { return this->ratio_; }
  float get_manual() const { return this->manual_; }
  FollowMode get_mode() const { return this->mode_; }
  bool has_ratio() const { return this->has_ratio_; }
  /// True when no ratio arrived in the last timeout_ms (or never).
  bool is_stale(uint32_t now_ms) const;
  /// The level to apply, percent 0..100.
  float level_percent(uint32_t now_ms) const;

  static float clamp_percent(float percent);

 protected:
  uint32_t timeout_ms_{5000};
  float ratio_{0.0f};
  float manual_{0.0f};
  FollowMode mode_{FOLLOW_MODE_AUTO};
  bool has_ratio_{false};
  uint32_t last_ratio_ms_{0};
};

}  // namespace esphome::pv_client
