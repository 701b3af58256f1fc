// Channel-1 energy-bucket regulator and channel-2 ratio (loop() context).
//
// Channel 1, once per mains cycle: integral action on the measured grid power.
//   demand_W += gain * (export_W - target_W), clamped to [0, heater_W].
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
// once the last VO2 sent has had time to reach the client (Ch2Ratio::add_cycle):
//  - import:                       VO2 -= 100 * import / ch2_W            (fast)
//  - channel 1 saturated, or not absorbing, all along ("full" below):
//                                   VO2 += g2 * 100 * export / ch2_W
//  - channel 1 has headroom, was judged absorbing all window and holds the export near its target
//    (a heater whose thermostat opened draws nothing: it must not get the surplus back):
//                                   VO2 -= g2 * 100 * headroom / ch2_W     (surplus back to ch1)
// The latest proposal goes out with the next frame; one that moves VO2 by kVo2UrgentStep or more
// makes the controller send that frame early, so channel 2 follows a surplus step in a fraction of
// a second instead of waiting up to a second for the regular frame.
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

  // One valid mains cycle measured: export_watts > 0 is surplus.
  void update(float export_watts) {
    if (!firing_ && export_watts < p_.min_routable_watts) {
      demand_watts_ = 0.0f;  // cancellation: the surplus could not pay for the smallest firing
      return;
    }
    demand_watts_ += cfg::kRegulatorGain * (export_watts - p_.export_target_watts);
    if (demand_watts_ < 0.0f) demand_watts_ = 0.0f;
    if (demand_watts_ > p_.heater_watts) demand_watts_ = p_.heater_watts;
    firing_ = demand_watts_ >= p_.min_routable_watts;
  }
  // Absorption probe: raise an idle demand to `watts` (it fires from the next half-cycle).
  void probe(float watts) {
    if (demand_watts_ < watts) demand_watts_ = watts > p_.heater_watts ? p_.heater_watts : watts;
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
  // import_watts = measured grid import of that cycle.
  void add(float applied_watts, float import_watts) {
    if (have_previous_) {
      const float dd = applied_watts - previous_applied_;
      const float explained = cfg::kAbsorbMaxSlope * dd;
      float dp = import_watts - previous_import_;
      const float low = (explained < 0.0f ? explained : 0.0f) - cfg::kAbsorbNoiseWatts;
      const float high = (explained > 0.0f ? explained : 0.0f) + cfg::kAbsorbNoiseWatts;
      if (dp < low) dp = low;
      if (dp > high) dp = high;
      sum_dd2_ += dd * dd;
      sum_dd_dp_ += dd * dp;
      sum_dp2_ += dp * dp;
      ++differences_;
    }
    previous_applied_ = applied_watts;
    previous_import_ = import_watts;
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
    if (sum_dd2_ >= cfg::kAbsorbMinSwingWatts * cfg::kAbsorbMinSwingWatts && differences_ >= 2) {
      const float slope = sum_dd_dp_ / sum_dd2_;
      float residual = sum_dp2_ - slope * sum_dd_dp_;  // sum of squared residuals
      if (residual < 0.0f) residual = 0.0f;
      const float variance = residual / float(differences_ - 1);
      const float margin = slope - cfg::kAbsorbSlopeThreshold;
      if (margin * margin * sum_dd2_ >= cfg::kAbsorbSignificanceZ * cfg::kAbsorbSignificanceZ * variance) {
        slope_ = slope;
        not_absorbing_ = margin < 0.0f;
        if (verdicts_ < 0xFFFF) ++verdicts_;
      }
    }  // else: d did not move enough (or too noisy): the previous verdict stands
    sum_dd2_ = 0.0f;
    sum_dd_dp_ = 0.0f;
    sum_dp2_ = 0.0f;
    differences_ = 0;
    cycles_ = 0;
  }

  float previous_applied_ = 0.0f, previous_import_ = 0.0f;
  float sum_dd2_ = 0.0f, sum_dd_dp_ = 0.0f, sum_dp2_ = 0.0f;
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

class Ch2Ratio {
 public:
  constexpr explicit Ch2Ratio(const Ch2Params& params = kDefaultCh2Params) : p_(params) {}

  // The rule, from averages over a window (see the top of this file): the VO2 that takes the
  // measured excess, sheds an import or gives the surplus back to channel 1. ch1_full_all: channel
  // 1 saturated or drawing nothing all window; ch1_absorbing_all: judged absorbing all window.
  uint8_t propose(float export_avg_watts, float ch1_demand_avg_watts, bool ch1_full_all,
                  bool ch1_absorbing_all = true) const {
    const float percent_per_watt = 100.0f / p_.ch2_watts;
    float change = 0.0f;
    if (export_avg_watts < 0.0f) {
      change = export_avg_watts * percent_per_watt;  // import: remove it all at once
    } else if (ch1_full_all) {
      change = cfg::kCh2Gain * export_avg_watts * percent_per_watt;
    } else if (vo2_ > 0 && ch1_absorbing_all &&
               fabsf(export_avg_watts - p_.export_target_watts) <= cfg::kCh2GiveBackBandWatts) {
      const float headroom = p_.heater_watts - ch1_demand_avg_watts;
      change = -cfg::kCh2Gain * (headroom > 0.0f ? headroom : 0.0f) * percent_per_watt;
    }
    float next = float(vo2_) + change;
    if (next < 0.0f) next = 0.0f;
    if (next > float(cfg::kVo2Max)) next = float(cfg::kVo2Max);
    return uint8_t(next + 0.5f);  // 0..100: rounds half up, as lroundf
  }
  // Applies the rule at once (unit tests of the rule; the firmware goes through add_cycle/commit).
  uint8_t update(float export_avg_watts, float ch1_demand_avg_watts, bool ch1_full_all,
                 bool ch1_absorbing_all = true) {
    proposal_ = propose(export_avg_watts, ch1_demand_avg_watts, ch1_full_all, ch1_absorbing_all);
    return commit();
  }

  // Per valid mains cycle: the export measured, channel 1's demand (the regulator's) and the power
  // commanded to it over the cycle (what it drew, if it absorbs). Every window_cycles the window's
  // averages make the next proposal, but only once the last change of VO2 has shown in the
  // measurements: until then the export still shows the old VO2, and counting it again would
  // overshoot. A change of VO2 moves the power left to channel 1 and the grid, "spare" = export +
  // channel-1 power of the same cycle (counted only while channel 1 absorbs: an open thermostat
  // draws nothing), by -change x ch2_W. It has shown when a window's spare moved at least half of
  // that and agrees with the window before (the client's answer is complete), both windows having
  // the channel-1 verdict the change was made with; until the answer starts, the reference spare
  // follows the windows (the surplus may change meanwhile). A client that never answers (offline,
  // its load's thermostat open) is taken to have after a timeout: VO2 then climbs on, as it must.
  void add_cycle(float export_watts, float ch1_demand_watts, float ch1_applied_watts, bool ch1_full,
                 bool ch1_absorbing) {
    if (waiting_ && ++cycles_waited_ >= timeout_cycles_) waiting_ = false;
    if (w_.cycles == 0) {
      w_.full_all = w_.absorbing_all = true;
      w_.export_min = w_.export_max = export_watts;
    }
    ++w_.cycles;
    if (export_watts < w_.export_min) w_.export_min = export_watts;
    if (export_watts > w_.export_max) w_.export_max = export_watts;
    w_.export_watts += export_watts;
    w_.demand_watts += ch1_demand_watts;
    w_.spare_watts += export_watts + (ch1_absorbing ? ch1_applied_watts : 0.0f);
    w_.full_all = w_.full_all && ch1_full;
    w_.absorbing_all = w_.absorbing_all && ch1_absorbing;
    w_.absorbing_any = w_.absorbing_any || ch1_absorbing;
    if (w_.cycles < cfg::kVo2WindowCycles) return;
    const float n = float(w_.cycles);
    const float spare = w_.spare_watts / n;
    const bool same_verdict = ch1_idle_at_change_ ? !w_.absorbing_any : w_.absorbing_all;
    if (waiting_ && have_previous_spare_ && same_verdict) {
      const float moved = (spare - spare_before_change_) / expected_spare_change_;
      const float agreement = 0.25f * fabsf(expected_spare_change_) + cfg::kCh2SettleNoiseWatts;
      if (moved >= 0.5f && fabsf(spare - previous_spare_) <= agreement) waiting_ = false;  // it shows
      // No sign of the answer yet, or a move the other way (the surplus itself changed, maybe
      // within the window behind the change): the reference follows.
      else if (moved < 0.25f) spare_before_change_ = spare;
    }
    // A window across a step of the surplus would propose part of it: the next one, all of it.
    const float export_avg = w_.export_watts / n;
    const bool steady = w_.export_max - w_.export_min <= cfg::kVo2SteadyBandWatts + 0.1f * fabsf(export_avg);
    if (!waiting_ && steady) {
      proposal_ = propose(export_avg, w_.demand_watts / n, w_.full_all, w_.absorbing_all);
      proposal_spare_ = spare;
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
      expected_spare_change_ = -(float(proposal_) - float(vo2_)) * p_.ch2_watts / 100.0f;
      spare_before_change_ = proposal_spare_;
      ch1_idle_at_change_ = proposal_ch1_idle_;
      timeout_cycles_ = step(proposal_) >= cfg::kVo2UrgentStep ? cfg::kCh2LargeChangeTimeoutCycles
                                                          : cfg::kCh2SmallChangeTimeoutCycles;
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
  // The persistent settings (settings.h) changed.
  void set_ratings(float ch2_watts, float heater_watts, float export_target_watts) {
    p_.ch2_watts = ch2_watts;
    p_.heater_watts = heater_watts;
    p_.export_target_watts = export_target_watts;
  }

 private:
  struct Window {
    uint8_t cycles;
    bool full_all, absorbing_all, absorbing_any;
    float export_watts, demand_watts, spare_watts, export_min, export_max;
  };
  uint8_t step(uint8_t to) const { return to > vo2_ ? to - vo2_ : vo2_ - to; }

  Ch2Params p_;
  Window w_ = Window();
  uint8_t vo2_ = 0;
  uint8_t proposal_ = 0;
  float proposal_spare_ = 0.0f;        // spare of the window behind the proposal
  float spare_before_change_ = 0.0f;   // ... of the change sent last
  float expected_spare_change_ = 0.0f;
  float previous_spare_ = 0.0f;
  bool have_previous_spare_ = false;  // the window before, with the verdict of the change
  bool proposal_ch1_idle_ = false;  // channel 1 judged not absorbing over the window behind the proposal
  bool ch1_idle_at_change_ = false;  // ... behind the change sent last
  bool waiting_ = false;
  uint8_t cycles_waited_ = 0, timeout_cycles_ = 0;
};
