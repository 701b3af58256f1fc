#pragma once
// Parser of the ATmega -> gateway serial frame. Plain C++: no ESPHome (nor Arduino) dependency,
// so the same code runs in the firmware, in host unit tests, in the fuzzer and in the benchmark.
//
//   EIB>412.50;REE>3.21;MPC>20.00;POR>40.12;FID>5123;SPL>192;VO2>0;FRQ>50.00;VRM>230.1;STA>0;
//   PW1>802.4;WHI>2.79;WHE>9.82;WH1>25.54;$147\r\n
// and, once the ATmega has received a command line since its reset (command_link.h), channel 2 in
// watts, the state of the commands and one of its settings a frame, in turn:
//   PO2>0;MOD>1;LSR>4;CAC>12;CRJ>0;SCS>87;HTR>2000;
//
// Bytes are fed one at a time as they arrive; a line ends at CR or LF. A line is accepted only if
// it is syntactically a frame, its CRC-8 (Dallas/Maxim, reflected 0x8C, over every character before
// '$', printed in decimal) matches, every known field carries a finite number within its plausible
// range and the required fields are present, or it is a frame of channel 2 alone (VO2 and PO2, none
// of the required fields: `VO2>53;PO2>530;$6`). A frame is delivered whole or not at all.
#include <cstddef>
#include <cstdint>

namespace esphome::routeur_pv {

enum Field : uint8_t {
  FIELD_EIB = 0,  // energy in bucket, J
  FIELD_REE,      // real power at the grid connection, W, positive = surplus (export)
  FIELD_MPC,      // minimum routable power, W
  FIELD_POR,      // routed power, % of channel 1 full power
  FIELD_FID,      // firing delay, us
  FIELD_SPL,      // sample pairs in the last mains cycle
  FIELD_VO2,      // channel 2 ratio, %
  FIELD_PO2,      // channel 2 in watts, VO2 of the full scale DIM (our firmware)
  FIELD_FRQ,      // mains frequency, Hz (our firmware)
  FIELD_VRM,      // RMS mains voltage, V (our firmware)
  FIELD_STA,      // status bit field (our firmware)
  FIELD_PW1,      // power channel 1 delivered, W, measured at its gate edges (our firmware)
  FIELD_WHI,      // grid import since the ATmega's reset, Wh, cumulative (our firmware)
  FIELD_WHE,      // grid export since the ATmega's reset, Wh, cumulative (our firmware)
  FIELD_WH1,      // channel-1 energy delivered since the ATmega's reset, Wh, cumulative (our firmware)
  // Only once the ATmega has received a command line since its reset (never from older firmware):
  FIELD_MOD,      // channel-1 mode in force: 0 auto, 1 boost, 2 stop
  FIELD_LSR,      // seconds left of the boost or stop lease (0 in auto)
  FIELD_CAC,      // command lines accepted since the ATmega's reset (settings once stored)
  FIELD_CRJ,      // command lines refused since the ATmega's reset
  FIELD_SCS,      // CRC-8 of the settings in force
  // One of the ATmega's settings a frame, in turn, in the commands' units (command_link.h):
  FIELD_HTR,      // channel-1 heater rating, W
  FIELD_DIM,      // channel-2 load rating, W
  FIELD_EXT,      // export target, W
  FIELD_VCL,      // voltage sensor sensitivity, 0.01 mV per V
  FIELD_ICL,      // current sensor sensitivity, 0.1 mV per A
  FIELD_COUNT,
};

static_assert(FIELD_COUNT <= 32, "Frame::present is a 32-bit set");

/// Fields every accepted frame must carry (the seed's fields except VO2, which older versions lacked).
static const uint32_t REQUIRED_FIELDS = (1u << FIELD_EIB) | (1u << FIELD_REE) | (1u << FIELD_MPC) |
                                        (1u << FIELD_POR) | (1u << FIELD_FID) | (1u << FIELD_SPL);

// STA bits (docs/interfaces.md)
static const uint16_t STA_NO_MAINS = 1u << 0;
static const uint16_t STA_NO_ZERO_CROSS = 1u << 1;
static const uint16_t STA_ADC_CLIPPED = 1u << 2;
static const uint16_t STA_CH1_SATURATED = 1u << 3;
static const uint16_t STA_WATCHDOG_RESET = 1u << 4;
static const uint16_t STA_SETTINGS_DEFAULTS = 1u << 5;  ///< blank or corrupt EEPROM: config.h's settings in force

struct FieldInfo {
  const char *key;
  double min;
  double max;
  bool integer_only;  // value must be printed without decimals
};
/// Key and plausible range of each field (inclusive).
const FieldInfo &field_info(Field f);

struct Frame {
  uint32_t present{0};                ///< bit i set when field i was in the frame
  double value[FIELD_COUNT]{};        ///< value of each present field
  uint8_t decimals[FIELD_COUNT]{};    ///< digits after the decimal point, as printed by the ATmega
  bool has(Field f) const { return (this->present >> f) & 1u; }
  /// A frame of channel 2 alone: VO2 (and PO2) and none of the required fields. Our ATmega sends a
  /// large move of VO2 at once in one (~25 characters), between its regular frames.
  bool channel2_only() const { return (this->present & REQUIRED_FIELDS) == 0 && this->has(FIELD_VO2); }
};

enum class Reject : uint8_t {
  NONE = 0,
  OVERLONG,       ///< line longer than the buffer: discarded up to the next line end
  SYNTAX,         ///< not KEY>value;...$crc (garbage, truncated, bad characters)
  CRC,            ///< CRC mismatch
  NON_NUMERIC,    ///< a known field's value is not a plain decimal number (nan, inf, ovf, 1e3...)
  OUT_OF_RANGE,   ///< a known field's value is outside its plausible range
  MISSING_FIELD,  ///< a required field is absent
  DUPLICATE_FIELD,
  COUNT,
};
const char *reject_name(Reject r);

enum class FeedResult : uint8_t { NONE, FRAME, REJECTED };

/// CRC-8 Dallas/Maxim, reflected, polynomial 0x8C, initial 0.
uint8_t crc8_maxim(const char *data, size_t len);

class FrameParser {
 public:
  /// Longest accepted line (our frame is ~85-110 characters, the seed's ~71).
  static const size_t MAX_LINE = 256;
  /// Value strings longer than this are rejected as non-numeric.
  static const size_t MAX_VALUE_LEN = 16;

