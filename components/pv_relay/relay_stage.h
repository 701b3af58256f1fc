#pragma once
// A relay stage's decisions, plain C++ (no ESPHome): an on/off load (pool pump, heat-pump "SG
// ready" input, a second heater on a contactor) switched on the surplus. Injected time; host-tested
// over simulated days (tests/relay/).
//
// - On once the surplus it may take has covered its rating for `on_delay_s`.
// - Off once, with it on, the import has exceeded `off_import_w` for `off_delay_s`.
// - Never on for less than `min_on_s` nor off for less than `min_off_s` (pumps and compressors must
//   not short-cycle), whatever asks for the change: the surplus, the daily runtime, the user's mode.
//   After a start-up it counts as just switched off: a reboot loop cannot short-cycle it either.
// - A daily minimum runtime, done by `runtime_by_min` of the local day: what the sun has not run
//   by then is run from the grid, as late as it can still finish in time (and, if it could not
//   start in time, until done or midnight). Only with a known local time.
// - "The surplus it may take" is the caller's: the export plus what the loads below it in priority
//   are taking now (they give way to it). Unknown (NaN: stale data) counts as none: it switches off
//   as soon as its minimum on-time allows, and never on for the sun.
#include <cstdint>

namespace esphome::pv_relay {

enum class RelayMode : uint8_t {
  AUTO = 0,  ///< the surplus and the daily runtime decide
  OFF = 1,   ///< off (after its minimum on-time)
  ON = 2,    ///< on (after its minimum off-time)
};

const char *relay_mode_to_string(RelayMode mode);
/// "auto" / "off" / "on"; false for anything else.
bool relay_mode_from_string(const char *str, RelayMode *mode);

struct RelayConfig {
  float rating_w{1000.0f};      ///< what the load draws when on
  uint32_t on_delay_s{60};      ///< the surplus has covered the rating this long: on
  float off_import_w{100.0f};   ///< with it on, import above this ...
  uint32_t off_delay_s{10};     ///< ... this long: off
  uint32_t min_on_s{600};
  uint32_t min_off_s{600};
  uint32_t daily_runtime_s{0};  ///< 0: none
  uint16_t runtime_by_min{22 * 60};  ///< minute of the local day by which the daily runtime is done
};

enum class RelayReason : uint8_t {
  OFF,             ///< off: no surplus for it
  SURPLUS,         ///< on: the surplus covers it
  DAILY_RUNTIME,   ///< on: the daily minimum runtime, from the grid if need be
  MODE,            ///< as the user's mode says
  HELD,            ///< wants to change, held by the minimum on or off time
};
const char *relay_reason_to_string(RelayReason reason);

class RelayStage {
 public:
  explicit RelayStage(const RelayConfig &config) : config_(config) {}

  /// Call every second or so. `now_s`: monotonic seconds. `available_w`: the surplus this load may
  /// take (export + what lower-priority loads take now; with it on, its own draw is already in
  /// there), NaN when unknown. `local_s`: local time in seconds since the epoch, -1 when unknown.
  /// Returns whether the relay must be on.
  bool update(uint32_t now_s, float available_w, int64_t local_s);

  bool is_on() const { return this->on_; }
  RelayReason reason() const { return this->reason_; }
  /// Seconds on since local midnight (since the start until the clock is known).
  uint32_t runtime_today_s() const { return this->runtime_today_s_; }
  /// Changes of state since the start.
  uint32_t switchings() const { return this->switchings_; }

  void set_mode(RelayMode mode) { this->mode_ = mode; }
  RelayMode mode() const { return this->mode_; }
  const RelayConfig &config() const { return this->config_; }
  RelayConfig &mutable_config() { return this->config_; }
  /// After a restart: the runtime already done on local day `day` (days since the epoch).
  void restore_runtime_today(int64_t day, uint32_t seconds) {
    this->day_ = day;
    this->runtime_today_s_ = seconds;
  }
  int64_t day() const { return this->day_; }

 protected:
  /// Whether the daily runtime asks for it to be on at local second-of-day `second`.
  bool runtime_due_(uint32_t second) const;
  bool want_on_(uint32_t now_s, float available_w, int64_t local_s, RelayReason *why);

  RelayConfig config_;
  RelayMode mode_{RelayMode::AUTO};
  bool started_{false};
  bool on_{false};
  uint32_t last_s_{0};
  uint32_t changed_s_{0};         ///< when it last switched (or started)
  uint32_t covered_since_s_{0};   ///< off: since when the surplus has covered the rating
  bool covered_{false};
  uint32_t importing_since_s_{0};  ///< on: since when it has imported above the threshold
  bool importing_{false};
  bool runtime_running_{false};  ///< on for the daily runtime: holds until it is done
  int64_t day_{-1};
  uint32_t runtime_today_s_{0};
  uint32_t switchings_{0};
  RelayReason reason_{RelayReason::OFF};
};

}  // namespace esphome::pv_relay
