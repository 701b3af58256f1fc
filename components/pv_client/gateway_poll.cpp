#include "gateway_poll.h"

namespace esphome::pv_client {

void GatewayPollSchedule::on_answer(uint32_t now_ms, float vo2) {
  this->polled_ = true;
  this->last_ms_ = now_ms;
  this->failures_ = 0;
  this->period_ms_ = vo2 > 0.0f ? ACTIVE_PERIOD_MS : IDLE_PERIOD_MS;
  this->wait_ms_ = this->period_ms_;
}

uint32_t GatewayPollSchedule::on_failure(uint32_t now_ms) {
  this->polled_ = true;
  this->last_ms_ = now_ms;
  uint32_t wait = BACKOFF_MIN_MS;
  for (uint32_t i = 0; i < this->failures_ && wait < BACKOFF_MAX_MS; i++)
    wait *= 2;
  this->wait_ms_ = wait < BACKOFF_MAX_MS ? wait : BACKOFF_MAX_MS;
  this->failures_++;
  return this->wait_ms_;
}

}  // namespace esphome::pv_client
