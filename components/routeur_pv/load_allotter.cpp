#include "load_allotter.h"

#include <cmath>

namespace esphome::routeur_pv {

void LoadAllotter::report(size_t index, float rating_w, bool follows, uint32_t now_ms) {
  Load &load = this->loads_[index];
  load.rating_w = std::isfinite(rating_w) && rating_w > 0.0f ? rating_w : 0.0f;
  load.follows = follows;
  load.reported = true;
  load.reported_ms = now_ms;
}

bool LoadAllotter::active(size_t index, uint32_t now_ms) const {
  const Load &load = this->loads_[index];
  return load.reported && load.follows && load.rating_w > 0.0f && now_ms - load.reported_ms <= this->timeout_ms_;
}

float LoadAllotter::capacity_w(uint32_t now_ms) const {
  float total = 0.0f;
  for (size_t i = 0; i < this->loads_.size(); ++i)
    if (this->active(i, now_ms))
      total += this->loads_[i].rating_w;
  return total;
}

float LoadAllotter::allot(float watts, uint32_t now_ms) {
  float left = std::isfinite(watts) && watts > 0.0f ? watts : 0.0f;
  for (Load &load : this->loads_)
    load.allotted_w = 0.0f;
  // Priorities in increasing order: each pass takes the next priority present among the active loads.
  int previous = 0;
  for (;;) {
    int priority = 256;
    float group_rating = 0.0f;
    for (size_t i = 0; i < this->loads_.size(); ++i) {
      const int p = this->loads_[i].priority;
      if (!this->active(i, now_ms) || p <= previous || p > priority)
        continue;
      if (p < priority) {
        priority = p;
        group_rating = 0.0f;
      }
      group_rating += this->loads_[i].rating_w;
    }
    if (priority == 256)
      return left;
    // The group takes what is left, up to its ratings, shared in proportion to them.
    const float share = left >= group_rating ? 1.0f : left / group_rating;
    for (size_t i = 0; i < this->loads_.size(); ++i)
      if (this->active(i, now_ms) && this->loads_[i].priority == priority)
        this->loads_[i].allotted_w = share * this->loads_[i].rating_w;
    left = share < 1.0f ? 0.0f : left - group_rating;  // all placed: no rounding residue
    previous = priority;
  }
}

float FullScaleFollower::update(float capacity_w, float full_scale_w, bool channel2_idle, uint32_t now_ms) {
  if (!std::isfinite(capacity_w) || capacity_w <= 0.0f) {
    this->held_w_ = 0.0f;
    return NAN;
  }
  if (std::fabs(capacity_w - this->held_w_) > this->tolerance_w_) {
    this->held_w_ = capacity_w;
    this->held_since_ms_ = now_ms;
    return NAN;
  }
  if (!std::isfinite(full_scale_w) || std::fabs(capacity_w - full_scale_w) <= this->tolerance_w_)
    return NAN;
  if (now_ms - this->held_since_ms_ < this->hold_ms_ || (capacity_w > full_scale_w && !channel2_idle))
    return NAN;
  if (this->changed_once_ && now_ms - this->last_change_ms_ < this->min_gap_ms_)
    return NAN;
  this->changed_once_ = true;
  this->last_change_ms_ = now_ms;
  return std::round(capacity_w);
}

}  // namespace esphome::routeur_pv
