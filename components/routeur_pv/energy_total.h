#pragma once
// Energy totals of the gateway (Routed energy, Grid import/export energy, Routed energy today).
// Plain C++: no ESPHome dependency, host-tested on simulated frames and clocks.
//
// Our ATmega sends cumulative counters (WH1, WHI, WHE: Wh since its reset) in every frame, so the
// total grows by the difference between two frames received: a frame lost or rejected loses
// nothing. A counter lower than the last one means the ATmega restarted (reset, power cut, or its
// counter wrapped): the new value is what it counted since, and the total never decreases (Home
// Assistant's total_increasing). The first counter the gateway ever sees is added whole too. An older ATmega without counters: the power of each frame is
// integrated over the time to the next one (left rule, a gap longer than the link timeout counts 0).
#include <cstdint>

namespace esphome::routeur_pv {

/// What survives a reboot of the gateway (saved to its preferences): with the last counter seen,
/// the energy the ATmega counted while the gateway was down is added at the first frame after it.
struct EnergyState {
  double total_wh{0.0};
  double last_counter_wh{0.0};
  bool have_counter{false};
};

class EnergyTotal {
 public:
  void restore(const EnergyState &state) { this->state_ = state; }
  const EnergyState &state() const { return this->state_; }
  double total_wh() const { return this->state_.total_wh; }

  /// A frame's cumulative counter (Wh). Returns the energy added (Wh, >= 0).
  double on_counter(double counter_wh);
  /// An older ATmega: the power (W) of a frame received `dt_s` after the previous one.
  /// Returns the energy added (Wh, >= 0).
  double on_power(double previous_watts, double dt_s);
  /// The counter was not in this frame: the next counter seen starts a new baseline.
  void forget_counter() { this->state_.have_counter = false; }

 protected:
  EnergyState state_{};
};

/// "Today" from the same increments as the total, so the two always agree; restarts at 0 when the
/// local date changes. `day` is any number that identifies the local date (e.g. year * 1000 +
/// day of year), or a negative number while the clock is not valid yet (the energy then goes to
/// the day in progress).
struct DailyState {
  double today_wh{0.0};
  int32_t day{-1};
};

class DailyTotal {
 public:
  void restore(const DailyState &state) { this->state_ = state; }
  const DailyState &state() const { return this->state_; }
  double today_wh() const { return this->state_.today_wh; }
  /// A new date (midnight passed): returns true when it reset the total.
  bool set_day(int32_t day);
  void add(double wh) { this->state_.today_wh += wh; }

 protected:
  DailyState state_{};
};

}  // namespace esphome::routeur_pv
