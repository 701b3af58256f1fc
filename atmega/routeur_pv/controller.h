// loop()-side orchestration, hardware-free: per mains cycle it turns the ISR's sums into a
// measurement, runs the channel-1 regulator, computes the firing delay for the next half-cycles,
// accumulates the frame averages and, once per second, builds the frame with the latest VO2 (earlier
// when VO2 must move fast: see Ch2Ratio).
// It also feeds the channel-1 absorption detector (regulator.h) with the power commanded over each
// cycle and the import measured, and probes an idle channel 1 judged "not absorbing".
// Energy: per cycle, the grid's import or export and channel 1's delivered power (the fraction fired
// times the full power its gate edges measured: 0 with the thermostat open) go into cumulative
// counters sent in every frame.
#pragma once
#include <stdint.h>
#include "command.h"
#include "config.h"
#include "cycle_sums.h"
#include "energy_counter.h"
#include "frame.h"
#include "phase_curve.h"
#include "power_meter.h"
#include "regulator.h"
#include "settings.h"

enum StatusBits : uint8_t {
  kStatusNoMains = 1,
  kStatusNoZeroCross = 2,
  kStatusAdcClipped = 4,
  kStatusCh1Saturated = 8,
  kStatusWatchdogReset = 16,
  kStatusSettingsDefault = 32,  // the EEPROM held no valid settings: config.h's are in force
};

struct GateCommand {
  bool fire;
  uint16_t delay_ticks;  // from the zero crossing; meaningful when fire
};

// Delay for a power fraction, clamped so the pulse never straddles the next crossing.
inline uint16_t clamp_delay_ticks(uint16_t delay, uint16_t half_period_ticks) {
  const uint16_t latest = uint16_t(half_period_ticks - cfg::kGatePulseTicks - cfg::kEndMarginTicks);
  if (delay < cfg::kMinDelayTicks) return cfg::kMinDelayTicks;
  return delay > latest ? latest : delay;
}

#ifdef PV_DIAGNOSTICS
void add_diagnostics(FrameBuilder& frame);
#endif

class RouterController {
 public:
  // All zeros until begin(): the sketch's static controller is then zero-initialized (.bss), with
  // neither start-up code nor an initial image in flash. begin() comes first.
  constexpr RouterController() : ch1_(RegulatorParams()), ch2_(Ch2Params()) {}

  void set_watchdog_reset(bool was_watchdog_reset) { watchdog_reset_ = was_watchdog_reset; }
  // At start-up: the settings read from the EEPROM (from_eeprom), or the defaults.
  void begin(const Settings& settings, bool from_eeprom) {
    apply_settings(settings);
    settings_default_ = !from_eeprom;
    voltage_offset_scaled_ = cfg::kAdcBiasScaled;
    half_period_ticks_ = uint16_t(cfg::kTicksPerSecond / cfg::kCyclesPerFrame50Hz / 2);
    cycles_per_frame_ = cfg::kCyclesPerFrame50Hz;
  }
  // The UART still sends the last frame from its buffer: the next one waits (an early frame
  // may come before a long frame is out at 60 Hz).
  void set_tx_busy(bool busy) { tx_busy_ = busy; }
  // A byte from the gateway (RX): a complete command applies from the next cycle; new settings
  // once stored (poll_settings()). A change (not a renewal) goes out in an early frame.
  void on_rx_byte(uint8_t c) {
    if (!commands_.feed(c)) return;  // a refused line counts in the parser
    const CommandLine& line = commands_.line();
    const Ch1Mode mode = lease_.mode();
    const uint8_t percent = lease_.boost_percent();
    const bool ok = (line.present & kSettingKeysMask) ? start_settings_write(line) : lease_.apply(line);
    if (ok && !(line.present & kSettingKeysMask)) ++accepted_;
    if (!ok) ++refused_;
    if (lease_.mode() != mode || lease_.boost_percent() != percent) news_ = true;
  }

  // Every loop() pass: the settings write under way, one EEPROM byte at a time.
  template <class Eeprom>
  void poll_settings() {
    const SettingsWrite result = writer_.poll<Eeprom>();
    if (result == kWriteStored) {
      apply_settings(writer_.block().settings);
      settings_default_ = false;
      ++accepted_;
      news_ = true;
    } else if (result == kWriteFailed) {
      ++refused_;
    }
  }

