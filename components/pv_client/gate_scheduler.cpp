#include "gate_scheduler.h"

namespace esphome::pv_client {

static inline int32_t PV_CLIENT_ISR diff_us(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
static inline uint32_t PV_CLIENT_ISR abs_i32(int32_t v) { return v < 0 ? static_cast<uint32_t>(-v) : static_cast<uint32_t>(v); }

/// `candidate` if it lies after `now` and before `next`, else `next`.
static inline uint32_t PV_CLIENT_ISR earliest_after(uint32_t now, uint32_t next, uint32_t candidate) {
  return (diff_us(candidate, now) > 0 && diff_us(candidate, next) < 0) ? candidate : next;
}

void GateScheduler::configure(const GateSchedulerConfig &config) {
  this->config_ = config;
  this->locked_ = false;
  this->have_ref_ = false;
  this->plan_.fire = false;
}

bool PV_CLIENT_ISR GateScheduler::on_edge(uint32_t now) {
  this->edges_++;
  if (!this->locked_)
    return this->acquire_(now);
  const int32_t window = static_cast<int32_t>(this->config_.window_us);
  int32_t d_cur = diff_us(now, this->zc_);
  if (this->window_open_ && d_cur >= -window && d_cur <= window) {
    if (!this->cur_has_ || abs_i32(d_cur) < abs_i32(this->cur_err_)) {
      this->cur_err_ = d_cur;
      this->cur_has_ = true;
    }
    return true;
  }
  int32_t d_next = diff_us(now, this->zc_ + this->half_period_());
  if (d_next >= -window && d_next <= window) {
    if (!this->next_has_ || abs_i32(d_next) < abs_i32(this->next_err_)) {
      this->next_err_ = d_next;
      this->next_has_ = true;
    }
    return true;
  }
  return false;  // noise: outside every crossing window
}

bool PV_CLIENT_ISR GateScheduler::acquire_(uint32_t now) {
  if (!this->have_ref_) {
    this->have_ref_ = true;
    this->ref_us_ = now;
    this->cand_count_ = 0;
    return false;
  }
  uint32_t dt = now - this->ref_us_;
  if (dt < this->config_.min_half_period_us)
    return false;  // too close to the reference: a bounce or noise edge, ignored
  if (dt > this->config_.max_half_period_us) {
    this->ref_us_ = now;  // too long: start again from this edge
    this->cand_count_ = 0;
    return false;
  }
  if (this->cand_count_ > 0 && abs_i32(diff_us(dt, this->cand_period_)) > this->config_.acquire_tolerance_us)
    this->cand_count_ = 0;
  if (this->cand_count_ == 0) {
    this->cand_period_ = dt;
  } else {
    this->cand_period_ = (this->cand_period_ * this->cand_count_ + dt) / (this->cand_count_ + 1u);
  }
  this->cand_count_++;
  this->ref_us_ = now;
  if (this->cand_count_ >= this->config_.acquire_count) {
    this->lock_(now);
    return true;
  }
  return false;
}

void PV_CLIENT_ISR GateScheduler::lock_(uint32_t now) {
  this->locked_ = true;
  this->locks_++;
  this->used_edges_ += this->cand_count_ + 1u;
  this->zc_ = now;
  this->period_q4_ = this->cand_period_ << 4;
  this->window_open_ = false;  // this crossing is the edge itself
  this->cur_has_ = false;
  this->next_has_ = false;
  this->missed_ = 0;
  this->index_ = 0;
  this->parity_ = 0;
  this->burst_acc_ = 0;
  this->last_fire_parity_ = -1;
  this->decide_burst_();
  this->compute_plan_(now, false);
}

void PV_CLIENT_ISR GateScheduler::unlock_() {
  this->locked_ = false;
  this->unlocks_++;
  this->have_ref_ = false;
  this->cand_count_ = 0;
  this->plan_.fire = false;
}

void PV_CLIENT_ISR GateScheduler::close_window_(uint32_t now) {
  this->window_open_ = false;
  if (!this->cur_has_) {
    this->missed_total_++;
    if (++this->missed_ >= this->config_.max_missed)
      this->unlock_();
    return;
  }
  this->used_edges_++;
  this->missed_ = 0;
  const int32_t err = this->cur_err_;
  this->cur_has_ = false;
  // Second-order PLL: phase gain 1/2, frequency gain 1/16 (period_q4_ is in 1/16 us).
  this->zc_ += static_cast<uint32_t>(err / 2);
  int32_t period = static_cast<int32_t>(this->period_q4_) + err;
  if (period < static_cast<int32_t>(this->config_.min_half_period_us << 4) ||
      period > static_cast<int32_t>(this->config_.max_half_period_us << 4)) {
    this->unlock_();
    return;
  }
  this->period_q4_ = static_cast<uint32_t>(period);
  this->compute_plan_(now, true);
}

void PV_CLIENT_ISR GateScheduler::begin_next_half_() {
  this->zc_ += this->half_period_();
  this->index_++;
  this->parity_ ^= 1u;
  this->cur_has_ = this->next_has_;
  this->cur_err_ = this->next_err_;
  this->next_has_ = false;
  this->window_open_ = true;
  this->decide_burst_();
}

void PV_CLIENT_ISR GateScheduler::decide_burst_() {
  if (this->method_ != FIRE_METHOD_BURST) {
    this->burst_fire_ = false;
    return;
  }
  uint32_t level = this->burst_level_q16_;
  if (level == 0) {
    this->burst_fire_ = false;
    this->burst_acc_ = 0;
    return;
  }
  if (level > Q16_ONE)
    level = Q16_ONE;
  // Error diffusion over half-cycles; a fired half-cycle must have the opposite polarity of the
  // previous fired one, so positive and negative half-cycles stay paired (no DC component).
  this->burst_acc_ += level;
  if (this->burst_acc_ >= Q16_ONE && this->last_fire_parity_ != static_cast<int8_t>(this->parity_)) {
    this->burst_fire_ = true;
    this->burst_acc_ -= Q16_ONE;
    this->last_fire_parity_ = static_cast<int8_t>(this->parity_);
  } else {
    this->burst_fire_ = false;
    if (this->burst_acc_ > 2 * Q16_ONE)
      this->burst_acc_ = 2 * Q16_ONE;
  }
}

void PV_CLIENT_ISR GateScheduler::compute_plan_(uint32_t now, bool keep_on) {
  const uint32_t period = this->half_period_();
  const uint32_t mains_zc = this->zc_ + static_cast<uint32_t>(this->config_.zero_cross_offset_us);
  const bool was_on = keep_on && this->plan_.fire && diff_us(now, this->plan_.on_us) >= 0;
  bool fire;
  uint32_t delay;
  if (this->method_ == FIRE_METHOD_BURST) {
    fire = this->burst_fire_;
    delay = this->config_.burst_fire_delay_us;
  } else {
    uint32_t q = this->phase_delay_q16_;
    fire = q < Q16_ONE;
    delay = fire ? static_cast<uint32_t>((static_cast<uint64_t>(period) * q) >> 16) : 0;
  }
  const uint32_t end = period > this->config_.end_guard_us ? period - this->config_.end_guard_us : 0;
  if (delay >= end)
    fire = false;  // too late in the half-cycle to fire safely
  uint32_t on = mains_zc + delay;
  const uint32_t off = mains_zc + end;
  if (this->missed_ > 0 && this->window_open_) {
    // the previous crossing was missed: wait for this one to be confirmed before raising the gate
    uint32_t confirm = this->zc_ + this->config_.window_us + 1;
    if (diff_us(confirm, on) > 0)
      on = confirm;
    if (diff_us(on, off) >= 0)
      fire = false;
  }
  if (was_on) {
    on = this->plan_.on_us;  // already raised: only the drop time follows the correction
    fire = true;
  }
  this->plan_.fire = fire;
  this->plan_.on_us = on;
  this->plan_.off_us = off;
}

bool PV_CLIENT_ISR GateScheduler::poll(uint32_t now, uint32_t *next_event) {
  if (!this->locked_) {
    if (this->have_ref_ && (now - this->ref_us_) > 4 * this->config_.max_half_period_us)
      this->have_ref_ = false;
    *next_event = now + 1000;
    return false;
  }
  for (int guard = 0; guard < 64; guard++) {
    if (this->window_open_ && diff_us(now, this->zc_ + this->config_.window_us) >= 0) {
      this->close_window_(now);
      if (!this->locked_) {
        *next_event = now + 1000;
        return false;
      }
      continue;
    }
    if (diff_us(now, this->zc_ + this->half_period_()) >= 0) {
      this->begin_next_half_();
      this->compute_plan_(now, false);
      continue;
    }
    break;
  }
  bool gate = this->plan_.fire && diff_us(now, this->plan_.on_us) >= 0 && diff_us(now, this->plan_.off_us) < 0;
  // next event: the earliest future time among gate edges, window close and next half-cycle
  uint32_t next = this->zc_ + this->half_period_();
  if (this->window_open_)
    next = earliest_after(now, next, this->zc_ + this->config_.window_us);
  if (this->plan_.fire) {
    next = earliest_after(now, next, this->plan_.on_us);
    next = earliest_after(now, next, this->plan_.off_us);
  }
  *next_event = next;
  return gate;
}

uint32_t PV_CLIENT_ISR GateScheduler::poll_step(uint32_t now, uint32_t min_step_us, uint32_t max_step_us,
                                                bool *gate) {
  uint32_t next = now + max_step_us;
  *gate = this->poll(now, &next);
  const int32_t dt = diff_us(next, now);
  if (dt < static_cast<int32_t>(min_step_us))
    return min_step_us;
  return static_cast<uint32_t>(dt) > max_step_us ? max_step_us : static_cast<uint32_t>(dt);
}

}  // namespace esphome::pv_client
