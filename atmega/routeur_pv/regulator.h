// Channel-1 energy-bucket regulator and channel-2 ratio (loop() context).
//
// Channel 1, once per mains cycle: integral action on the measured grid power.
//   demand_W += gain * (export_W - target_W), clamped to [0, heater_W];
// on an import, at once the power balance of the cycle measured: demand_W = applied_W + export_W - target_W.
// The demand is applied from the next half-cycle (one cycle of delay); with the half-cycle
// pairing of the measurement the loop is  z^2 - (1 - g/2) z + g/2 = 0: for g = 0.5 both roots have
// |z| = 0.5, so an error halves every cycle (test_regulator.cpp checks it on a model).
// The "bucket" EIB is that demand expressed as energy: EIB = demand / heater * capacity (J).
// Bucket-charging cancellation: while channel 1 is off and the surplus is below MPC (the heater's
// power at the smallest fraction fired), the demand is held at 0; a demand below MPC fires nothing.
//
// Channel-1 absorption (AbsorptionDetector): with a working heater the measured import follows the
// power commanded (b = import - d_applied does not depend on d); with its thermostat open it does
// not (b moves by -delta_d). Per valid cycle the detector adds delta_d and delta_import of
// consecutive cycles; over a window where d moved enough it takes the least-squares slope
// sum(dd * dp) / sum(dd^2): ~1 absorbing, ~0 drawing nothing. Differences remove the house
// baseline; a house step is uncorrelated with delta_d of the same cycle (d applied in a cycle was
// computed from earlier cycles only), so it adds noise, not bias. A heater can only explain a change
// of import between 0 and max_slope * delta_d: beyond that (+- a noise allowance) the change is the
// house's (a load switched, the thermostat itself switching) and is clipped, so one big house step
// does not drown a window. The verdict changes only when the
// slope is significantly away from the threshold: (slope - threshold)^2 * sum(dd^2) >= z^2 * s^2,
// s^2 the residual variance of the window (house noise, a load switched during the window...);
// otherwise (d did not move enough, or too noisy) the previous verdict stands.
//
// Channel 2 (VO2, percent of its rating), from the averages over a window of a few cycles, taken
// once the last VO2 sent has shown in the measurements (Ch2Ratio::add_cycle). "spare" = export +
// channel-1 power; excess = what channel 2 should take on top of what it has:
//  - channel 1 regulating (absorbing, automatic, not saturated): what channel 1 could not take at
//    full power, and no more than is exported: excess = min(export, spare - heater) - target;
//    negative, it goes back to channel 1 (which takes it within a cycle), but slowly
//    (kCh2GiveBackWatts per change: mid-ranging, channel 1 takes a passing cloud and the rise
//    after it within a cycle, channel 2 follows), at once what keeps channel 1 above its floor
//    (heater >> kCh1FloorShift, or the last fall once the surplus falls in steps: the evening)
//    and all of it once channel 1 is back from not absorbing;
//  - channel 1 saturated, not absorbing (thermostat open) or not regulating (boost, stop): channel
//    2 is alone: excess = export - target, nothing shed between no import and the target.
// Channel 2 never overshoots into import: a large step takes 15/16 of the excess (the margin of
// a measured gain; 10/16 until an answer has measured the watts channel 2 really has; all of it
// once measured, with channel 1 regulating to shed an overshoot), the last points all of it; an
// import is shed all at once, rounded to the safe side. Each answer also measures the client's
// delay (the timeout for the next ones). The latest proposal goes out with the next frame; one
// that moves VO2 by kVo2UrgentStep or more goes out at once in a frame of channel 2 alone (VO2 and
// PO2, 26 ms at 9600 baud), so channel 2 follows a surplus step in a fraction of a second instead
// of waiting up to a second for the regular frame.
#pragma once
#include <math.h>
#include <stdint.h>
#include "config.h"

// The ratings the persistent settings may change (settings.h); the rest is config.h's.
struct RegulatorParams {
  float heater_watts;
  float export_target_watts;
  float min_routable_watts;
};
constexpr RegulatorParams kDefaultRegulatorParams = {cfg::kCh1HeaterWatts, cfg::kExportTargetWatts,
                                                     cfg::kMinRoutableWatts};

class Ch1Regulator {
 public:
  constexpr explicit Ch1Regulator(const RegulatorParams& params = kDefaultRegulatorParams) : p_(params) {}

