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

}  // namespace esphome::routeur_pv
