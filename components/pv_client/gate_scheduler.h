#pragma once
// Zero-cross tracking and gate timing for a triac dimmer (RobotDyn and the like).
// Plain C++ with no ESPHome or Arduino dependency: the ESP8266/ESP32 interrupt glue and the host
// simulation feed it timestamps (microseconds, wrapping uint32) and drive the gate from its answers,
// and the host unit tests drive it directly.
//
// Zero-cross filtering (the RobotDyn detector is noisy):
//  - Acquisition: an edge becomes a zero crossing only after `acquire_count` consecutive intervals
//    between edges lie in [min_half_period_us, max_half_period_us] and agree within
//    `acquire_tolerance_us`. Edges closer than min_half_period_us to the last candidate are ignored.
//  - Locked: a second-order phase-locked loop predicts every crossing. Only edges within
//    +-window_us of the prediction count; when several fall in the window the one closest to the
//    prediction wins, so a spurious edge can only win when it is closer than the real one.
//    At window close the prediction is corrected by half the error (phase) and the half-period by
//    1/16 of it (frequency): critically damped, and a single noisy edge moves the timing by at most
//    window_us / 2. Gate times always come from the (corrected) prediction, never from a raw edge.
//  - A window that closes without any edge is a missed crossing; the PLL keeps time (flywheel) for
//    one, and after `max_missed` (2) consecutive misses the scheduler unlocks: gate off until it
//    re-acquires. In a half-cycle that follows a missed crossing the gate waits for its own window
//    to close, so no gate pulse is ever raised after the second missing crossing.
// The scheduler is interrupt-safe when on_edge() and poll() are called from interrupts that do not
// preempt each other (one core, same priority); the main loop only writes the level setters.

#include <cstdint>

#if defined(USE_ESP32)
#include <esp_attr.h>
#define PV_CLIENT_ISR IRAM_ATTR
#elif defined(USE_ESP8266)
#include <c_types.h>
#define PV_CLIENT_ISR IRAM_ATTR
#else
#define PV_CLIENT_ISR
#endif

namespace esphome::pv_client {

enum FireMethod : uint8_t {
  FIRE_METHOD_PHASE_ANGLE = 0,
  FIRE_METHOD_BURST = 1,
};

/// Q16 "one": a phase delay of Q16_ONE never fires, a burst level of Q16_ONE fires every half-cycle.
static constexpr uint32_t Q16_ONE = 65536;

/// The ESP8266 Arduino core's waveform generator (core_esp8266_waveform_pwm.cpp) never lets timer1
/// wait longer than MAXIRQUS (10 ms) nor less than MINIRQTIME (4 us).
static constexpr uint32_t ESP8266_TIMER1_MIN_US = 4;
static constexpr uint32_t ESP8266_TIMER1_MAX_US = 10000;

/// What an ESP8266 setTimer1Callback() callback must return for a step of `us` microseconds: CPU
/// clock cycles, not microseconds (core_esp8266_waveform.h), at `cpu_mhz` (80 or 160). The step is
/// clamped to the core's limits first, so the product cannot overflow.
constexpr uint32_t us_to_cycles(uint32_t us, uint32_t cpu_mhz) {
  return (us < ESP8266_TIMER1_MIN_US ? ESP8266_TIMER1_MIN_US : us > ESP8266_TIMER1_MAX_US ? ESP8266_TIMER1_MAX_US : us) *
         cpu_mhz;
}

struct GateSchedulerConfig {
  uint32_t min_half_period_us{7000};    // 71 Hz
  uint32_t max_half_period_us{11500};   // 43 Hz
  uint32_t window_us{500};              // locked: accepted distance from the predicted crossing
  uint32_t acquire_tolerance_us{250};   // acquisition: consecutive intervals must agree this well
  uint8_t acquire_count{3};             // consistent intervals needed to lock
  uint8_t max_missed{2};                // consecutive missed crossings before the gate is forced off
  int32_t zero_cross_offset_us{0};      // mains zero crossing = detector edge + offset
  uint32_t end_guard_us{400};           // gate dropped this long before the next crossing
  uint32_t burst_fire_delay_us{100};    // burst: gate raised this long after the crossing
};

struct HalfCyclePlan {
  bool fire;
  uint32_t on_us;   // absolute time the gate goes high
  uint32_t off_us;  // absolute time the gate goes low
};

class GateScheduler {
 public:
  void configure(const GateSchedulerConfig &config);
  const GateSchedulerConfig &get_config() const { return this->config_; }