  // One valid mains cycle measured: export_watts > 0 is surplus; applied_watts, the power commanded
  // over that cycle.
  void update(float export_watts, float applied_watts) {
    if (!firing_ && export_watts < p_.min_routable_watts) {
      demand_watts_ = 0.0f;  // cancellation: the surplus could not pay for the smallest firing
      return;
    }
    const float error = export_watts - p_.export_target_watts;
    if (export_watts < 0.0f) {
      // An import (a load switched on, a cloud) is shed in one step, not halved cycle by cycle: the
      // demand drops to the power balance of the cycle measured (what it had, less the import). The
      // cycle after still carries half of the old demand: the balance then says the same, and the
      // demand stays. A heater drawing r times its rating converges too (for 0 < r < 2).
      const float balance = applied_watts + error;
      if (balance < demand_watts_) demand_watts_ = balance;
    } else {
      demand_watts_ += cfg::kRegulatorGain * error;
    }
    if (demand_watts_ < 0.0f) demand_watts_ = 0.0f;
    if (demand_watts_ > p_.heater_watts) demand_watts_ = p_.heater_watts;
    firing_ = demand_watts_ >= p_.min_routable_watts;
  }
  // Absorption probe: raise an idle demand to `watts` (it fires from the next half-cycle).
  // `watts` is below every heater rating the settings allow (config.h: kMinHeaterWatts).
  void probe(float watts) {
    if (demand_watts_ < watts) demand_watts_ = watts;
    firing_ = demand_watts_ >= p_.min_routable_watts;
  }
  // Measurement unusable (clipped, gate blocked): fire nothing this time, keep the integral.
  void hold_off() { firing_ = false; }
  // No mains / no crossing: start again from zero.
  void reset() { demand_watts_ = 0.0f; firing_ = false; }

  bool firing() const { return firing_; }
  float demand_watts() const { return demand_watts_; }
  float fired_fraction() const { return firing_ ? demand_watts_ / p_.heater_watts : 0.0f; }
  float bucket_joules() const { return demand_watts_ / p_.heater_watts * cfg::kBucketCapacityJoules; }
  bool saturated() const { return is_full_power(demand_watts_); }
  // `watts` of channel 1 count as full power (saturated_fraction of the heater or more).
  bool is_full_power(float watts) const { return watts >= cfg::kSaturatedFraction * p_.heater_watts; }
  const RegulatorParams& params() const { return p_; }
  // The persistent settings (settings.h) changed: the smallest routable power follows the heater.
  void set_ratings(float heater_watts, float export_target_watts) {
    p_.heater_watts = heater_watts;
    p_.export_target_watts = export_target_watts;
    p_.min_routable_watts = heater_watts * cfg::kMinFiredFraction;
  }

 private:
  RegulatorParams p_;
  float demand_watts_ = 0.0f;
  bool firing_ = false;
};

class AbsorptionDetector {
 public:
  // One valid cycle: applied_watts = channel-1 power commanded over that cycle (0 when not fired),
  // import_watts = measured grid import of that cycle. Whole watts, and sums in units of 2 W
  // (products of 4 W^2) in 32 bits: a 8-kW heater swinging fully every cycle still fits, and
  // integers take a fraction of the float library's flash.
  void add(float applied_watts, float import_watts) {
    const int16_t applied = int16_t(applied_watts), imported = int16_t(import_watts);
    if (have_previous_) {
      const int16_t dd = int16_t(applied - previous_applied_);
      const int16_t explained = int16_t(dd + (dd >> 1));  // kAbsorbMaxSlope = 1.5 (shifts: GCC's are arithmetic)
      int16_t dp = int16_t(imported - previous_import_);
      const int16_t low = int16_t((explained < 0 ? explained : 0) - cfg::kAbsorbNoiseWatts);
      const int16_t high = int16_t((explained > 0 ? explained : 0) + cfg::kAbsorbNoiseWatts);
      if (dp < low) dp = low;
      if (dp > high) dp = high;
      const int16_t dd2 = int16_t(dd >> 1), dp2 = int16_t(dp >> 1);
      sum_dd2_ += int32_t(dd2) * dd2;
      sum_dd_dp_ += int32_t(dd2) * dp2;
      sum_dp2_ += int32_t(dp2) * dp2;
      ++differences_;
    }
    previous_applied_ = applied;
    previous_import_ = imported;
    have_previous_ = true;
    if (++cycles_ >= cfg::kAbsorbWindowCycles) conclude();
  }
  // Unusable cycle (clipped, no mains): no difference is taken across it.
  void skip() { have_previous_ = false; }

