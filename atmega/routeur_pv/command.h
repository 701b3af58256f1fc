// Commands from the gateway on the ATmega's RX, in the frames' own shape ("KEY>value;...;$crc\r\n",
// CRC-8 Dallas/Maxim of every character before '$', in decimal), and the leases they set up.
// The parser takes one byte at a time and keeps no line buffer: a running CRC and the values of
// the keys it knows. Any fault (bad CRC, unknown key, malformed value, overlong line) rejects the
// whole line at its '\n'; garbage without a '\n' is rejected once it is longer than any command.
// Every command that changes what channel 1 does is a lease (LSE, seconds): when it runs out the
// router is back to plain solar routing, so a gateway that dies cannot leave a boost behind.
// Written for flash: 16-bit values, keys packed in 15 bits, no 32-bit multiply or divide.
#pragma once
#include <stdint.h>
#include "config.h"
#include "frame.h"
#include "settings.h"

// Bytes from the RX ISR to loop(): a single-producer, single-consumer ring. A byte that finds it
// full is dropped and counted; the line it belonged to then fails its CRC.
class RxQueue {
 public:
  void push(uint8_t c) {  // ISR
    const uint8_t next = uint8_t((this->head_ + 1) & kMask);
    if (next == this->tail_) {
      if (this->dropped_ < 0xFF) ++this->dropped_;
      return;
    }
    this->bytes_[this->head_] = c;
    this->head_ = next;
  }
  bool pop(uint8_t& c) {  // loop()
    const uint8_t tail = this->tail_;
    if (tail == this->head_) return false;
    c = this->bytes_[tail];
    this->tail_ = uint8_t((tail + 1) & kMask);
    return true;
  }
  uint8_t dropped() const { return this->dropped_; }

 private:
  static constexpr uint8_t kSize = 32;  // 33 ms at 9600 baud: longer than any loop() pass
  static constexpr uint8_t kMask = kSize - 1;
  static_assert((kSize & kMask) == 0, "a power of two");
  volatile uint8_t bytes_[kSize] = {};
  volatile uint8_t head_ = 0;
  volatile uint8_t tail_ = 0;
  volatile uint8_t dropped_ = 0;
};

// Keys in this order; the settings' keys in SettingIndex order (settings.h).
enum CommandKey : uint8_t {
  kKeyBoost, kKeyStop, kKeyAuto, kKeyLease,
  kKeyHeater, kKeyCh2, kKeyExport, kKeyVoltageCal, kKeyCurrentCal,
  kCommandKeyCount
};
constexpr uint8_t kFirstSettingKey = kKeyHeater;
static_assert(kCommandKeyCount - kFirstSettingKey == kSettingCount, "one key per setting");
constexpr char kCommandKeyNames[kCommandKeyCount][4] = {"BST", "STP", "AUT", "LSE", "HTR",
                                                       "DIM", "EXT", "VCL", "ICL"};

// A three-letter key packed as 5 bits per letter ('A' = 1).
constexpr uint16_t pack_key(const char* name) {
  return uint16_t((uint16_t(name[0] - '@') << 10) | (uint16_t(name[1] - '@') << 5) | uint16_t(name[2] - '@'));
}
constexpr uint16_t kCommandKeyCodes[kCommandKeyCount] = {
    pack_key(kCommandKeyNames[0]), pack_key(kCommandKeyNames[1]), pack_key(kCommandKeyNames[2]),
    pack_key(kCommandKeyNames[3]), pack_key(kCommandKeyNames[4]), pack_key(kCommandKeyNames[5]),
    pack_key(kCommandKeyNames[6]), pack_key(kCommandKeyNames[7]), pack_key(kCommandKeyNames[8])};
static_assert(kCommandKeyCount == 9, "one code per key name");

struct CommandLine {
  uint16_t present = 0;  // bit k: key k was in the line
  int16_t value[kCommandKeyCount] = {};
  bool has(CommandKey k) const { return (this->present >> k) & 1; }
};
constexpr uint16_t kSettingKeysMask = uint16_t(((1u << kSettingCount) - 1) << kFirstSettingKey);

