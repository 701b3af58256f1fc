#pragma once
// When the client polls an old gateway's GET /api/routeur (`gateway_url`), from injected millis.
// Plain C++, no ESPHome dependency (host unit tested).
//  - While the gateway answers: the old client's cadence, every second while VO2 > 0, every 10 s at 0.
//  - After a failure (no answer, HTTP error, no VO2): exponential back-off, 1 s, 2 s, 4 s ... 60 s,
//    back to the cadence at the next answer. A poll blocks the main loop for up to the request's
//    timeout, so without back-off a missing gateway would block the loop on every poll.
//  - An answered ratio stays fresh until the next regular poll is due plus the follow `timeout`;
//    past that the follow logic calls it stale (level 0 in auto), however long the back-off.

#include <cstdint>

namespace esphome::pv_client {

class GatewayPollSchedule {
 public:
  static constexpr uint32_t ACTIVE_PERIOD_MS = 1000;  // VO2 > 0
  static constexpr uint32_t IDLE_PERIOD_MS = 10000;   // VO2 = 0
  static constexpr uint32_t BACKOFF_MIN_MS = 1000;
  static constexpr uint32_t BACKOFF_MAX_MS = 60000;

  /// Whether a poll is due at `now_ms` (the first one is due at once).
  bool due(uint32_t now_ms) const { return !this->polled_ || now_ms - this->last_ms_ >= this->wait_ms_; }
  /// The gateway answered `vo2` (percent); `now_ms` is when the poll ended.
  void on_answer(uint32_t now_ms, float vo2);
  /// The poll failed; `now_ms` is when it ended. Returns the wait before the next try.
  uint32_t on_failure(uint32_t now_ms);

  /// How long an answered ratio counts as fresh: the regular period plus `timeout_ms`.
  uint32_t freshness_ms(uint32_t timeout_ms) const { return this->period_ms_ + timeout_ms; }
  uint32_t get_wait_ms() const { return this->wait_ms_; }
  uint32_t get_failures() const { return this->failures_; }

 protected:
  bool polled_{false};
  uint32_t last_ms_{0};
  uint32_t wait_ms_{0};
  uint32_t period_ms_{ACTIVE_PERIOD_MS};  // the regular period at the last answer
  uint32_t failures_{0};                  // consecutive
};

}  // namespace esphome::pv_client