  // Verdict: true (the default, before any evidence) = channel 1 draws what it is fired.
  bool absorbing() const { return !not_absorbing_; }
  float last_slope() const { return slope_; }
  uint16_t verdicts() const { return verdicts_; }

 private:
  void conclude() {
    if (sum_dd2_ >= int32_t(cfg::kAbsorbMinSwingWatts / 2) * (cfg::kAbsorbMinSwingWatts / 2) && differences_ >= 2) {
      const float dd2 = float(sum_dd2_), dd_dp = float(sum_dd_dp_);
      const float slope = dd_dp / dd2;
      float residual = float(sum_dp2_) - slope * dd_dp;  // sum of squared residuals
      if (residual < 0.0f) residual = 0.0f;
      const float variance = residual / float(differences_ - 1);
      const float margin = slope - cfg::kAbsorbSlopeThreshold;
      if (margin * margin * dd2 >= cfg::kAbsorbSignificanceZ * cfg::kAbsorbSignificanceZ * variance) {
        slope_ = slope;
        not_absorbing_ = margin < 0.0f;
        if (verdicts_ < 0xFFFF) ++verdicts_;
      }
    }  // else: d did not move enough (or too noisy): the previous verdict stands
    sum_dd2_ = 0;
    sum_dd_dp_ = 0;
    sum_dp2_ = 0;
    differences_ = 0;
    cycles_ = 0;
  }

  int16_t previous_applied_ = 0, previous_import_ = 0;
  int32_t sum_dd2_ = 0, sum_dd_dp_ = 0, sum_dp2_ = 0;  // 4 W^2 units
  float slope_ = 0.0f;  // of the last verdict
  uint16_t verdicts_ = 0;
  uint8_t cycles_ = 0, differences_ = 0;
  bool have_previous_ = false;
  bool not_absorbing_ = false;  // the last verdict (absorbing until one says otherwise)
};

// The ratings the persistent settings may change (settings.h); the rest is config.h's.
struct Ch2Params {
  float ch2_watts;
  float heater_watts;
  float export_target_watts;
};
constexpr Ch2Params kDefaultCh2Params = {cfg::kCh2Watts, cfg::kCh1HeaterWatts, cfg::kExportTargetWatts};

// Works in whole watts (int16_t, int32_t sums): the rule needs no finer, and integer arithmetic is
// a fraction of the flash the float library calls take on the ATmega.
class Ch2Ratio {
 public:
  constexpr explicit Ch2Ratio(const Ch2Params& params = kDefaultCh2Params)
      : ch2_watts_(int16_t(params.ch2_watts)), heater_watts_(int16_t(params.heater_watts)),
        target_watts_(int16_t(params.export_target_watts)), measured_ch2_watts_(int16_t(params.ch2_watts)) {}

  // The rule (see the top of this file), from a window's averages: the VO2 that takes the excess,
  // sheds an import, or gives channel 1 back what it can take. ch1_watts:
  // channel 1's power over the window (what it draws if it absorbs); ch1_full_all: channel 1
  // saturated, not absorbing or not regulating (boost, stop) all window: channel 2 alone takes
  // what is exported.
  uint8_t propose(float export_avg_watts, float ch1_watts, bool ch1_full_all, bool ch1_absorbing_all = true) const {
    return propose_watts(int16_t(export_avg_watts), int16_t(ch1_watts), ch1_full_all, ch1_absorbing_all);
  }
  // Applies the rule at once (unit tests of the rule; the firmware goes through add_cycle/commit).
  uint8_t update(float export_avg_watts, float ch1_watts, bool ch1_full_all, bool ch1_absorbing_all = true) {
    note_ch1(ch1_full_all, ch1_absorbing_all);
    proposal_ = propose(export_avg_watts, ch1_watts, ch1_full_all, ch1_absorbing_all);
    return commit();
  }

