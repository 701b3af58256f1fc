#pragma once
// Commands from the gateway to the ATmega (its RX), the leases that keep them in force, the
// settings stored in its EEPROM, and when a line may go out. Plain C++: no ESPHome dependency,
// host-tested on simulated clocks against the ATmega's own parser (tests/gateway/cpp).
//
// A command line has the frames' own shape, "KEY>value;...;$crc\r\n", CRC-8 Dallas/Maxim of every
// character before '$' in decimal (crc8_maxim of frame_parser.h: one codec for both directions).
// Every command that changes what channel 1 does holds on the ATmega for a lease of LSE seconds
// only; LeaseKeeper sends it again before it runs out, for as long as the gateway still wants it,
// so that when the gateway or its Wi-Fi dies the ATmega goes back to solar routing by itself.
// Settings (HTR, DIM, EXT, VCL, ICL) are stored by the ATmega; the frames report them back, one a
// frame in turn: SettingsKeeper sends a setting until the frames show it (bounded retries).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "frame_parser.h"

namespace esphome::routeur_pv {

/// "KEY>value;...;$crc\r\n" from (key, value) pairs: three upper-case letters, 16-bit integers.
std::string build_command(const std::vector<std::pair<const char *, int>> &fields);

// ------------------------------------------------------------------------------------ channel 1

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

  /// Ends a timed boost or stop whose time is up (back to auto); true when it did.
  bool expire(uint32_t now_ms);

  /// The line to send now, or "" (call it every loop pass).
  std::string poll(uint32_t now_ms);

  Ch1Request requested() const { return this->what_; }
  uint8_t percent() const { return this->percent_; }
  /// When a timed request ends (0: untimed, or auto).
  uint32_t until_ms() const { return this->until_ms_; }
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

// ------------------------------------------------------------------------------------ settings

/// The ATmega's persistent settings, in the order of its own table (settings.h).
enum Setting : uint8_t {
  SETTING_HEATER = 0,   // HTR: channel-1 heater rating, W
  SETTING_CH2,          // DIM: channel-2 (dimmer) load rating, W
  SETTING_EXPORT,       // EXT: export target, W
  SETTING_VOLTAGE_CAL,  // VCL: voltage sensor sensitivity, 0.01 mV per volt of mains
  SETTING_CURRENT_CAL,  // ICL: current sensor sensitivity, 0.1 mV per ampere
  SETTING_COUNT,
};

struct SettingInfo {
  const char *key;  ///< in the command lines and in the frames
  Field field;      ///< where the frames report it
  int16_t min;      ///< what the ATmega accepts, inclusive, in the commands' integer units
  int16_t max;
  float unit;       ///< one integer step in the user's unit: W, mV/V (0.01), mV/A (0.1)
};
const SettingInfo &setting_info(Setting s);

/// Integer value of a setting given in the user's unit (W, mV/V, mV/A), rounded to the step.
/// False when it is not a finite number or not a 16-bit integer once scaled.
bool setting_from_unit(Setting s, float value, int16_t &out);
float setting_to_unit(Setting s, int16_t value);

/// Some of the settings: bit k of `present` for value[k].
struct SettingValues {
  uint8_t present{0};
  int16_t value[SETTING_COUNT]{};
  bool has(Setting s) const { return (this->present >> s) & 1u; }
  void set(Setting s, int16_t v) {
    this->value[s] = v;
    this->present = static_cast<uint8_t>(this->present | (1u << s));
  }
  void clear(Setting s) { this->present = static_cast<uint8_t>(this->present & ~(1u << s)); }
  bool empty() const { return this->present == 0; }
  /// These values, then other's on top of them.
  SettingValues merged(const SettingValues &other) const;
};

enum class SettingsCheck : uint8_t { OK, EMPTY, OUT_OF_RANGE, EXPORT_TOO_HIGH };
const char *settings_check_name(SettingsCheck c);

/// The ATmega's rule on the settings it would hold: every value in its range, and the export
/// target below the heater's smallest routable power, 1 % of its rating (EXT x 100 < HTR), when
/// both are known.
SettingsCheck check_settings(const SettingValues &values);

/// "HTR>2500;EXT>5;$crc\r\n": the settings present, in Setting order (48 characters at most).
std::string build_settings_command(const SettingValues &values);

/// Sends requested settings until the frames report them. The ATmega checks a settings line as a
/// whole, merged with what it holds, and refuses it whole: the keeper checks the same merged result
/// (what the frames reported, what is still pending, the request) before it takes a request, and
/// sends every pending setting in one line. A line whose settings the frames have not all shown
/// within retry_ms is sent again; after max_attempts lines the keeper gives up on what is left.
class SettingsKeeper {
 public:
  /// retry_ms: longer than a full turn of the settings in the frames (5 frames, one a second).
  SettingsKeeper(uint32_t retry_ms = 7000, uint8_t max_attempts = 3)
      : retry_ms_(retry_ms), max_attempts_(max_attempts) {}