  /// Feed one byte. Returns FRAME when a valid frame just completed (read it with frame()),
  /// REJECTED when a non-empty line was refused (reason in last_reject()), NONE otherwise.
  FeedResult feed(uint8_t c);

  /// Parse one complete line (without its line end). Stateless apart from the counters.
  Reject parse_line(const char *line, size_t len, Frame &out);

  const Frame &frame() const { return this->frame_; }
  Reject last_reject() const { return this->last_reject_; }
  uint32_t frames_ok() const { return this->frames_ok_; }
  uint32_t frames_rejected() const { return this->frames_rejected_; }
  uint32_t rejected(Reject r) const { return this->rejected_[static_cast<uint8_t>(r)]; }
  void reset();

 protected:
  Reject parse_once_(const char *line, size_t len, Frame &out) const;
  FeedResult finish_line_();
  FeedResult restart_on_frame_start_();

  char buf_[MAX_LINE];
  size_t len_{0};
  bool overlong_{false};
  uint32_t window_{0};  ///< last 4 bytes seen while discarding an overlong line
  Frame frame_{};
  Reject last_reject_{Reject::NONE};
  uint32_t frames_ok_{0};
  uint32_t frames_rejected_{0};
  uint32_t rejected_[static_cast<uint8_t>(Reject::COUNT)]{};
};

}  // namespace esphome::routeur_pv
