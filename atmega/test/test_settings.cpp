// Persistent settings (settings.h) and the controller acting on the gateway's command lines.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "controller.h"
#include "frame_text.h"
#include "mini_test.h"
#include "plant_model.h"

namespace {

// The ATmega's 1 KB EEPROM: blank (0xFF) at first; `fail_at` makes one address keep its old byte.
struct FakeEeprom {
  static uint8_t bytes[1024];
  static int writes, fail_at;
  static bool ready() { return true; }
  static uint8_t read(uint8_t address) { return bytes[address]; }
  static void write(uint8_t address, uint8_t value) {
    ++writes;
    if (address != fail_at) bytes[address] = value;
  }
  static void blank() {
    memset(bytes, 0xFF, sizeof bytes);
    writes = 0;
    fail_at = -1;
  }
};
uint8_t FakeEeprom::bytes[1024];
int FakeEeprom::writes = 0, FakeEeprom::fail_at = -1;

void send(RouterController& c, const char* text) {
  for (const char* p = text; *p; ++p) c.on_rx_byte(uint8_t(*p));
}

// Runs the EEPROM writer to its end, as loop() does.
void poll_until_idle(RouterController& c) {
  for (int pass = 0; pass < 100; ++pass) c.poll_settings<FakeEeprom>();
}

// A field of a frame as an integer, -999 when absent.
int field(const char* frame, const char* key) { return int(frame_field(frame, key, -999)); }

}  // namespace

TEST(settings_blank_or_corrupt_eeprom_gives_the_defaults) {
  FakeEeprom::blank();
  Settings s;
  CHECK(!load_settings<FakeEeprom>(s));
  CHECK(memcmp(&s, &kDefaultSettings, sizeof s) == 0);
  // A valid block, then one bit flipped in each byte in turn: always refused.
  Settings custom = kDefaultSettings;
  custom.value[kSettingHeater] = 2500;
  const SettingsBlock block = settings_block(custom);
  for (uint8_t i = 0; i < kSettingsBlockSize; ++i) {
    memcpy(FakeEeprom::bytes, &block, sizeof block);
    CHECK(load_settings<FakeEeprom>(s));
    CHECK_EQ(s.value[kSettingHeater], 2500);
    FakeEeprom::bytes[i] ^= 0x10;
    CHECK(!load_settings<FakeEeprom>(s));
    CHECK(memcmp(&s, &kDefaultSettings, sizeof s) == 0);
  }
  // A block whose CRC is right but whose values are out of range (another firmware's layout).
  Settings wild = kDefaultSettings;
  wild.value[kSettingCurrentCal] = 5;
  const SettingsBlock bad = settings_block(wild);
  memcpy(FakeEeprom::bytes, &bad, sizeof bad);
  CHECK(!load_settings<FakeEeprom>(s));
  // Another layout version with a right CRC.
  SettingsBlock other = settings_block(custom);
  other.version = uint8_t(cfg::kSettingsVersion + 1);
  other.crc = block_crc(other);
  memcpy(FakeEeprom::bytes, &other, sizeof other);
  CHECK(!load_settings<FakeEeprom>(s));
}

TEST(settings_ranges_and_the_export_target_rule) {
  CHECK(settings_valid(kDefaultSettings));
  for (uint8_t k = 0; k < kSettingCount; ++k) {
    Settings s = kDefaultSettings;
    s.value[k] = kSettingMin[k];
    if (k == kSettingHeater) s.value[kSettingExport] = 0;
    CHECK(settings_valid(s));
    s.value[k] = int16_t(kSettingMin[k] - 1);
    CHECK(!settings_valid(s));
    s = kDefaultSettings;
    s.value[k] = kSettingMax[k];
    CHECK(settings_valid(s) == (k != kSettingExport));  // 79 W needs a heater of 7,901 W or more
    s.value[k] = int16_t(kSettingMax[k] + 1);
    CHECK(!settings_valid(s));
  }
  Settings s = kDefaultSettings;
  s.value[kSettingHeater] = 1000;
  s.value[kSettingExport] = 9;  // below 1 % of 1000 W
  CHECK(settings_valid(s));
  s.value[kSettingExport] = 10;
  CHECK(!settings_valid(s));
}

