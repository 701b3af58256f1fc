#pragma once
// Channel 2 shared by several loads (issue 14): the watts channel 2 may take, allotted to the loads
// by priority, each up to its own rating, and shared among loads of equal priority in proportion to
// their ratings. A load that has not reported for the timeout, or whose own mode is not "auto"
// (off, or forced: it takes its own level whatever it is allotted), gets 0 and its watts go to the
// next. Plain C++, host-tested on a simulated clock (tests/gateway/cpp/test_load_allotter.cpp).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace esphome::routeur_pv {

struct Load {
  uint8_t priority{1};        ///< 1 first
  float rating_w{0.0f};       ///< what the load draws at full level, as the load reports it
  bool follows{false};        ///< its mode is "auto" (it follows what it is allotted)
  bool reported{false};       ///< it has reported at least once
  uint32_t reported_ms{0};    ///< when it last reported
  float allotted_w{0.0f};     ///< the result of the last allot()
};

class LoadAllotter {
 public:
  explicit LoadAllotter(size_t loads = 0, uint32_t timeout_ms = 5000) : loads_(loads), timeout_ms_(timeout_ms) {}

  /// One more load; returns its index.
  size_t add_load(uint8_t priority) {
    this->loads_.push_back(Load{});
    this->loads_.back().priority = priority;
    return this->loads_.size() - 1;
  }
  void set_timeout_ms(uint32_t timeout_ms) { this->timeout_ms_ = timeout_ms; }
  uint32_t timeout_ms() const { return this->timeout_ms_; }

  /// Load `index` reported its rating and whether it follows (its mode is auto) at `now_ms`.
  void report(size_t index, float rating_w, bool follows, uint32_t now_ms);
  void set_priority(size_t index, uint8_t priority) { this->loads_[index].priority = priority; }

  /// Whether load `index` takes a share now: it reported within the timeout, follows, has a rating.
  bool active(size_t index, uint32_t now_ms) const;
  /// The sum of the active loads' ratings: the most channel 2 can take now.
  float capacity_w(uint32_t now_ms) const;
  /// Shares `watts` (NaN or below 0: none) among the active loads; read the shares with allotted_w().
  /// Returns what could not be placed (above the active loads' capacity).
  float allot(float watts, uint32_t now_ms);
  float allotted_w(size_t index) const { return this->loads_[index].allotted_w; }
  const Load &load(size_t index) const { return this->loads_[index]; }
  size_t size() const { return this->loads_.size(); }

 protected:
  std::vector<Load> loads_;
  uint32_t timeout_ms_;
};

/// When the ATmega's channel-2 full scale (DIM: VO2 100 % in watts) should follow the loads'
/// capacity, so that VO2 can reach every active load and its steps stay in proportion. Each change is
/// an EEPROM write on the ATmega: the capacity must have held (within `tolerance_w`) for `hold_ms`,
/// differ from DIM by more than that, and no two changes come closer than `min_gap_ms`; no capacity
/// (no active load) changes nothing. The ATmega keeps VO2 across a change of DIM, so the watts it
/// stands for scale with it: a larger DIM is only taken while VO2 is 0 (a jump up would import until
/// the loop caught it); a smaller one at any time (it can only export for a moment).
class FullScaleFollower {
 public:
  FullScaleFollower(uint32_t hold_ms = 10000, uint32_t min_gap_ms = 60000, float tolerance_w = 10.0f)
      : hold_ms_(hold_ms), min_gap_ms_(min_gap_ms), tolerance_w_(tolerance_w) {}

  /// The full scale to request now (W), or NaN. full_scale_w: DIM as the frames report it (NaN
  /// unknown); channel2_idle: VO2 is 0.
  float update(float capacity_w, float full_scale_w, bool channel2_idle, uint32_t now_ms);

 protected:
  uint32_t hold_ms_, min_gap_ms_;
  float tolerance_w_;
  float held_w_{0.0f};
  uint32_t held_since_ms_{0};
  uint32_t last_change_ms_{0};
  bool changed_once_{false};
};

/// What channel 2's loads share, W, from a frame: its PO2 (VO2 in watts of the ATmega's DIM), else
/// (an ATmega without PO2; NaN) VO2 % of `full_scale_w`, the DIM the frames last reported. PO2 is
/// right from the first frame after a change of DIM, which the frames report one frame in five.
inline float channel_2_watts(float po2_w, float vo2_percent, float full_scale_w) {
  return po2_w == po2_w ? po2_w : vo2_percent * full_scale_w / 100.0f;
}

}  // namespace esphome::routeur_pv