  /// Takes a request (OK) or refuses it and changes nothing (the reason).
  SettingsCheck request(const SettingValues &wanted);
  /// A setting as a frame reported it.
  void on_reported(Setting s, int16_t value);
  /// Nothing is known of the ATmega's settings any more (link lost).
  void forget_reported() { this->reported_ = SettingValues{}; }

  /// The line to send now, or "".
  std::string poll(uint32_t now_ms);

  const SettingValues &reported() const { return this->reported_; }
  const SettingValues &pending() const { return this->pending_; }
  uint8_t max_attempts() const { return this->max_attempts_; }
  /// Requests given up on (not reported after max_attempts lines) since the start.
  uint32_t failures() const { return this->failures_; }
  /// The settings given up on since the last call (bit k: setting k).
  uint8_t take_given_up() {
    const uint8_t g = this->given_up_;
    this->given_up_ = 0;
    return g;
  }

 protected:
  uint32_t retry_ms_;
  uint8_t max_attempts_;
  SettingValues reported_;
  SettingValues pending_;
  uint32_t sent_ms_{0};
  uint8_t attempts_{0};  ///< lines sent for what is pending
  bool due_{false};      ///< a request not sent yet
  uint32_t failures_{0};
  uint8_t given_up_{0};
};

// ------------------------------------------------------------------------------------ the link

/// Both keepers, the frames' reports, and when a line may go out:
/// - never two lines closer than LINE_GAP_MS (the ATmega's RX ring holds 32 bytes);
/// - only while the ATmega is between two frames: within RX_WINDOW_MS of a frame's line end, or
///   when no line end came for RX_SILENT_MS. On the ESP8266 the software UART sends each byte with
///   interrupts off, so a byte arriving meanwhile is misread: a line sent during a frame costs it;
/// - the channel-1 lease first, then the settings;
/// - in auto, `AUT>1;` when the frames do not say auto (an ATmega that has received no command
///   line since its reset does not report its settings), at most every RESYNC_MS.
class CommandLink {
 public:
  static constexpr uint32_t LINE_GAP_MS = 100;
  static constexpr uint32_t RX_WINDOW_MS = 500;
  static constexpr uint32_t RX_SILENT_MS = 1500;
  static constexpr uint32_t RESYNC_MS = 10000;
  /// Longest timed boost or stop (longer ones are cut to this).
  static constexpr uint32_t MAX_TIMED_MS = 12u * 3600u * 1000u;

  LeaseKeeper &lease() { return this->lease_; }
  const LeaseKeeper &lease() const { return this->lease_; }
  SettingsKeeper &settings() { return this->settings_; }
  const SettingsKeeper &settings() const { return this->settings_; }

  /// A channel-1 request for duration_ms (0: until another request).
  void request_ch1(Ch1Request what, uint8_t percent, uint32_t duration_ms, uint32_t now_ms);

  /// Bytes came in on RX; at_line_end: the last of them ended a line.
  void on_rx(uint32_t now_ms, bool at_line_end);
  /// A valid frame: the settings it reports, and whether the ATmega is in the mode requested.
  void on_frame(const Frame &frame, uint32_t now_ms);
  /// No valid frame for the link timeout: the settings are unknown.
  void on_link_lost() { this->settings_.forget_reported(); }

  /// The line to send now, or "" (call it every loop pass).
  std::string poll(uint32_t now_ms);

  uint32_t lines_sent() const { return this->lines_sent_; }

 protected:
  bool rx_quiet_(uint32_t now_ms) const;

  LeaseKeeper lease_;
  SettingsKeeper settings_;
  uint32_t last_line_ms_{0};
  uint32_t last_lease_line_ms_{0};
  uint32_t last_line_end_ms_{0};
  uint32_t lines_sent_{0};
  bool sent_any_{false};
  bool lease_sent_any_{false};
  bool rx_at_line_end_{false};
};

}  // namespace esphome::routeur_pv