  // Builds a frame in `frame` when one is due (frame_ready()): the sketch's own static buffer.
  GateCommand on_cycle(const CycleSums& sums, FrameBuilder& frame) {
    const CycleMeasurement m = measure_cycle(sums, calibration_);
    if (sums.pairs >= kMinPairsForOffset) voltage_offset_scaled_ = m.voltage_offset_scaled;

    uint8_t status = 0;
    if (m.vrms < cfg::kMainsPresentVrms) status |= kStatusNoMains;
    else if (sums.flags & kCycleNoCrossing) status |= kStatusNoZeroCross;
    if (sums.flags & kCycleClipped) status |= kStatusAdcClipped;

    const bool period_ok = sums.period_ticks >= cfg::kMinPeriodTicks && sums.period_ticks <= cfg::kMaxPeriodTicks;
    if (period_ok) half_period_ticks_ = uint16_t(sums.period_ticks / 2);

    // The command computed after cycle k-1 fires from the second half of cycle k: this cycle
    // carried half of the one before it and half of the last one.
    const float ch1_applied_watts = 0.5f * (commanded_watts_[0] + commanded_watts_[1]);
    if (status == 0) absorption_.add(ch1_applied_watts, m.import_watts);
    else absorption_.skip();

    lease_.on_cycle(sums.period_ticks);
    const Ch1Mode mode = lease_.mode();
    // A boost or a stop overrides the regulator, which starts again from 0 when the lease ends.
    if ((status & (kStatusNoMains | kStatusNoZeroCross)) || mode != kModeAuto) ch1_.reset();
    // Clipped, or the gate could not fire (the crossing tracker settling after a (re)lock): the
    // cycle says nothing of the demand, and integrating it would wind the demand up (an import
    // burst when firing starts).
    else if ((status & kStatusAdcClipped) || (sums.flags & kCycleTrackerSettling)) ch1_.hold_off();
    // A heater judged drawing nothing (thermostat open) unwinds while channel 2 holds the export on
    // its target (the probe tries it again now and then), and stays wound up while an export is
    // left (channel 2 full): it takes it at once when its thermostat closes.
    else ch1_.update(absorption_.absorbing() ? -m.import_watts : -m.import_watts - ch1_.params().export_target_watts,
                     ch1_applied_watts);

    if (probe_cycles_ < cfg::kCh1ProbeIntervalCycles) ++probe_cycles_;
    if (mode == kModeAuto && status == 0 && !absorption_.absorbing() && ch2_.value() > 0 && m.import_watts <= 0.0f &&
        ch1_.demand_watts() < cfg::kCh1ProbeWatts && probe_cycles_ >= cfg::kCh1ProbeIntervalCycles) {
      ch1_.probe(cfg::kCh1ProbeWatts);  // a closed thermostat would now show in the import
      probe_cycles_ = 0;
    }

    GateCommand command = {false, half_period_ticks_};
    // Boost: the asked share of the heater's rating, surplus or not; never without mains or crossing.
    const float fraction = mode == kModeBoost ? float(lease_.boost_percent()) * 0.01f
                           : ch1_.firing()   ? ch1_.fired_fraction()
                                             : 0.0f;
    ch1_fraction_ = 0.0f;
    if (fraction > 0.0f && period_ok && status == 0) {
      ch1_fraction_ = fraction;
      const uint16_t fraction_q16 = uint16_t(fraction >= 1.0f ? phase::kFullFraction
                                                               : fraction * float(phase::kFullFraction) + 0.5f);
      command.fire = true;
      command.delay_ticks = clamp_delay_ticks(phase::fraction_to_delay_ticks(fraction_q16, half_period_ticks_),
                                              half_period_ticks_);
    }

    commanded_watts_[0] = commanded_watts_[1];
    commanded_watts_[1] = ch1_fraction_ * ch1_.params().heater_watts;

    // No edge recorded: the gate did not fire this cycle, whatever was commanded.
    if (m.ch1_measured) ch1_full_watts_ = m.ch1_full_watts;
    const float ch1_delivered_watts =
        sums.edge_count > 0 ? ch1_applied_watts / ch1_.params().heater_watts * ch1_full_watts_ : 0.0f;
    count_energy(sums, m, ch1_delivered_watts);

    accumulate(sums, m, status, command, period_ok, ch1_delivered_watts);
    if (status == 0) {
      // Channel 1 "full" as this cycle measured it: the power applied over it, not the demand
      // computed after it (while channel 1 ramps up, the export still shows the ramp).
      // Boosted or stopped, channel 1 takes nothing more: what the house exports is channel 2's.
      const bool ch1_full = mode != kModeAuto || ch1_.is_full_power(ch1_applied_watts) || !absorption_.absorbing();
      ch2_.add_cycle(-m.import_watts, ch1_applied_watts, ch1_full, absorption_.absorbing());
    } else {
      ch2_.skip_cycle();
    }
    if (!tx_busy_) {
      if (averages_.cycles >= cycles_per_frame_ || (news_ && averages_.cycles >= cfg::kMinFrameGapCycles))
        finish_frame(frame, true);
      else if (ch2_.urgent())
        finish_frame(frame, false);
    }
    return command;
  }

