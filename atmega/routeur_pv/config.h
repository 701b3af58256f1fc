// The ONE configuration header of the ATmega328P router firmware.
// Every pin, calibration, rating and timing constant lives here; the block of
// static_asserts at the end checks that they are consistent with each other.
// Pure C++11 (no Arduino, no avr-libc): the native unit tests include it too.
#pragma once
#include <stdint.h>

namespace cfg {

// ---------------------------------------------------------------- clocks, ADC
constexpr uint32_t kCpuHz = 16000000UL;
constexpr uint8_t kTimer1Prescaler = 8;  // Timer1 normal mode, free running: 0.5 us per tick
constexpr uint32_t kTicksPerSecond = kCpuHz / kTimer1Prescaler;
constexpr uint32_t kTicksPerMillisecond = kTicksPerSecond / 1000UL;
constexpr uint8_t kAdcPrescaler = 64;  // 250 kHz ADC clock: 52 us per conversion
constexpr uint8_t kAdcClocksPerConversion = 13;
constexpr uint16_t kCpuCyclesPerConversion = uint16_t(kAdcPrescaler) * kAdcClocksPerConversion;  // 832
constexpr uint16_t kTicksPerConversion = kCpuCyclesPerConversion / kTimer1Prescaler;               // 104
constexpr uint16_t kTicksPerPair = 2 * kTicksPerConversion;  // one V and one I conversion: 104 us
// The sample-and-hold closes 1.5 ADC clocks after a conversion starts (datasheet table 24-1).
constexpr uint16_t kSampleHoldTicks = (uint16_t(kAdcPrescaler) * 3 / 2) / kTimer1Prescaler;  // 12
// Conversions per window of the sampling-drift check (see acquisition.h).
constexpr uint8_t kDriftWindowConversions = 16;
// Cycles from the ADIF flag rising to the TCNT1 read in the start-up busy-wait (poll loop + read).
constexpr uint16_t kAlignPollLatencyTicks = 1;

// ---------------------------------------------------------------- pins
constexpr uint8_t kVoltageAdcMux = 3;           // A3: mains voltage transformer
constexpr uint8_t kCurrentAdcMux = 5;           // A5: grid current transformer (CT)
constexpr uint8_t kGateCh1PortDBit = 2;         // D2 = PD2: channel-1 random-fire SSR, active HIGH
constexpr uint8_t kCh2ReservedPortDBit = 4;     // D4 = PD4: reserved second SSR, kept LOW
constexpr uint32_t kSerialBaud = 9600;          // to the ESP8266 gateway, 8N1

// ---------------------------------------------------------------- analog front end
constexpr uint16_t kAdcMaxCount = 1023;         // 0 and 1023 are clipped samples
constexpr float kAdcReferenceMv = 5000.0f;      // AVcc
constexpr float kVoltageMvPerVolt = 5.0f;       // mV at the pin per volt of mains
constexpr float kCurrentMvPerAmp = 40.0f;       // mV at the pin per ampere of grid current
constexpr float kMvPerCount = kAdcReferenceMv / kAdcMaxCount;
constexpr float kVoltsPerCount = kMvPerCount / kVoltageMvPerVolt;
constexpr float kAmpsPerCount = kMvPerCount / kCurrentMvPerAmp;
constexpr float kWattsPerCount2 = kVoltsPerCount * kAmpsPerCount;
// The ISR keeps the voltage in counts x 4 (2 fractional bits) for the zero-crossing interpolation.
constexpr uint8_t kVoltageFracBits = 2;
constexpr int16_t kVoltageScale = 1 << kVoltageFracBits;
constexpr uint16_t kAdcBiasScaled = 2046;       // 511.5 counts x 4: the 2.5 V bias, until measured

// ---------------------------------------------------------------- mains, zero crossing
constexpr uint8_t kMinMainsHz = 45;
constexpr uint8_t kMaxMainsHz = 65;
constexpr uint8_t kMainsHzSplit = 55;           // below: 50 Hz grid, above: 60 Hz grid
constexpr uint8_t kCyclesPerFrame50Hz = 50;
constexpr uint8_t kCyclesPerFrame60Hz = 60;
constexpr uint16_t kMinPeriodTicks = kTicksPerSecond / kMaxMainsHz;        // 30769
constexpr uint16_t kMaxPeriodTicks = kTicksPerSecond / kMinMainsHz;        // 44444
constexpr uint16_t kMinHalfPeriodTicks = kMinPeriodTicks / 2;
constexpr uint16_t kMaxHalfPeriodTicks = kMaxPeriodTicks / 2;
// A crossing is accepted ~40..60 % of a period after the previous one of the other sign:
// within +-3/16 (18.75 %) of the expected half-period (sixteenths: shifts only in the ISR).
constexpr uint8_t kHalfWindowTolerance16ths = 3;
// Hysteresis: a positive-going crossing only counts after the voltage was below -kZcArmVolts
// since the last crossing (and the opposite for a negative-going one); rejects noise at zero.
constexpr float kZcArmVolts = 40.0f;
constexpr int16_t kZcArmScaled = int16_t(kZcArmVolts / kVoltsPerCount * kVoltageScale + 0.5f);
constexpr uint8_t kMaxMissedHalfCycles = 2;     // then: lost, gate off, nothing scheduled
// Crossing tracker (alpha-beta phase-locked filter, zero_cross.h): the gate is timed from a
// filtered crossing, not from one two-sample interpolation (ADC noise: ~5 us RMS per crossing).
// Per half-cycle: predicted = crossing + half-period; innovation e = measured - predicted;
// crossing = predicted + e / 2^kZcPhaseGainShift; half-period += e / 2^kZcPeriodGainShift.
constexpr uint8_t kZcPhaseGainShift = 2;        // alpha = 1/4
constexpr uint8_t kZcPeriodGainShift = 5;       // beta = 1/32 (~critically damped with alpha 1/4)
// While settling after a (re)lock (the seed half-period is one raw difference): alpha 1/2, beta 1/8.
constexpr uint8_t kZcPhaseGainShiftSettling = 1;
constexpr uint8_t kZcPeriodGainShiftSettling = 3;
// A measurement farther than this from the prediction is an outlier: that half-cycle is not fired
// and the prediction is kept; a second one in a row re-seeds the tracker (not stable, gate off,
// until kZcStableCrossings good crossings). Threshold = 8 x the running mean |innovation|,
// within [min, max] (Timer1 ticks).
constexpr uint16_t kZcOutlierMinTicks = 64;     // 32 us: > 6 sigma of a 0.5 LSB RMS ADC noise
constexpr uint16_t kZcOutlierMaxTicks = 240;    // 120 us
constexpr uint8_t kZcMaxOutliers = 2;           // in a row: re-seed
constexpr uint8_t kZcStableCrossings = 8;       // good crossings after a (re)lock before firing
constexpr float kMainsPresentVrms = 60.0f;      // below: NO_MAINS
// While no valid crossing exists, "cycles" are fixed windows of this many pairs (~20 ms),
// so that frames keep a 1 s cadence (50 windows).
constexpr uint16_t kUnlockedWindowPairs = 192;
constexpr uint16_t kMaxCyclePairs = 255;        // a cycle is forced to end after this many pairs

// ---------------------------------------------------------------- channel 1 (gate)
constexpr float kCh1HeaterWatts = 2000.0f;      // resistive heater behind the SSR on D2
constexpr float kMinFiredFraction = 0.01f;      // smallest power fraction fired (sets MPC)
constexpr float kMinRoutableWatts = kCh1HeaterWatts * kMinFiredFraction;  // MPC: 20 W
constexpr uint16_t kGatePulseTicks = 200 * 2;   // 200 us gate pulse
// Earliest gate edge after the zero crossing. Must exceed the worst crossing detection
// latency (one V-sample spacing + the conversion + one more conversion, + one pair for the
// crossing tracker, the gate being re-armed from that ISR, + the ISRs) so that every pulse is
// timed from the measured crossing;
// at 450 us (46 V at 50 Hz) 99.94 % of the power is still available (99.9 % at 60 Hz).
constexpr uint16_t kMinDelayTicks = 450 * 2;
constexpr uint16_t kEndMarginTicks = 300 * 2;   // gate LOW this long before the next crossing
// Cycles from the Timer1 compare match to the port write in the compare ISR (measured on the
// disassembly: vector jump + prologue): the compare is scheduled this much earlier.
constexpr uint16_t kGateIsrLatencyTicks = 3;
constexpr uint16_t kScheduleMinLeadTicks = 16;  // a compare closer than this is never armed
constexpr uint16_t kScheduleMaxLeadTicks = 46000; // farther: treated as already in the past
// After a clipped sample, firing stays inhibited for the rest of that cycle and the next one.
constexpr uint8_t kClipInhibitCycles = 1;
// loop() renews the gate command every mains cycle (2 half-cycles). If it stops (a hang), the
// ISRs stop firing after this many half-cycles, long before the watchdog resets the chip.
constexpr uint8_t kCommandTtlHalfCycles = 6;

// ---------------------------------------------------------------- regulator (channel 1)
constexpr float kRegulatorGain = 0.5f;          // demand_W += gain * (export_W - target_W) per cycle
constexpr float kExportTargetWatts = 5.0f;      // small export kept on purpose: no router import
constexpr float kBucketCapacityJoules = 1000.0f;// EIB = demand / heater * capacity
constexpr float kSaturatedFraction = 0.98f;     // demand >= 98 % of heater: channel 1 saturated

// ---------------------------------------------------------------- channel 2 ratio (VO2)
constexpr float kCh2Watts = 1000.0f;            // rating of the Wi-Fi channel-2 load
// Share of a large excess a step takes once channel 2's watts are measured (15/16: an answer measures
// them to a few percent; 7/8 left a third round trip for the last points of a 50-point step).
constexpr uint8_t kCh2GainSixteenths = 15;
constexpr uint8_t kVo2Max = 100;
// With channel 1 below full, channel 2 gives it back at most this much per change, at once what
// keeps channel 1 above heater >> kCh1FloorShift: channel 1 takes the surplus's passing dips and
// the rises after them. Two falls of the surplus of kCh2FallWatts or more in a row (no rise
// between: the evening) raise that floor to the last fall.
constexpr int16_t kCh2GiveBackWatts = 20;
constexpr uint8_t kCh1FloorShift = 4;
constexpr int16_t kCh2FallWatts = 250;
// VO2 is proposed from the export averaged over a window of cycles, once the last VO2 sent has
// shown in the measurements (see Ch2Ratio): its frame's transmission (~0.11 s at 9600 baud), the
// gateway, the network and the client take ~0.2 s on hardware, ~0.45 s in the simulated chain, and
// up to ~1.2 s with a legacy client polling the gateway every second.
constexpr uint8_t kVo2WindowCycles = 5;                // 0.1 s at 50 Hz
// The client's delay is measured from its answers; until the first one it is taken as 1 s. A
// change is assumed applied after twice the delay (+ two windows), at most kCh2MaxTimeoutCycles.
constexpr uint8_t kCh2InitialResponseCycles = 50;
constexpr uint8_t kCh2MaxTimeoutCycles = 150;          // 3 s at 50 Hz
// Until an answer has measured the watts channel 2 really has, a large step takes only this share
// of the excess (10/16: a load up to 1.6 times its rating then never imports).
constexpr uint8_t kCh2FirstGainSixteenths = 10;
constexpr int16_t kCh2GainMinMoveWatts = 100;          // answers that small do not measure the gain
constexpr int16_t kCh2SettleNoiseWatts = 15;           // window-to-window scatter of the spare power
// A window proposes only if its cycles' spare power spans less than this + 1/8 of its mean (steady).
constexpr int16_t kVo2SteadyBandWatts = 30;
// A proposal that moves VO2 by this many points or more is sent at once, in a frame of channel 2
// alone (VO2, PO2) between the regular ones; smaller moves (the give-back) go with the regular frames.
constexpr uint8_t kVo2UrgentStep = 5;
// A command that changed what is in force goes out in an early whole frame, no sooner than this
// after the last one (every frame also waits while the UART still sends the last one).
constexpr uint8_t kMinFrameGapCycles = 10;  // 0.2 s at 50 Hz, 0.17 s at 60 Hz

// ---------------------------------------------------------------- channel-1 absorption detector
// Does the heater draw what is fired (thermostat closed) or nothing (thermostat open)? Per valid
// cycle: the change of the measured import against the change of the power commanded; least-squares
// slope over a window (1 = absorbing, 0 = draws nothing). See AbsorptionDetector in regulator.h.
constexpr uint8_t kAbsorbWindowCycles = 25;     // one verdict per 0.5 s window at most
constexpr int16_t kAbsorbMinSwingWatts = 120;  // verdict only if sum(delta_d^2) >= this^2
constexpr float kAbsorbSlopeThreshold = 0.5f;   // slope above: absorbing (a heater off by +-50 % too)
constexpr float kAbsorbSignificanceZ = 3.0f;    // a verdict needs the slope this many sigmas off 0.5
constexpr float kAbsorbMaxSlope = 1.5f;         // import change a heater can explain, per W commanded (dd + dd/2)
constexpr int16_t kAbsorbNoiseWatts = 50;        // beyond that +- this: a house change, clipped
// While channel 1 is judged "not absorbing", idle (demand below the probe) and VO2 holds surplus,
// its demand is raised to the probe power once per interval: a closed thermostat then shows up in
// the measured import (a few cycles of <= 200 W import, once); an open one draws nothing.
constexpr float kCh1ProbeWatts = 200.0f;
constexpr uint16_t kCh1ProbeIntervalCycles = 500;  // 10 s at 50 Hz

// ---------------------------------------------------------------- frame, serial, watchdog
// EIB REE MPC POR FID SPL VO2 FRQ VRM STA, PW1, WHI WHE WH1, PO2 MOD LSR CAC CRJ SCS, one setting,
// $crc CR LF (frame.h, controller.h); the test builds' diagnostic keys ISR LAT OVR on top.
constexpr uint8_t kFrameMaxLength =
    12 + 15 + 11 + 11 + 10 + 8 + 8 + 9 + 10 + 10 + 7 + 12 + 3 * 16 + 6 + 7 + 2 * 10 + 8 + 9 + 7;
#ifdef PV_DIAGNOSTICS
constexpr uint8_t kTxBufferSize = kFrameMaxLength + 10 + 10 + 8 + 1;
#else
constexpr uint8_t kTxBufferSize = kFrameMaxLength + 1;  // and the NUL
#endif
// Commands from the gateway on RX (command.h): the longest line taken, and the longest lease a
// boost or a stop may ask (the gateway renews shorter ones while it wants them).
constexpr uint8_t kCommandMaxLineChars = 48;
constexpr uint8_t kMaxLeaseSeconds = 30;

// ---------------------------------------------------------------- persistent settings (EEPROM)
// Set from the gateway (HTR, DIM, EXT, VCL, ICL: settings.h), kept in the EEPROM with a version and
// a CRC. A blank or corrupt EEPROM gives these defaults (the ones above), and STA says so.
// Integers as the commands carry them: W, W, W, 0.01 mV per V, 0.1 mV per A.
constexpr int16_t kDefaultHeaterWatts = int16_t(kCh1HeaterWatts);
constexpr int16_t kDefaultCh2Watts = int16_t(kCh2Watts);
constexpr int16_t kDefaultExportTargetWatts = int16_t(kExportTargetWatts);
constexpr int16_t kDefaultVoltageCal = int16_t(kVoltageMvPerVolt * 100.0f + 0.5f);
constexpr int16_t kDefaultCurrentCal = int16_t(kCurrentMvPerAmp * 10.0f + 0.5f);
// Accepted ranges. The heater must exceed the absorption probe (and give it a verdict: 300 W);
// the export target stays below the smallest routable power (1 % of the heater) and is never
// negative (that would be a deliberate import); calibrations within a factor 2 of the nominal parts.
constexpr int16_t kMinHeaterWatts = 300, kMaxHeaterWatts = 8000;
constexpr int16_t kMinCh2Watts = 50, kMaxCh2Watts = 8000;
constexpr int16_t kMinExportTargetWatts = 0, kMaxExportTargetWatts = 79;
constexpr int16_t kMinVoltageCal = 250, kMaxVoltageCal = 1000;
constexpr int16_t kMinCurrentCal = 100, kMaxCurrentCal = 1600;
constexpr uint8_t kSettingsEepromAddress = 0;
constexpr uint8_t kSettingsVersion = 1;  // bump when the stored layout changes: old blocks read as blank
// The energy counters (hundredths of a Wh) start again from 0 past 10 MWh ("10000000.00").
constexpr uint32_t kEnergyWrapCentiWh = 1000000000UL;
constexpr uint16_t kWatchdogResetFlagSeconds = 60;  // STA WATCHDOG_RESET shown this long after boot
constexpr uint16_t kWatchdogTimeoutMs = 2000;

// ---------------------------------------------------------------- consistency checks
constexpr uint32_t pairsPerCycle(uint32_t hz) { return kTicksPerSecond / hz / kTicksPerPair; }
static_assert(kCpuCyclesPerConversion % kTimer1Prescaler == 0, "sample instants on whole Timer1 ticks");
static_assert(pairsPerCycle(50) >= 150 && pairsPerCycle(60) >= 150, ">= 150 V/I pairs per cycle");
static_assert(pairsPerCycle(kMinMainsHz) <= kMaxCyclePairs, "a 45 Hz cycle fits the pair counter");
static_assert(uint32_t(kMaxPeriodTicks) < 65536UL, "a mains period fits 16-bit tick arithmetic");
static_assert(kTicksPerSecond / kMaxMainsHz == kMinPeriodTicks, "period bounds");
static_assert(kUnlockedWindowPairs <= kMaxCyclePairs, "unlocked window fits the pair counter");
static_assert(kMinDelayTicks > kTicksPerPair + 2 * kTicksPerConversion + kTicksPerPair + 2 * 52 * 2,
              "min delay covers the crossing detection latency (+ the tracker one pair later, + two "
              "ISRs of 52 us at most)");
static_assert(kMinDelayTicks + kGatePulseTicks + kEndMarginTicks < kMinHalfPeriodTicks,
              "pulse + margins fit inside the shortest half-cycle");
static_assert(kGatePulseTicks >= 150 * 2 && kGatePulseTicks <= 200 * 2, "gate pulse 150-200 us");
static_assert(kHalfWindowTolerance16ths >= 2 && kHalfWindowTolerance16ths <= 4, "40-60 % window");
// The farthest compare is armed at a pulse end for the next half-cycle: less than a period ahead.
// A late one (a few ms at most) wraps to near 65536: both stay apart.
static_assert(kMaxPeriodTicks < kScheduleMaxLeadTicks && kScheduleMaxLeadTicks < 65536UL - 8000UL,
              "schedule horizon");
static_assert(kZcPhaseGainShift >= 1 && kZcPhaseGainShift <= 3 && kZcPeriodGainShift > kZcPhaseGainShift &&
              kZcPeriodGainShift <= 8, "tracker gains: 1/8 <= alpha <= 1/2, beta < alpha");
// The tracker's corrections (e x 256 >> shift) are computed in 16 bits: |e| <= kZcOutlierMaxTicks.
static_assert(kZcPhaseGainShiftSettling >= 1 && kZcPhaseGainShiftSettling <= kZcPhaseGainShift &&
              kZcPeriodGainShiftSettling > kZcPhaseGainShiftSettling &&
              kZcPeriodGainShiftSettling <= kZcPeriodGainShift, "settling gains");
static_assert(uint32_t(kZcOutlierMaxTicks) << (8 - kZcPhaseGainShiftSettling) < 32768UL, "16-bit corrections");
static_assert(kZcOutlierMinTicks >= 32 && kZcOutlierMinTicks <= kZcOutlierMaxTicks, "outlier bounds");
static_assert(kZcMaxOutliers >= 2 && kZcStableCrossings >= 3, "tracker re-lock");
static_assert(kZcArmScaled > 0 && kZcArmScaled < 300 * kVoltageScale, "arming threshold");
static_assert(kRegulatorGain > 0.0f && kRegulatorGain < 1.0f, "integral gain: stable for 0 < g < 1");
static_assert(kVo2WindowCycles >= 3 && 2 * kCh2InitialResponseCycles + 2 * kVo2WindowCycles <= kCh2MaxTimeoutCycles,
              "VO2 window and response timeouts");
static_assert(kCh2FirstGainSixteenths > 0 && kCh2FirstGainSixteenths <= kCh2GainSixteenths && kCh2GainSixteenths < 16,
              "channel-2 gains: never overshoot");
// Whole watts in 16 bits: channel 2 measured up to twice its rating, spare = export + heater.
static_assert(2 * int32_t(kMaxCh2Watts) < 32767 && int32_t(kMaxHeaterWatts) * 2 + 2 * int32_t(kMaxCh2Watts) < 32767,
              "channel-2 watts in int16_t");
static_assert(kCh2GiveBackWatts > 0 && kCh2GiveBackWatts <= kCh2Watts / 10 && kCh1FloorShift >= 2 && kCh1FloorShift <= 6 &&
              kCh2FallWatts > 2 * kVo2SteadyBandWatts,  // a fall, not the scatter of steady windows
              "channel 2's give-back, channel 1's floor and a fall of the surplus");
static_assert(kVo2UrgentStep >= 2 && kVo2UrgentStep <= 20, "urgent VO2 step");
static_assert(uint32_t(kWatchdogResetFlagSeconds) * kCyclesPerFrame60Hz < 0xFFFFUL, "uptime in 16-bit cycles");
// 10 bits a character at 9600 baud: the longest frame (diagnostic keys too) is out of the buffer
// well before the next regular frame; an early one waits while the UART still sends (set_tx_busy).
static_assert(uint32_t(kTxBufferSize) * 10UL * kMaxMainsHz < uint32_t(kCyclesPerFrame50Hz) * kSerialBaud / 2,
              "a frame is sent in under half a regular frame period");
static_assert(kExportTargetWatts >= 0.0f && kExportTargetWatts < kMinRoutableWatts, "export target");
static_assert(kMinFiredFraction > 0.0f && kMinFiredFraction < 0.1f, "min fired fraction");
static_assert(kBucketCapacityJoules > 0.0f && kCh1HeaterWatts > 0.0f && kCh2Watts > 0.0f, "ratings");
static_assert(kSaturatedFraction > 0.5f && kSaturatedFraction < 1.0f, "saturation threshold");
static_assert(kAbsorbWindowCycles >= 5 && kAbsorbSlopeThreshold > 0.2f && kAbsorbSlopeThreshold < 0.8f,
              "absorption detector");
static_assert(kAbsorbMaxSlope == 1.5f, "AbsorptionDetector::add computes dd + dd / 2 in shifts: change both");
// A probe step is seen as two half steps (half-cycle pairing): sum(delta_d^2) = probe^2 / 2.
static_assert(kCh1ProbeWatts >= 2.0f * kMinRoutableWatts &&
              kCh1ProbeWatts * kCh1ProbeWatts / 2.0f >= kAbsorbMinSwingWatts * kAbsorbMinSwingWatts &&
              kCh1ProbeWatts < kCh1HeaterWatts, "probe: fires, and alone gives a verdict");
static_assert(kFrameMaxLength < kTxBufferSize, "the TX buffer holds a whole frame and its NUL");
static_assert(kEnergyWrapCentiWh <= 2147483647UL, "counters print as int32 fixed point");
static_assert(kAdcBiasScaled == (kAdcMaxCount * kVoltageScale) / 2, "bias = mid-scale");
static_assert(kCommandTtlHalfCycles >= 4 && uint32_t(kCommandTtlHalfCycles) * 10 < kWatchdogTimeoutMs,
              "the gate command must outlive one late loop() pass and expire well before the watchdog");
static_assert(kCommandMaxLineChars >= 24 && kCommandMaxLineChars < 255, "a command line fits its counter");
static_assert(kMinHeaterWatts <= kDefaultHeaterWatts && kDefaultHeaterWatts <= kMaxHeaterWatts &&
              kMinCh2Watts <= kDefaultCh2Watts && kDefaultCh2Watts <= kMaxCh2Watts &&
              kMinExportTargetWatts <= kDefaultExportTargetWatts &&
              kDefaultExportTargetWatts <= kMaxExportTargetWatts &&
              kMinVoltageCal <= kDefaultVoltageCal && kDefaultVoltageCal <= kMaxVoltageCal &&
              kMinCurrentCal <= kDefaultCurrentCal && kDefaultCurrentCal <= kMaxCurrentCal,
              "the defaults are valid settings");
// Any heater rating in range keeps the probe's rules (above); the export target is also checked
// against the heater's own smallest routable power when a setting is taken (settings.h).
static_assert(float(kMinHeaterWatts) > kCh1ProbeWatts &&
              kCh1ProbeWatts >= 2.0f * float(kMaxHeaterWatts) * kMinFiredFraction &&
              float(kMaxExportTargetWatts) < float(kMaxHeaterWatts) * kMinFiredFraction &&
              kMinExportTargetWatts >= 0, "setting ranges keep the probe and the export-target rules");
static_assert(kMaxLeaseSeconds >= 2 && uint64_t(kMaxLeaseSeconds + 1) * kTicksPerSecond < 0xFFFFFFFFULL,
              "a lease counts down in 32-bit ticks");

}  // namespace cfg