class CommandParser {
 public:
  // Feeds one received byte. Returns true when a whole line with a good CRC and only known keys
  // was read: line() holds it until the next line starts. A rejected line counts in rejected().
  bool feed(uint8_t c) {
    if (c == '\n') return this->end_of_line_();
    if (c == '\r') return false;
    if (this->length_ == 0) this->line_ = CommandLine();  // the last accepted line is read by now
    if (++this->length_ > cfg::kCommandMaxLineChars) this->fault_ = true;
    if (this->fault_) return false;
    if (this->state_ == kCrc) {
      this->fault_ = !this->add_digit_(c);
      return false;
    }
    if (c == '$' && this->state_ == kKey && this->key_letters_ == 0) {
      this->state_ = kCrc;  // the CRC covers everything before '$'
      this->begin_number_();
      return false;
    }
    this->crc_ = crc8_maxim_update(this->crc_, c);
    if (this->state_ == kKey) {
      if (c == '>' && this->key_letters_ == 3) {
        this->key_ = this->lookup_();
        this->fault_ = this->key_ == kCommandKeyCount;
        this->state_ = kValue;
        this->begin_number_();
      } else if (c >= 'A' && c <= 'Z' && this->key_letters_ < 3) {
        this->key_code_ = uint16_t((this->key_code_ << 5) | uint16_t(c - '@'));
        ++this->key_letters_;
      } else {
        this->fault_ = true;
      }
    } else if (c == ';' && this->digits_ > 0) {
      this->line_.value[this->key_] = this->number_();
      this->line_.present = uint16_t(this->line_.present | (1u << this->key_));
      this->key_letters_ = 0;
      this->key_code_ = 0;
      this->state_ = kKey;
    } else if (c == '-' && this->digits_ == 0 && !this->negative_) {
      this->negative_ = true;
    } else {
      this->fault_ = !this->add_digit_(c);
    }
    return false;
  }

  const CommandLine& line() const { return this->line_; }
  uint16_t rejected() const { return this->rejected_; }

 private:
  enum State : uint8_t { kKey, kValue, kCrc };

  void begin_number_() {
    this->digits_ = 0;
    this->negative_ = false;
    this->magnitude_ = 0;
  }
  // A decimal digit of a value of at most 5 digits, up to 32767.
  bool add_digit_(uint8_t c) {
    if (c < '0' || c > '9' || this->digits_ >= 5) return false;
    const uint16_t next = uint16_t(this->magnitude_ * 10u + uint16_t(c - '0'));
    if (next > 32767u) return false;
    this->magnitude_ = next;
    ++this->digits_;
    return true;
  }
  int16_t number_() const { return this->negative_ ? int16_t(-int16_t(this->magnitude_)) : int16_t(this->magnitude_); }

  uint8_t lookup_() const {
    uint8_t k = 0;
    while (k < kCommandKeyCount && kCommandKeyCodes[k] != this->key_code_) ++k;
    return k;
  }

  bool end_of_line_() {
    const bool ok = !this->fault_ && this->state_ == kCrc && this->digits_ > 0 &&
                    this->magnitude_ == this->crc_ && this->line_.present != 0;
    if (!ok && this->length_ > 0) ++this->rejected_;  // a bare line end is no command at all
    if (!ok) this->line_ = CommandLine();
    this->length_ = 0;
    this->fault_ = false;
    this->state_ = kKey;
    this->key_letters_ = 0;
    this->key_code_ = 0;
    this->crc_ = 0;
    return ok;
  }

  CommandLine line_;
  uint16_t key_code_ = 0;
  uint16_t magnitude_ = 0;
  uint16_t rejected_ = 0;
  uint8_t key_letters_ = 0;
  uint8_t key_ = 0;
  uint8_t digits_ = 0;
  uint8_t crc_ = 0;
  uint8_t length_ = 0;
  State state_ = kKey;
  bool negative_ = false;
  bool fault_ = false;
};