TEST(settings_writer_writes_only_changed_bytes_and_verifies) {
  FakeEeprom::blank();
  SettingsWriter w;
  w.start(kDefaultSettings);
  int passes = 0;
  SettingsWrite r = kWriteBusy;
  while ((r = w.poll<FakeEeprom>()) == kWriteBusy) ++passes;
  CHECK_EQ(r, kWriteStored);
  CHECK_EQ(FakeEeprom::writes, kSettingsBlockSize);  // one byte per pass
  CHECK_EQ(passes, kSettingsBlockSize);
  CHECK_EQ(w.poll<FakeEeprom>(), kWriteIdle);
  Settings s;
  CHECK(load_settings<FakeEeprom>(s));
  // One value changes: its low byte (2000 -> 2001) and the CRC only.
  FakeEeprom::writes = 0;
  s.value[kSettingHeater] = 2001;
  w.start(s);
  while ((r = w.poll<FakeEeprom>()) == kWriteBusy) {
  }
  CHECK_EQ(r, kWriteStored);
  CHECK_EQ(FakeEeprom::writes, 2);
  // A cell that does not take the byte: the write fails (read back).
  FakeEeprom::fail_at = 1;
  s.value[kSettingHeater] = 3000;
  w.start(s);
  while ((r = w.poll<FakeEeprom>()) == kWriteBusy) {
  }
  CHECK_EQ(r, kWriteFailed);
}

TEST(controller_stores_a_setting_then_applies_and_reports_it) {
  FakeEeprom::blank();
  Settings s;
  RouterController c;
  c.begin(s, load_settings<FakeEeprom>(s));
  CHECK(c.settings_default());
  FrameBuilder frame;
  House h;
  send(c, command_line("HTR>3000;EXT>12;"));
  CHECK_EQ(c.commands_accepted(), 0);  // not yet stored
  CHECK_EQ(c.settings().value[kSettingHeater], 2000);
  poll_until_idle(c);
  CHECK_EQ(c.commands_accepted(), 1);
  CHECK(!c.settings_default());
  CHECK_EQ(c.settings().value[kSettingHeater], 3000);
  CHECK_EQ(c.settings().value[kSettingExport], 12);
  CHECK_NEAR(c.ch1().params().min_routable_watts, 30.0, 1e-3);
  // Survives a reset: a new controller from the same EEPROM.
  RouterController after;
  CHECK(load_settings<FakeEeprom>(s));
  after.begin(s, true);
  CHECK_EQ(after.settings().value[kSettingHeater], 3000);
  // Frames: MPC from the new rating, SCS, and every setting within 5 frames; STA without bit 32.
  int seen[kSettingCount] = {};
  int frames = 0;
  for (int cycle = 0; cycle < 50 * 6; ++cycle) {
    c.on_cycle(simulate_cycle(h, 0.0), frame);
    if (!c.frame_ready()) continue;
    const char* text = frame.text();
    if (is_ch2_frame(text)) {
      c.frame_taken();
      continue;
    }
    ++frames;
    CHECK_EQ(field(text, ";MPC>"), 30);
    CHECK_EQ(field(text, ";SCS>"), settings_block(c.settings()).crc);
    CHECK_EQ(field(text, ";CAC>"), 1);
    CHECK_EQ(field(text, ";CRJ>"), 0);
    CHECK_EQ(field(text, ";STA>") & kStatusSettingsDefault, 0);
    for (uint8_t k = 0; k < kSettingCount; ++k) {
      char key[6] = {';', 0};
      strcat(key, kCommandKeyNames[kFirstSettingKey + k]);
      strcat(key, ">");
      const int value = field(text, key);
      if (value != -999) {
        CHECK_EQ(value, c.settings().value[k]);
        ++seen[k];
      }
    }
    c.frame_taken();
  }
  CHECK(frames >= 5);
  for (uint8_t k = 0; k < kSettingCount; ++k) CHECK(seen[k] >= 1);
}

