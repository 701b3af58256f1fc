#pragma once
// Commands from the gateway to the ATmega (its RX), and the leases that keep them in force.
// Plain C++: no ESPHome dependency, host-tested on simulated clocks.
//
// A command line has the frames' own shape, "KEY>value;...;$crc\r\n", CRC-8 Dallas/Maxim of every
// character before '$' in decimal (crc8_maxim of frame_parser.h: one codec for both directions).
// Every command that changes what channel 1 does holds on the ATmega for a lease of LSE seconds
// only; LeaseKeeper sends it again before it runs out, for as long as the gateway still wants it,
// so that when the gateway or its Wi-Fi dies the ATmega goes back to solar routing by itself.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace esphome::routeur_pv {

/// "KEY>value;...;$crc\r\n" from (key, value) pairs: three upper-case letters, 16-bit integers.
std::string build_command(const std::vector<std::pair<const char *, int>> &fields);

/// What channel 1 is asked to do: route the surplus (the ATmega's own regulation), fire at a given
/// share of the heater's rating regardless of the surplus, or stay off (the surplus goes to channel 2).
enum class Ch1Request : uint8_t { AUTO, BOOST, STOP };

class LeaseKeeper {
 public:
  /// lease_s: what each command asks for (1..30 s on the ATmega); renew_ms: how often it is sent
  /// again while wanted (shorter than the lease, so that one lost line does not end it).
  LeaseKeeper(uint8_t lease_s = 5, uint32_t renew_ms = 2000) : lease_s_(lease_s), renew_ms_(renew_ms) {}

  /// A new request, effective at once. until_ms: when a boost or a stop ends by itself (the
  /// gateway's own timer, e.g. a 30-minute boost), 0 for no end. percent: boost level, 0..100.
  void request(Ch1Request what, uint8_t percent = 0, uint32_t until_ms = 0);

  /// The line to send now, or "" (call it every loop pass).
  std::string poll(uint32_t now_ms);

  Ch1Request requested() const { return this->what_; }
  uint8_t percent() const { return this->percent_; }
  /// ms until a timed boost or stop ends, 0 if untimed or in auto.
  uint32_t remaining_ms(uint32_t now_ms) const;

 protected:
  std::string line_() const;

  uint8_t lease_s_;
  uint32_t renew_ms_;
  Ch1Request what_{Ch1Request::AUTO};
  uint8_t percent_{0};
  uint32_t until_ms_{0};
  uint32_t last_sent_ms_{0};
  bool due_{false};  ///< a changed request not sent yet
};

}  // namespace esphome::routeur_pv