enum Ch1Mode : uint8_t { kModeAuto = 0, kModeBoost = 1, kModeStop = 2 };

// What channel 1 does on the gateway's behalf, and for how long. Without a lease in force the
// router routes the solar surplus (auto). Safety stays with the caller: a boost never fires without
// mains or zero crossing, and never above the heater's rating (it is a fraction of it).
class Ch1Lease {
 public:
  // Applies an accepted line. False, and nothing changes, when it means nothing valid: not exactly
  // one of BST / STP / AUT, BST outside 0..100 %, STP or AUT other than 1, or BST / STP without a
  // lease of 1..kMaxLeaseSeconds.
  bool apply(const CommandLine& line) {
    const int16_t lease = line.has(kKeyLease) ? line.value[kKeyLease] : 0;
    const bool lease_ok = lease >= 1 && lease <= cfg::kMaxLeaseSeconds;
    const uint8_t actions = uint8_t(line.has(kKeyBoost) + line.has(kKeyStop) + line.has(kKeyAuto));
    bool ok;
    if (actions != 1) {
      ok = false;
    } else if (line.has(kKeyAuto)) {
      ok = line.value[kKeyAuto] == 1;
      if (ok) this->to_auto_();
    } else if (line.has(kKeyBoost)) {
      ok = lease_ok && line.value[kKeyBoost] >= 0 && line.value[kKeyBoost] <= 100;
      if (ok) this->start_(kModeBoost, uint8_t(line.value[kKeyBoost]), uint8_t(lease));
    } else {
      ok = lease_ok && line.value[kKeyStop] == 1;
      if (ok) this->start_(kModeStop, 0, uint8_t(lease));
    }
    return ok;
  }

  // One mains cycle went by. A period it could not measure counts as the longest one allowed, so
  // that a lease never outlives its bound (no mains, no crossing).
  void on_cycle(uint16_t period_ticks) {
    if (this->mode_ == kModeAuto) return;
    const bool measured = period_ticks >= cfg::kMinPeriodTicks && period_ticks <= cfg::kMaxPeriodTicks;
    const uint16_t elapsed = uint16_t((measured ? period_ticks : cfg::kMaxPeriodTicks) / kTicksPerUnit);
    if (this->units_ < elapsed) {
      if (this->seconds_ == 0) return this->to_auto_();
      --this->seconds_;
      this->units_ = uint16_t(this->units_ + kUnitsPerSecond);
    }
    this->units_ = uint16_t(this->units_ - elapsed);
    if (this->seconds_ == 0 && this->units_ == 0) this->to_auto_();
  }

  Ch1Mode mode() const { return this->mode_; }
  uint8_t boost_percent() const { return this->boost_percent_; }
  // Whole seconds left, rounded up (0 in auto).
  uint8_t remaining_seconds() const { return uint8_t(this->seconds_ + (this->units_ > 0 ? 1 : 0)); }

 private:
  // The lease counts in units of 32 ticks (16 us): a second is 62,500 of them, a 16-bit count.
  static constexpr uint16_t kTicksPerUnit = 32;
  static constexpr uint16_t kUnitsPerSecond = uint16_t(cfg::kTicksPerSecond / kTicksPerUnit);
  static_assert(cfg::kTicksPerSecond % kTicksPerUnit == 0 && cfg::kTicksPerSecond / kTicksPerUnit <= 65535u,
                "a second of lease in 16 bits");

  void start_(Ch1Mode mode, uint8_t percent, uint8_t seconds) {
    this->mode_ = mode;
    this->boost_percent_ = percent;
    this->seconds_ = seconds;
    this->units_ = 0;
  }
  void to_auto_() { this->start_(kModeAuto, 0, 0); }

  uint16_t units_ = 0;  // with seconds_: what is left of the lease
  uint8_t seconds_ = 0;
  uint8_t boost_percent_ = 0;
  Ch1Mode mode_ = kModeAuto;
};