  void set_method(FireMethod method) { this->method_ = method; }
  FireMethod get_method() const { return this->method_; }
  /// Phase angle: firing delay as a Q16 fraction of the half-period (Q16_ONE or more: no firing).
  void set_phase_delay_q16(uint32_t delay) { this->phase_delay_q16_ = delay; }
  /// Burst: fraction of half-cycles to conduct, Q16 (Q16_ONE: all).
  void set_burst_level_q16(uint32_t level) { this->burst_level_q16_ = level; }

  /// A zero-cross detector edge at `now`. Returns true when the edge lies in a crossing window
  /// (a candidate crossing) or completes acquisition; false when it is rejected as noise.
  bool on_edge(uint32_t now);
  /// Advance to `now` (call at least at every *next_event returned): closes crossing windows,
  /// starts half-cycles, and returns whether the gate must be high at `now`.
  bool poll(uint32_t now, uint32_t *next_event);
  /// poll() for a one-shot timer (ESP8266 timer1, ESP32 gptimer): the gate state at `now` in *gate,
  /// and the microseconds until the timer must fire again, within [min_step_us, max_step_us] (the
  /// maximum bounds how late a closing window or a lost mains is noticed).
  uint32_t poll_step(uint32_t now, uint32_t min_step_us, uint32_t max_step_us, bool *gate);

  bool is_locked() const { return this->locked_; }
  uint32_t get_half_period_us() const { return this->period_q4_ >> 4; }
  /// The mains crossing (offset applied) that started the current half-cycle.
  uint32_t get_zero_cross_us() const { return this->zc_ + static_cast<uint32_t>(this->config_.zero_cross_offset_us); }
  uint32_t get_half_cycle_index() const { return this->index_; }
  const HalfCyclePlan &get_plan() const { return this->plan_; }

  uint32_t get_edge_count() const { return this->edges_; }
  uint32_t get_used_edge_count() const { return this->used_edges_; }
  uint32_t get_missed_count() const { return this->missed_total_; }
  uint32_t get_lock_count() const { return this->locks_; }
  uint32_t get_unlock_count() const { return this->unlocks_; }

 protected:
  bool acquire_(uint32_t now);
  void lock_(uint32_t now);
  void unlock_();
  void close_window_(uint32_t now);
  void begin_next_half_();
  void decide_burst_();
  void compute_plan_(uint32_t now, bool keep_on);
  uint32_t half_period_() const { return this->period_q4_ >> 4; }

  GateSchedulerConfig config_{};
  FireMethod method_{FIRE_METHOD_PHASE_ANGLE};
  volatile uint32_t phase_delay_q16_{Q16_ONE};
  volatile uint32_t burst_level_q16_{0};

  // acquisition
  bool have_ref_{false};
  uint32_t ref_us_{0};
  uint32_t cand_period_{0};
  uint8_t cand_count_{0};

  // locked
  bool locked_{false};
  uint32_t zc_{0};          // predicted detector edge of the current half-cycle
  uint32_t period_q4_{0};   // half-period, 1/16 us
  bool window_open_{false};
  bool cur_has_{false};
  int32_t cur_err_{0};
  bool next_has_{false};
  int32_t next_err_{0};
  uint8_t missed_{0};
  uint32_t index_{0};
  uint8_t parity_{0};

  // burst error diffusion
  uint32_t burst_acc_{0};
  int8_t last_fire_parity_{-1};
  bool burst_fire_{false};

  HalfCyclePlan plan_{false, 0, 0};

  uint32_t edges_{0};
  uint32_t used_edges_{0};
  uint32_t missed_total_{0};
  uint32_t locks_{0};
  uint32_t unlocks_{0};
};

}  // namespace esphome::pv_client
