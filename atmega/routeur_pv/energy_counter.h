// Cumulative energy counters carried in every frame (WHI, WHE, WH1: docs/interfaces.md), so a lost
// or rejected frame loses no energy: the gateway takes the difference between the frames it gets.
// Integer hundredths of a Wh: a float total would stop counting a 20 ms cycle's few joules once it
// reached a few kWh (24-bit mantissa). The fraction of a unit is carried in a small float.
#pragma once
#include <stdint.h>
#include "config.h"

class EnergyCounter {
 public:
  // The energy may be negative (channel 1's estimate is noise around 0 while its thermostat is open): it
  // comes off the remainder, so the count follows the running maximum of the sum, not its positive
  // half (a random walk: ~0.2 Wh an hour, where clamping each cycle would count ~25 Wh).
  void add(float watts, float seconds) {
    // A cycle brings a few units at most (8 kW x 20 ms = 4.4): subtracting them one by one needs
    // no float division (shorter code on the ATmega).
    remainder_j_ += watts * seconds;
    while (remainder_j_ >= kJoulesPerUnit) {
      remainder_j_ -= kJoulesPerUnit;
      if (++centi_wh_ >= cfg::kEnergyWrapCentiWh) centi_wh_ = 0;  // the gateway sees a restart
    }
  }
  uint32_t centi_wh() const { return centi_wh_; }

 private:
  static constexpr float kJoulesPerUnit = 36.0f;  // 0.01 Wh
  uint32_t centi_wh_ = 0;
  float remainder_j_ = 0.0f;
};