  uint16_t voltage_offset_scaled() const { return voltage_offset_scaled_; }
  bool frame_ready() const { return frame_ready_; }
  void frame_taken() { frame_ready_ = false; }
  const Ch1Regulator& ch1() const { return ch1_; }
  // The share of channel 1's rating commanded after the last cycle (0 when it does not fire).
  float ch1_fraction() const { return ch1_fraction_; }
  const Ch1Lease& lease() const { return lease_; }
  const Settings& settings() const { return settings_; }
  bool settings_default() const { return settings_default_; }
  uint16_t commands_accepted() const { return accepted_; }
  uint16_t commands_refused() const { return uint16_t(commands_.rejected() + refused_); }
  const CommandParser& commands() const { return commands_; }
  const AbsorptionDetector& absorption() const { return absorption_; }
  uint8_t vo2() const { return ch2_.value(); }
  const EnergyCounter& import_energy() const { return import_energy_; }
  const EnergyCounter& export_energy() const { return export_energy_; }
  const EnergyCounter& ch1_energy() const { return ch1_energy_; }

 private:
  static constexpr uint16_t kMinPairsForOffset = 100;

  struct FrameAverages {
    uint8_t cycles;
    uint8_t frequency_cycles;
    bool saturated_all;
    bool not_absorbing_all;  // judged drawing nothing in every (valid) cycle of the frame
    uint8_t status;
    float demand_watts, export_watts, routed_percent, vrms, ch1_watts;
    uint32_t delay_ticks, period_ticks;  // sums in integers: no float division per cycle
    // Over the whole cycles only (both ends measured crossings): a partial cycle at start-up or
    // after a cut would bias the means of v^2 and v*i.
    float export_watts_whole, vrms_whole;
  };

  void apply_settings(const Settings& s) {
    settings_ = s;
    settings_crc_ = settings_block(s).crc;
    const float heater_watts = float(s.value[kSettingHeater]);
    const float export_target_watts = float(s.value[kSettingExport]);
    ch1_.set_ratings(heater_watts, export_target_watts);
    ch2_.set_ratings(s.value[kSettingCh2], s.value[kSettingHeater], s.value[kSettingExport]);
    ch1_full_watts_ = heater_watts;  // until the gate edges measure it
    calibration_.volts_per_count = (cfg::kMvPerCount * 100.0f) / float(s.value[kSettingVoltageCal]);
    calibration_.amps_per_count = (cfg::kMvPerCount * 10.0f) / float(s.value[kSettingCurrentCal]);
  }

  // New settings from an accepted line: the ones in force with the line's values, if valid as a
  // whole and no other write is under way. A settings line carries nothing else.
  bool start_settings_write(const CommandLine& line) {
    if ((line.present & ~kSettingKeysMask) || writer_.busy()) return false;
    Settings next = settings_;
    for (uint8_t k = 0; k < kSettingCount; ++k)
      if (line.has(CommandKey(kFirstSettingKey + k))) next.value[k] = line.value[kFirstSettingKey + k];
    if (!settings_valid(next)) return false;
    writer_.start(next);
    return true;
  }