  // Per valid mains cycle: the export measured, the power commanded to channel 1 over the cycle
  // (what it drew, if it absorbs), whether it counts as full (saturated, not absorbing or not
  // regulating) and whether it absorbs. Every window_cycles the window's averages make the next
  // proposal, but only once the last change of VO2 has shown in the measurements: until then the
  // export still shows the old VO2, and counting it again would overshoot. A change of VO2 moves
  // the power left to channel 1 and the grid, "spare" = export + channel-1 power (counted only
  // while channel 1 absorbs: an open thermostat draws nothing), by -change x channel 2's watts. It
  // has shown when a window's spare moved at least half of that and agrees with the window before
  // (the answer is complete), both windows having the channel-1 verdict the change was made with;
  // until the answer starts, the reference spare follows the windows (the surplus may change
  // meanwhile). Each answer measures the client: how long it took (the timeout for the next ones)
  // and how far it moved the spare (the watts channel 2 really has). A client that never answers
  // (offline, its load's thermostat open) is taken to have after the timeout: VO2 climbs on.
  void add_cycle(float export_watts, float ch1_applied_watts, bool ch1_full, bool ch1_absorbing) {
    if (waiting_ && ++cycles_waited_ >= timeout_cycles()) waiting_ = false;
    const int16_t exported = int16_t(export_watts);
    const int16_t spare_watts = int16_t(exported + (ch1_absorbing ? int16_t(ch1_applied_watts) : 0));
    if (w_.cycles == 0) {
      w_.full_all = w_.absorbing_all = true;
      w_.spare_min = w_.spare_max = spare_watts;
    }
    ++w_.cycles;
    if (spare_watts < w_.spare_min) w_.spare_min = spare_watts;
    if (spare_watts > w_.spare_max) w_.spare_max = spare_watts;
    w_.export_watts += exported;
    w_.spare_watts += spare_watts;
    w_.full_all = w_.full_all && ch1_full;
    w_.absorbing_all = w_.absorbing_all && ch1_absorbing;
    w_.absorbing_any = w_.absorbing_any || ch1_absorbing;
    if (w_.cycles < cfg::kVo2WindowCycles) return;
    note_ch1(w_.full_all, w_.absorbing_all);
    const int16_t spare = int16_t(w_.spare_watts / cfg::kVo2WindowCycles);
    // A window across a step (of the surplus, or of the answer) would propose part of it, and is no
    // reference: the next one is.
    const int16_t span = int16_t(w_.spare_max - w_.spare_min);
    const bool steady = span <= cfg::kVo2SteadyBandWatts + ((spare < 0 ? -spare : spare) >> 3);
    if (!ch1_idle_at_change_ && !w_.absorbing_any) {
      // Channel 1 judged not absorbing while the change is answered (its thermostat opened before
      // the change, channel 1 full then): the reference loses channel 1's power. Waiting for the
      // old verdict would hold VO2 until the timeout, a second round trip with a slow client.
      ch1_idle_at_change_ = true;
      spare_before_change_ = int16_t(spare_before_change_ - heater_watts_);
    }
    const bool same_verdict = ch1_idle_at_change_ ? !w_.absorbing_any : w_.absorbing_all;
    if (waiting_ && have_previous_spare_ && same_verdict) {
      // moved = (spare - before) / expected, in the direction of the change
      const int16_t expected = expected_spare_change_ < 0 ? int16_t(-expected_spare_change_) : expected_spare_change_;
      const int16_t moved = int16_t(expected_spare_change_ < 0 ? spare_before_change_ - spare : spare - spare_before_change_);
      const int16_t scatter = int16_t(spare - previous_spare_);
      const int16_t agreement = int16_t(expected / 4 + cfg::kCh2SettleNoiseWatts);
      if (2 * int32_t(moved) >= expected && scatter <= agreement && -scatter <= agreement) {  // it shows
        waiting_ = false;
        learn_client(moved, expected);
      } else if (4 * int32_t(moved) < expected && steady) {
        // No sign of the answer yet, or a move the other way (the surplus itself changed, maybe
        // within the window behind the change): the reference follows.
        spare_before_change_ = spare;
      }
    }
    if (!waiting_ && steady) {
      const int16_t export_avg = int16_t(w_.export_watts / cfg::kVo2WindowCycles);
      // Two falls of the surplus in a row, with no rise between: it falls in steps (the evening),
      // and channel 1 is kept able to take one more as large. A cloud that passes rises again.
      // The fall is the spare's, less what the change sent since moved it.
      const int16_t fall = int16_t(spare_if_steady_ - spare);
      if (fall >= cfg::kCh2FallWatts) {
        if (fall_floor_ == 0) fall_floor_ = -1;  // the first
        else if (fall > fall_floor_) fall_floor_ = fall;
      } else if (fall <= -cfg::kCh2FallWatts) {
        fall_floor_ = 0;
      }
      spare_if_steady_ = spare;
      proposal_ = propose_watts(export_avg, int16_t(spare - export_avg), w_.full_all, w_.absorbing_all);
      proposal_ch1_idle_ = !w_.absorbing_all;
    }
    previous_spare_ = spare;
    have_previous_spare_ = same_verdict;
    w_ = Window();
  }
  // An unusable cycle (no mains, clipped): the window starts again.
  void skip_cycle() {
    w_ = Window();
    have_previous_spare_ = false;
  }
  // The latest proposal moves VO2 by urgent_step or more: it should go out now, not at the next
  // regular frame.
  bool urgent() const { return step(proposal_) >= cfg::kVo2UrgentStep; }
  // A frame goes out: VO2 takes the latest proposal.
  uint8_t commit() {
    if (proposal_ != vo2_) {
      expected_spare_change_ = watts_of(int16_t(vo2_ - proposal_));
      spare_before_change_ = spare_if_steady_;  // the proposal's window
      spare_if_steady_ = int16_t(spare_if_steady_ + expected_spare_change_);
      ch1_idle_at_change_ = proposal_ch1_idle_;
      cycles_waited_ = 0;
      waiting_ = true;
      have_previous_spare_ = false;
      w_ = Window();
    }
    vo2_ = proposal_;
    return vo2_;
  }
  uint8_t value() const { return vo2_; }
  bool waiting_for_response() const { return waiting_; }
  // What the answers measured: the client's delay (cycles from the frame to a complete answer) and
  // the watts channel 2 really has at 100 %.
  uint8_t response_cycles() const { return response_cycles_; }
  int16_t measured_ch2_watts() const { return measured_ch2_watts_; }
  // The persistent settings (settings.h) changed: what was measured of channel 2 starts again.
  void set_ratings(int16_t ch2_watts, int16_t heater_watts, int16_t export_target_watts) {
    ch2_watts_ = measured_ch2_watts_ = ch2_watts;
    heater_watts_ = heater_watts;
    target_watts_ = export_target_watts;
    gain_measured_ = false;
  }

