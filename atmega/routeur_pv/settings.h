// The persistent settings the gateway may change (HTR, DIM, EXT, VCL, ICL: command.h), their
// validation, and their EEPROM block: the values (16-bit, little endian), a version, CRC-8 of both.
// A blank (0xFF), corrupt or out-of-range block gives the config.h defaults, which the frames flag.
// A new block is written one byte per loop() pass (3.4 ms each on silicon, loop() never waits),
// only the bytes that differ, then read back: only a block read back whole counts as stored.
// The Eeprom template parameter supplies ready(), read(address) and write(address, byte), so this
// also runs in the native tests with a fake.
#pragma once
#include <stdint.h>
#include "config.h"
#include "frame.h"

enum SettingIndex : uint8_t {
  kSettingHeater,      // HTR: channel-1 heater rating, W
  kSettingCh2,         // DIM: channel-2 (dimmer) load rating, W
  kSettingExport,      // EXT: export target, W
  kSettingVoltageCal,  // VCL: voltage sensor, 0.01 mV at the pin per volt of mains
  kSettingCurrentCal,  // ICL: current sensor, 0.1 mV at the pin per ampere
  kSettingCount
};

struct Settings {
  int16_t value[kSettingCount];
};

constexpr Settings kDefaultSettings = {{cfg::kDefaultHeaterWatts, cfg::kDefaultCh2Watts,
                                        cfg::kDefaultExportTargetWatts, cfg::kDefaultVoltageCal,
                                        cfg::kDefaultCurrentCal}};
constexpr int16_t kSettingMin[kSettingCount] = {cfg::kMinHeaterWatts, cfg::kMinCh2Watts, cfg::kMinExportTargetWatts,
                                                cfg::kMinVoltageCal, cfg::kMinCurrentCal};
constexpr int16_t kSettingMax[kSettingCount] = {cfg::kMaxHeaterWatts, cfg::kMaxCh2Watts, cfg::kMaxExportTargetWatts,
                                                cfg::kMaxVoltageCal, cfg::kMaxCurrentCal};

// Each value in its range, and the export target below the heater's smallest routable power.
inline bool settings_valid(const Settings& s) {
  for (uint8_t k = 0; k < kSettingCount; ++k)
    if (s.value[k] < kSettingMin[k] || s.value[k] > kSettingMax[k]) return false;
  return s.value[kSettingExport] * 100 < s.value[kSettingHeater];  // both in range: no overflow
}
static_assert(cfg::kMinFiredFraction == 0.01f && cfg::kMaxExportTargetWatts * 100 < 32767, "1 %, in 16 bits");

// The EEPROM block: the values as they lie in RAM (little endian on the ATmega and on the test
// hosts), the layout version, and the CRC-8 of all before it.
struct SettingsBlock {
  Settings settings;
  uint8_t version;
  uint8_t crc;
};
constexpr uint8_t kSettingsBlockSize = sizeof(SettingsBlock);
static_assert(kSettingsBlockSize == 2 * kSettingCount + 2, "no padding in the EEPROM block");

inline uint8_t block_crc(const SettingsBlock& block) {
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&block);
  uint8_t crc = 0;
  for (uint8_t i = 0; i + 1 < kSettingsBlockSize; ++i) crc = crc8_maxim_update(crc, bytes[i]);
  return crc;
}

inline SettingsBlock settings_block(const Settings& s) {
  SettingsBlock block = {s, cfg::kSettingsVersion, 0};
  block.crc = block_crc(block);
  return block;
}

// The stored settings; false (and the defaults) when the block is blank, corrupt or out of range.
template <class Eeprom>
bool load_settings(Settings& out) {
  SettingsBlock block;
  uint8_t* bytes = reinterpret_cast<uint8_t*>(&block);
  for (uint8_t i = 0; i < kSettingsBlockSize; ++i) bytes[i] = Eeprom::read(uint8_t(cfg::kSettingsEepromAddress + i));
  const bool ok = block.version == cfg::kSettingsVersion && block.crc == block_crc(block) &&
                  settings_valid(block.settings);
  out = ok ? block.settings : kDefaultSettings;
  return ok;
}

enum SettingsWrite : uint8_t { kWriteIdle, kWriteBusy, kWriteStored, kWriteFailed };

class SettingsWriter {
 public:
  void start(const Settings& s) {
    this->block_ = settings_block(s);
    this->next_ = 0;
    this->busy_ = true;
  }
  // The block being written (its CRC is the settings' checksum).
  const SettingsBlock& block() const { return this->block_; }
  bool busy() const { return this->busy_; }

  // Once per loop() pass: writes at most one byte. kWriteStored / kWriteFailed once, at the end.
  template <class Eeprom>
  SettingsWrite poll() {
    if (!this->busy_) return kWriteIdle;
    if (!Eeprom::ready()) return kWriteBusy;
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(&this->block_);
    for (; this->next_ < kSettingsBlockSize; ++this->next_) {
      const uint8_t address = uint8_t(cfg::kSettingsEepromAddress + this->next_);
      if (Eeprom::read(address) != bytes[this->next_]) {
        Eeprom::write(address, bytes[this->next_++]);
        return kWriteBusy;
      }
    }
    this->busy_ = false;
    for (uint8_t i = 0; i < kSettingsBlockSize; ++i)
      if (Eeprom::read(uint8_t(cfg::kSettingsEepromAddress + i)) != bytes[i]) return kWriteFailed;
    return kWriteStored;
  }

 private:
  SettingsBlock block_ = SettingsBlock();
  uint8_t next_ = 0;
  bool busy_ = false;
};
