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
  explicit LoadAllotter(size_t loads, uint32_t timeout_ms = 5000) : loads_(loads), timeout_ms_(timeout_ms) {}

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

}  // namespace esphome::routeur_pv