  // Every pair belongs to one cycle (or fixed window): pairs x 104 us add up to the elapsed time.
  void count_energy(const CycleSums& sums, const CycleMeasurement& m, float ch1_delivered_watts) {
    const float seconds = float(sums.pairs) * (float(cfg::kTicksPerPair) / float(cfg::kTicksPerSecond));
    if (m.import_watts >= 0.0f) import_energy_.add(m.import_watts, seconds);
    else export_energy_.add(-m.import_watts, seconds);
    ch1_energy_.add(ch1_delivered_watts, seconds);
  }

  void accumulate(const CycleSums& sums, const CycleMeasurement& m, uint8_t status,
                  const GateCommand& command, bool period_ok, float ch1_delivered_watts) {
    FrameAverages& a = averages_;
    const bool first = a.cycles == 0;
    ++a.cycles;
    a.status |= status;
    a.saturated_all = (first || a.saturated_all) && ch1_.saturated() && status == 0;
    a.not_absorbing_all = (first || a.not_absorbing_all) && !absorption_.absorbing() && status == 0;
    a.demand_watts += ch1_.demand_watts();
    a.export_watts += -m.import_watts;
    a.routed_percent += (lease_.mode() == kModeAuto ? ch1_.fired_fraction() : ch1_fraction_) * 100.0f;
    a.ch1_watts += ch1_delivered_watts;
    a.delay_ticks += command.delay_ticks;
    a.vrms += m.vrms;
    last_pairs_ = sums.pairs;
    if (period_ok) {
      ++a.frequency_cycles;
      a.export_watts_whole += -m.import_watts;
      a.vrms_whole += m.vrms;
      a.period_ticks += sums.period_ticks;
      cycles_per_frame_ = sums.period_ticks <= cfg::kTicksPerSecond / cfg::kMainsHzSplit ? cfg::kCyclesPerFrame60Hz
                                                                                      : cfg::kCyclesPerFrame50Hz;
    } else if (status & (kStatusNoMains | kStatusNoZeroCross)) {
      cycles_per_frame_ = cfg::kCyclesPerFrame50Hz;  // fixed ~20 ms windows: 1 s
    }
    if (++uptime_cycles_ == 0) uptime_cycles_ = 0xFFFF;
  }