 private:
  struct Window {
    uint8_t cycles;
    bool full_all, absorbing_all, absorbing_any;
    int32_t export_watts, spare_watts;
    int16_t spare_min, spare_max;
  };
  uint8_t step(uint8_t to) const { return to > vo2_ ? to - vo2_ : vo2_ - to; }
  // What `points` of VO2 are in watts, as measured.
  int16_t watts_of(int16_t points) const { return int16_t(int32_t(points) * measured_ch2_watts_ / 100); }
  uint8_t timeout_cycles() const {
    const uint16_t cycles =
        2u * (response_cycles_ ? response_cycles_ : cfg::kCh2InitialResponseCycles) + 2u * cfg::kVo2WindowCycles;
    return cycles > cfg::kCh2MaxTimeoutCycles ? cfg::kCh2MaxTimeoutCycles : uint8_t(cycles);
  }
  __attribute__((noinline)) uint8_t propose_watts(int16_t export_avg, int16_t ch1_watts, bool ch1_full_all, bool ch1_absorbing_all) const {
    int16_t excess = int16_t(export_avg - target_watts_);  // exported beyond the target
    const bool ch1_regulating = !ch1_full_all && ch1_absorbing_all;
    if (ch1_regulating) {
      // Channel 1 regulating (it takes every change within a cycle): channel 2 gives it back
      // slowly, and takes only what is exported and what channel 1 could not take at full
      // power: a step of channel 2 beyond that would import until channel 1's regulator has shed
      // it (while channel 1 ramps up, the export is only its lag; a thermostat that has just
      // opened, not yet detected, draws none of the power commanded).
      const int16_t beyond_full = int16_t(excess + ch1_watts - heater_watts_);
      if (beyond_full < 0) {
        // Channel 2 gives back slowly (a cloud passes: channel 1 takes the dip within a cycle, and
        // the rise after it too), at once what keeps channel 1 above its floor (a deeper fall
        // would import until channel 2 answers: while the surplus falls in steps, the floor is the
        // last fall); all of it when channel 1 comes back from not absorbing (its thermostat has
        // closed: the heater first).
        const int16_t floor = heater_watts_ >> cfg::kCh1FloorShift;
        int16_t below_floor = int16_t(ch1_watts - (fall_floor_ > floor ? fall_floor_ : floor));
        if (below_floor < 0 && excess < 0) below_floor = int16_t(below_floor + excess);  // and its import
        excess = beyond_full;
        if (!ch1_back_) {
          if (excess < -cfg::kCh2GiveBackWatts) excess = -cfg::kCh2GiveBackWatts;
          if (below_floor < excess) excess = below_floor;
        }
      } else if (excess < 0) excess = 0;
      else if (beyond_full < excess) excess = beyond_full;
    } else if (excess < 0 && export_avg >= 0) {
      excess = 0;  // alone, between no import and the target: a dead band (no limit cycle)
    }
    int32_t points_x100 = int32_t(excess) * 100;  // x channel 2's watts
    // Channel 2 must not overshoot into import: a large step takes a share of the excess (a smaller
    // one while channel 2's watts are not yet measured), the last points all of it. Once they are
    // measured, with channel 1 regulating, it takes all: channel 1 sheds an overshoot within a cycle.
    if ((!ch1_regulating || !gain_measured_) && points_x100 >= 4 * int32_t(measured_ch2_watts_))
      points_x100 = (points_x100 * (gain_measured_ ? cfg::kCh2GainSixteenths : cfg::kCh2FirstGainSixteenths)) >> 4;
    // Nearest when taking (at most half a point beyond the target: no import), down when shedding.
    points_x100 += points_x100 > 0 ? measured_ch2_watts_ / 2 : 1 - measured_ch2_watts_;
    int16_t next = int16_t(vo2_ + points_x100 / measured_ch2_watts_);
    if (next < 0) next = 0;
    if (next > cfg::kVo2Max) next = cfg::kVo2Max;
    return uint8_t(next);
  }
  void note_ch1(bool full, bool absorbing) {
    if (!absorbing) ch1_back_ = true;
    else if (full) ch1_back_ = false;
  }
  // An answer came after cycles_waited_, moving the spare `moved` watts of the `expected` (> 0).
  void learn_client(int16_t moved, int16_t expected) {
    // The delay: a longer answer counts at once (an early timeout counts the excess twice), a
    // shorter one little by little.
    if (cycles_waited_ > response_cycles_) response_cycles_ = cycles_waited_;  // the first answer too
    else response_cycles_ = uint8_t(response_cycles_ - (response_cycles_ - cycles_waited_) / 4);
    // Channel 2's watts, from large moves only (the scatter of the spare is a few watts).
    if (expected >= cfg::kCh2GainMinMoveWatts) {
      if (moved > 2 * expected) moved = int16_t(2 * expected);
      int16_t measured = int16_t(int32_t(measured_ch2_watts_) * moved / expected);
      if (gain_measured_) measured = int16_t((measured + measured_ch2_watts_) / 2);
      if (measured < ch2_watts_ / 2) measured = int16_t(ch2_watts_ / 2);
      measured_ch2_watts_ = measured;
      gain_measured_ = true;
    }
  }

