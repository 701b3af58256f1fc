#pragma once
// When a sensor value is worth publishing. Home Assistant's recorder writes a row for every change of
// an enabled entity: a value read once a second with a few watts of noise would fill it (the gateway
// made ~18,000 rows an hour). A value goes out when it moved by at least `min_change` from the last
// one published, when it becomes unknown or known again, and at least once every heartbeat.
// Plain C++, host-tested with an injected clock.
#include <cmath>
#include <cstdint>

namespace esphome::routeur_pv {

class ChangeGate {
 public:
  static const uint32_t DEFAULT_HEARTBEAT_MS = 60000;

  /// 0: every change goes out.
  void set_min_change(float min_change) { this->min_change_ = min_change; }
  /// A value that reaches 0 goes out at once, however small the step (a lease that ended).
  void set_zero_goes_out(bool zero_goes_out) { this->zero_goes_out_ = zero_goes_out; }
  void set_heartbeat_ms(uint32_t ms) { this->heartbeat_ms_ = ms; }
  float min_change() const { return this->min_change_; }

  /// True when `value` should be published now; the caller then publishes it and calls published().
  bool should_publish(float value, uint32_t now_ms) const {
    if (!this->have_published_)
      return true;
    const bool unknown = std::isnan(value), was_unknown = std::isnan(this->last_);
    if (unknown || was_unknown)
      return unknown != was_unknown;  // unknown stays unknown: nothing new to say
    if (value != this->last_ && (std::fabs(value - this->last_) >= this->min_change_ ||
                                 (this->zero_goes_out_ && value == 0.0f)))
      return true;
    return now_ms - this->last_ms_ >= this->heartbeat_ms_;
  }
  void published(float value, uint32_t now_ms) {
    this->last_ = value;
    this->last_ms_ = now_ms;
    this->have_published_ = true;
  }

 protected:
  float min_change_{0.0f};
  bool zero_goes_out_{false};
  uint32_t heartbeat_ms_{DEFAULT_HEARTBEAT_MS};
  float last_{NAN};
  uint32_t last_ms_{0};
  bool have_published_{false};
};

}  // namespace esphome::routeur_pv