  // whole: the regular frame (every field, the averages since the last one, which start again);
  // else a large move of VO2 at once in a frame of its own, VO2 and PO2 only: ~25 characters (26 ms
  // at 9600 baud) where a whole frame takes ~0.19 s, each round trip of channel 2 that much shorter.
  // The regular frames keep their period and averages. The seed's gateway takes the keys a frame
  // has and keeps the others; ours reads such a frame as channel 2's alone.
  __attribute__((noinline)) void finish_frame(FrameBuilder& frame, bool whole) {
    FrameAverages& a = averages_;
    const float n = float(a.cycles);
    const float whole_cycles = float(a.frequency_cycles);
    frame.begin();
    const uint8_t vo2 = ch2_.commit();
    if (whole) {
      const float export_avg = whole_cycles > 0.0f ? a.export_watts_whole / whole_cycles : a.export_watts / n;
      frame.add_fixed("EIB", to_fixed(a.demand_watts / n / ch1_.params().heater_watts * cfg::kBucketCapacityJoules, 2), 2);
      frame.add_fixed("REE", to_fixed(export_avg, 2), 2);
      // MPC is 1 % of HTR: in hundredths of a watt, HTR itself, no float on the way.
      static_assert(cfg::kMinFiredFraction == 0.01f, "MPC below is HTR / 100");
      frame.add_fixed("MPC", settings_.value[kSettingHeater], 2);
      frame.add_fixed("POR", to_fixed(a.routed_percent / n, 2), 2);
      constexpr uint32_t kTicksPerUs = cfg::kTicksPerSecond / 1000000UL;
      frame.add_integer("FID", int32_t((a.delay_ticks + a.cycles * kTicksPerUs / 2) / (a.cycles * kTicksPerUs)));
      frame.add_integer("SPL", last_pairs_);
    }
    frame.add_integer("VO2", vo2);
    if (!whole) {
      add_po2(frame);
    } else {
      uint8_t status = a.status;
      // Channel 1 at full power or drawing nothing (thermostat open) all along.
      if (a.saturated_all || a.not_absorbing_all) status |= kStatusCh1Saturated;
      // Uptime in cycles, not frames: frames may come early.
      if (settings_default_) status |= kStatusSettingsDefault;
      if (watchdog_reset_ && uptime_cycles_ < uint16_t(cfg::kWatchdogResetFlagSeconds * cycles_per_frame_))
        status |= kStatusWatchdogReset;
      const float vrms_avg = whole_cycles > 0.0f ? a.vrms_whole / whole_cycles : a.vrms / n;
      frame.add_fixed("FRQ", a.frequency_cycles ? to_fixed(whole_cycles * float(cfg::kTicksPerSecond) / float(a.period_ticks), 2) : 0, 2);
      frame.add_fixed("VRM", to_fixed(vrms_avg, 1), 1);
      frame.add_integer("STA", status);
      const float ch1_watts = a.ch1_watts / n;
      frame.add_fixed("PW1", to_fixed(ch1_watts > 0.0f ? ch1_watts : 0.0f, 1), 1);
      frame.add_fixed("WHI", int32_t(import_energy_.centi_wh()), 2);
      frame.add_fixed("WHE", int32_t(export_energy_.centi_wh()), 2);
      frame.add_fixed("WH1", int32_t(ch1_energy_.centi_wh()), 2);
      // The gateway's commands (command.h): what is in force, for how long, how many were taken and
      // refused, the settings' checksum and one setting per frame, in turn; and VO2 in watts of the
      // full scale DIM the gateway set, what its loads share (pv_loads), each turning its share into
      // its own level. Only once a command line came in on RX: without the return line, frames are as
      // before (every byte more delays the client's VO2).
      const uint16_t refused = commands_refused();
      if (accepted_ != 0 || refused != 0) {
        add_po2(frame);
        frame.add_integer("MOD", lease_.mode());
        frame.add_integer("LSR", lease_.remaining_seconds());
        frame.add_integer("CAC", accepted_);
        frame.add_integer("CRJ", refused);
        frame.add_integer("SCS", settings_crc_);
        frame.add_integer(kCommandKeyNames[kFirstSettingKey + report_setting_], settings_.value[report_setting_]);
        if (++report_setting_ == kSettingCount) report_setting_ = 0;
      }
#ifdef PV_DIAGNOSTICS
      add_diagnostics(frame);  // defined by the sketch: extra keys, ignored by the gateway
#endif
      news_ = false;
      averages_ = FrameAverages();
    }
    frame.finish();
    frame_ready_ = true;
  }

  // VO2 in watts of the full scale DIM: what the gateway's loads share (pv_loads).
  __attribute__((noinline)) void add_po2(FrameBuilder& frame) {
    frame.add_integer("PO2", int32_t(uint32_t(ch2_.value()) * uint16_t(settings_.value[kSettingCh2]) / 100u));
  }

  Ch1Regulator ch1_;
  Ch2Ratio ch2_;
  CommandParser commands_;
  Ch1Lease lease_;
  Settings settings_ = Settings();
  SettingsWriter writer_;
  Calibration calibration_ = Calibration();
  uint16_t accepted_ = 0;  // command lines (settings: once stored)
  uint16_t refused_ = 0;   // well-formed lines that meant nothing valid, failed writes
  uint8_t settings_crc_ = 0;  // from begin()
  uint8_t report_setting_ = 0;  // the setting the next frame carries
  bool settings_default_ = false;
  float ch1_fraction_ = 0.0f;
  AbsorptionDetector absorption_;
  float commanded_watts_[2] = {0.0f, 0.0f};  // channel-1 power commanded after cycles k-2, k-1
  float ch1_full_watts_ = 0.0f;  // as last measured at the gate edges
  EnergyCounter import_energy_, export_energy_, ch1_energy_;
  uint16_t probe_cycles_ = 0;                // cycles since the last absorption probe
  FrameAverages averages_ = FrameAverages();
  uint16_t voltage_offset_scaled_ = 0;
  uint16_t half_period_ticks_ = 0;
  uint16_t last_pairs_ = 0;
  uint16_t uptime_cycles_ = 0;  // saturates
  uint8_t cycles_per_frame_ = 0;
  bool frame_ready_ = false;
  bool watchdog_reset_ = false;
  bool tx_busy_ = false;
  bool news_ = false;  // a command changed what is in force: the next frame goes out early
};