TEST(controller_refuses_bad_settings_and_changes_nothing) {
  FakeEeprom::blank();
  RouterController c;
  c.begin(kDefaultSettings, false);
  const char* refused[] = {
      "HTR>299;",           // below the range
      "ICL>1601;",          // above
      "EXT>20;",            // not below 1 % of 2000 W
      "EXT>-1;",            // an import target
      "HTR>2500;BST>50;",   // a setting with something else
      "HTR>2500;LSE>5;",
  };
  for (const char* body : refused) {
    send(c, command_line(body));
    poll_until_idle(c);
  }
  send(c, "HTR>2500;$0\r\n");  // bad CRC
  poll_until_idle(c);
  CHECK_EQ(c.commands_refused(), int(sizeof refused / sizeof refused[0]) + 1);
  CHECK_EQ(c.commands_accepted(), 0);
  CHECK_EQ(FakeEeprom::writes, 0);
  CHECK(c.settings_default());
  CHECK(memcmp(&c.settings(), &kDefaultSettings, sizeof(Settings)) == 0);
  // A write under way: a second settings line is refused, not queued.
  send(c, command_line("HTR>2500;"));
  send(c, command_line("DIM>1500;"));
  poll_until_idle(c);
  CHECK_EQ(c.commands_accepted(), 1);
  CHECK_EQ(c.settings().value[kSettingHeater], 2500);
  CHECK_EQ(c.settings().value[kSettingCh2], 1000);
}

TEST(controller_boost_fires_while_importing_then_the_lease_ends) {
  RouterController c;
  c.begin(kDefaultSettings, true);
  FrameBuilder frame;
  House h;
  h.surplus_w = -500.0;  // importing: solar routing would fire nothing
  double fraction = 0.0;
  send(c, command_line("BST>60;LSE>2;"));
  CHECK_EQ(c.commands_accepted(), 1);
  int fired_cycles = 0, cycles = 0;
  for (; cycles < 50 * 4 && (cycles < 5 || c.lease().mode() == kModeBoost); ++cycles) {
    const GateCommand g = c.on_cycle(simulate_cycle(h, fraction), frame);
    fraction = g.fire ? c.ch1_fraction() : 0.0;
    if (g.fire) {
      CHECK_NEAR(c.ch1_fraction(), 0.60, 1e-6);
      ++fired_cycles;
    }
    if (c.frame_ready()) c.frame_taken();
  }
  // 2 s at 50 Hz, then back to solar routing: nothing fired while importing.
  CHECK(cycles >= 100 && cycles <= 101);
  CHECK(fired_cycles >= 99);
  for (int k = 0; k < 50; ++k) CHECK(!c.on_cycle(simulate_cycle(h, 0.0), frame).fire);
}

TEST(controller_stop_holds_channel_1_at_zero_and_channel_2_takes_the_surplus) {
  RouterController c;
  c.begin(kDefaultSettings, true);
  FrameBuilder frame;
  House h;
  h.surplus_w = 800.0;
  int fired = 0;
  for (int second = 0; second < 20; ++second) {
    if (second % 2 == 0) send(c, command_line("STP>1;LSE>5;"));  // renewed as the gateway does
    for (int k = 0; k < 50; ++k) {
      h.ch2_w = c.vo2() / 100.0 * cfg::kCh2Watts;
      if (c.on_cycle(simulate_cycle(h, 0.0), frame).fire) ++fired;
      if (c.frame_ready()) {
        if (!is_ch2_frame(frame.text())) CHECK_EQ(field(frame.text(), ";MOD>"), kModeStop);
        c.frame_taken();
      }
    }
  }
  CHECK_EQ(fired, 0);
  CHECK(c.vo2() >= 70);  // 800 W on a 1000 W channel 2
}