  int16_t ch2_watts_, heater_watts_, target_watts_;  // ratings
  int16_t measured_ch2_watts_;
  Window w_ = Window();
  uint8_t vo2_ = 0;
  uint8_t proposal_ = 0;
  int16_t spare_before_change_ = 0;   // spare of the window behind the change sent last
  int16_t expected_spare_change_ = 0;
  int16_t previous_spare_ = 0;
  bool gain_measured_ = false;
  bool have_previous_spare_ = false;  // the window before, with the verdict of the change
  bool proposal_ch1_idle_ = false;  // channel 1 judged not absorbing over the window behind the proposal
  bool ch1_idle_at_change_ = false;  // ... behind the change sent last
  bool ch1_back_ = false;  // channel 1 judged not absorbing, and not full again since
  // The spare of the window behind the proposal, moved by the change sent since: the next
  // proposal's if the surplus holds.
  int16_t spare_if_steady_ = 0;
  // The surplus falls in steps: channel 1 is kept above the last fall (-1: one fall so far, 0: none;
  // a flag beside it would cost flash the ATmega does not have)
  int16_t fall_floor_ = 0;
  bool waiting_ = false;
  uint8_t cycles_waited_ = 0;
  uint8_t response_cycles_ = 0;  // 0: no answer measured yet (zero-initialised: the controller stays in .bss)
};
