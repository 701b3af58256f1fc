// GoogleTest unit tests of the gateway's command lines, leases and settings (command_link.h), checked
// against the ATmega's own parser, lease and settings rule (atmega/routeur_pv/command.h, settings.h):
// what one side sends, the other reads.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "command_link.h"
#include "frame_parser.h"
// The ATmega side, compiled here as in its native tests (global namespace).
#include "command.h"

using esphome::routeur_pv::build_command;
using esphome::routeur_pv::build_settings_command;
using esphome::routeur_pv::Ch1Request;
using esphome::routeur_pv::check_settings;
using esphome::routeur_pv::CommandLink;
using esphome::routeur_pv::FeedResult;
using esphome::routeur_pv::FrameParser;
using esphome::routeur_pv::LeaseKeeper;
using esphome::routeur_pv::Setting;
using esphome::routeur_pv::setting_from_unit;
using esphome::routeur_pv::setting_info;
using esphome::routeur_pv::setting_to_unit;
using esphome::routeur_pv::SettingsCheck;
using esphome::routeur_pv::SettingsKeeper;
using esphome::routeur_pv::SettingValues;
namespace rpv = esphome::routeur_pv;

namespace {

// Feeds a line to the ATmega's parser; true when it accepted it.
bool atmega_reads(CommandParser &parser, const std::string &line) {
  bool accepted = false;
  for (char c : line)
    accepted = parser.feed(static_cast<uint8_t>(c)) || accepted;
  return accepted;
}

struct Sent {
  uint32_t at_ms;
  std::string line;
};

// Polls the keeper every 10 ms from `from_ms` to `to_ms`; returns what it sent.
std::vector<Sent> run(LeaseKeeper &keeper, uint32_t from_ms, uint32_t to_ms) {
  std::vector<Sent> sent;
  for (uint32_t t = from_ms; t < to_ms; t += 10) {
    std::string line = keeper.poll(t);
    if (!line.empty())
      sent.push_back({t, line});
  }
  return sent;
}

}  // namespace

TEST(CommandLink, LineHasTheFrameShapeAndItsCrc) {
  const std::string line = build_command({{"BST", 60}, {"LSE", 5}});
  const std::string body = "BST>60;LSE>5;";
  EXPECT_EQ(line, body + "$" + std::to_string(esphome::routeur_pv::crc8_maxim(body.data(), body.size())) + "\r\n");
}

TEST(CommandLink, TheAtmegaReadsWhatTheGatewaySends) {
  CommandParser parser;
  Ch1Lease lease;
  ASSERT_TRUE(atmega_reads(parser, build_command({{"BST", 60}, {"LSE", 5}})));
  ASSERT_TRUE(lease.apply(parser.line()));
  EXPECT_EQ(lease.mode(), kModeBoost);
  EXPECT_EQ(lease.boost_percent(), 60);
  EXPECT_EQ(lease.remaining_seconds(), 5);
  ASSERT_TRUE(atmega_reads(parser, build_command({{"STP", 1}, {"LSE", 30}})));
  ASSERT_TRUE(lease.apply(parser.line()));
  EXPECT_EQ(lease.mode(), kModeStop);
  ASSERT_TRUE(atmega_reads(parser, build_command({{"AUT", 1}})));
  ASSERT_TRUE(lease.apply(parser.line()));
  EXPECT_EQ(lease.mode(), kModeAuto);
  EXPECT_EQ(parser.rejected(), 0);
}

TEST(CommandLink, AChangedRequestGoesOutAtOnceThenTheLeaseIsRenewed) {
  LeaseKeeper keeper(5, 2000);
  EXPECT_TRUE(run(keeper, 0, 10000).empty());  // auto from the start: nothing to say
  keeper.request(Ch1Request::BOOST, 70);
  const auto sent = run(keeper, 10000, 20000);
  ASSERT_EQ(sent.size(), 5u);  // at 10 s, then every 2 s
  EXPECT_EQ(sent[0].at_ms, 10000u);
  for (size_t i = 1; i < sent.size(); i++)
    EXPECT_EQ(sent[i].at_ms - sent[i - 1].at_ms, 2000u);
  for (const auto &s : sent)
    EXPECT_EQ(s.line, build_command({{"BST", 70}, {"LSE", 5}}));
}

TEST(CommandLink, BackToAutoIsSaidOnceAndNothingAfter) {
  LeaseKeeper keeper;
  keeper.request(Ch1Request::STOP);
  run(keeper, 0, 3000);
  keeper.request(Ch1Request::AUTO);
  const auto sent = run(keeper, 3000, 60000);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].line, build_command({{"AUT", 1}}));
}

TEST(CommandLink, ATimedBoostEndsByItselfAndTheAtmegaFollows) {
  // A 10-minute boost: the gateway renews 5-s leases, then says auto; the ATmega, fed every line
  // and counting 50-Hz cycles, boosts exactly as long and never outlives the last lease.
  LeaseKeeper keeper(5, 2000);
  keeper.request(Ch1Request::BOOST, 100, 600000);
  CommandParser parser;
  Ch1Lease lease;
  uint32_t boosted_ms = 0;
  const uint16_t period = static_cast<uint16_t>(cfg::kTicksPerSecond / 50);
  for (uint32_t t = 0; t < 900000; t += 20) {  // one 50-Hz cycle per step
    const std::string line = keeper.poll(t);
    if (!line.empty() && atmega_reads(parser, line))
      lease.apply(parser.line());
    lease.on_cycle(period);
    if (lease.mode() == kModeBoost)
      boosted_ms += 20;
  }
  EXPECT_EQ(keeper.requested(), Ch1Request::AUTO);
  EXPECT_EQ(boosted_ms, 600000u);
  EXPECT_EQ(lease.mode(), kModeAuto);
}

TEST(CommandLink, WhenTheGatewayGoesSilentTheLeaseRunsOut) {
  LeaseKeeper keeper(5, 2000);
  keeper.request(Ch1Request::BOOST, 50);
  CommandParser parser;
  Ch1Lease lease;
  const uint16_t period = static_cast<uint16_t>(cfg::kTicksPerSecond / 50);
  uint32_t last_boost_ms = 0;
  for (uint32_t t = 0; t < 60000; t += 20) {
    const std::string line = t < 30000 ? keeper.poll(t) : "";  // the gateway dies at 30 s
    if (!line.empty() && atmega_reads(parser, line))
      lease.apply(parser.line());
    lease.on_cycle(period);
    if (lease.mode() == kModeBoost)
      last_boost_ms = t;
  }
  // Last renewal at 28 s, lease 5 s: boost until 33 s, then solar routing.
  EXPECT_GE(last_boost_ms, 32900u);
  EXPECT_LE(last_boost_ms, 33000u);
}

TEST(CommandLink, BoostPercentIsClampedToTheRating) {
  LeaseKeeper keeper;
  keeper.request(Ch1Request::BOOST, 250);
  EXPECT_EQ(keeper.percent(), 100);
  EXPECT_EQ(keeper.poll(0), build_command({{"BST", 100}, {"LSE", 5}}));
}

TEST(CommandLink, ATimedRequestExpiresWithoutALineBeingPolled) {
  LeaseKeeper keeper;
  keeper.request(Ch1Request::STOP, 0, 5000);
  EXPECT_FALSE(keeper.expire(4990));
  EXPECT_EQ(keeper.requested(), Ch1Request::STOP);
  EXPECT_TRUE(keeper.expire(5000));
  EXPECT_EQ(keeper.requested(), Ch1Request::AUTO);
  EXPECT_EQ(keeper.poll(5000), build_command({{"AUT", 1}}));  // said once
  EXPECT_FALSE(keeper.expire(9000));
}

// ============================================================================ settings

namespace {

SettingValues values(std::initializer_list<std::pair<Setting, int16_t>> items) {
  SettingValues v;
  for (const auto &item : items)
    v.set(item.first, item.second);
  return v;
}

// The ATmega's Settings from a full SettingValues (all five present).
Settings atmega_settings(const SettingValues &v) {
  Settings s = kDefaultSettings;
  for (uint8_t k = 0; k < kSettingCount; k++)
    s.value[k] = v.value[k];
  return s;
}

// The ATmega's side of the link, built from its own parser, lease and settings rule (command.h,
// settings.h) the way its controller combines them: a settings line is merged with what is held,
// checked whole and stored (the next frame shows the first setting that changed); frames carry the
// commands' state and one setting each, in turn, once any command line came in since the reset.
struct Atmega {
  CommandParser parser;
  Ch1Lease lease;
  Settings settings = kDefaultSettings;
  uint16_t accepted = 0, refused = 0;
  uint8_t report = 0;
  bool deaf = false;  // lines are lost on the way (a broken RX wire)

  void receive(const std::string &line) {
    if (this->deaf)
      return;
    for (char c : line) {
      if (this->parser.feed(static_cast<uint8_t>(c)))
        this->apply(this->parser.line());
    }
  }
  void apply(const CommandLine &line) {
    if (!(line.present & kSettingKeysMask)) {
      if (this->lease.apply(line))
        this->accepted++;
      else
        this->refused++;
      return;
    }
    Settings next = this->settings;
    for (uint8_t k = 0; k < kSettingCount; k++) {
      if (line.has(CommandKey(kFirstSettingKey + k)))
        next.value[k] = line.value[kFirstSettingKey + k];
    }
    if ((line.present & ~kSettingKeysMask) || !settings_valid(next)) {
      this->refused++;
      return;
    }
    this->report = 0;
    while (this->report + 1 < kSettingCount && next.value[this->report] == this->settings.value[this->report])
      this->report++;
    this->settings = next;
    this->accepted++;
  }
  uint16_t refused_total() const { return uint16_t(this->parser.rejected() + this->refused); }
  // Any checksum of the values will do here: the gateway only shows SCS.
  uint8_t checksum() const {
    return rpv::crc8_maxim(reinterpret_cast<const char *>(this->settings.value), sizeof(this->settings.value));
  }
  // The body of the next frame (without '$crc').
  std::string frame_body() {
    std::string body = "EIB>0.00;REE>12.00;MPC>20.00;POR>0.00;FID>10000;SPL>192;VO2>0;FRQ>50.00;VRM>230.0;STA>0;";
    if (this->accepted != 0 || this->refused_total() != 0) {
      body += "MOD>" + std::to_string(this->lease.mode()) + ";LSR>" + std::to_string(this->lease.remaining_seconds()) +
              ";CAC>" + std::to_string(this->accepted) + ";CRJ>" + std::to_string(this->refused_total()) +
              ";SCS>" + std::to_string(this->checksum()) + ";" + kCommandKeyNames[kFirstSettingKey + this->report] +
              ">" + std::to_string(this->settings.value[this->report]) + ";";
      if (++this->report == kSettingCount)
        this->report = 0;
    }
    return body;
  }
};

struct Line {
  uint32_t at_ms;
  std::string text;
};

// The gateway's CommandLink and the Atmega above, on one simulated clock: a frame every second,
// 160 ms on the wire (the gateway sees bytes arrive, then the line end), lines from the gateway
// delivered at once. Steps of 10 ms, one loop pass each.
struct Bench {
  CommandLink link;
  Atmega atmega;
  FrameParser parser;
  std::vector<Line> sent;
  std::vector<std::pair<uint32_t, uint32_t>> frames_on_wire;  // [start, end) of each frame
  uint32_t now = 0;
  bool frames = true;

  void run_until(uint32_t end_ms) {
    for (; this->now < end_ms; this->now += 10) {
      const uint32_t phase = this->now % 1000;
      if (this->frames && phase == 0)
        this->link.on_rx(this->now, false);  // a frame's first bytes
      if (this->frames && phase == 160) {
        const std::string body = this->atmega.frame_body();
        const std::string text = body + "$" + std::to_string(rpv::crc8_maxim(body.data(), body.size())) + "\r\n";
        for (char c : text) {
          if (this->parser.feed(static_cast<uint8_t>(c)) == FeedResult::FRAME)
            this->link.on_frame(this->parser.frame(), this->now);
        }
        this->link.on_rx(this->now, true);
        this->frames_on_wire.emplace_back(this->now - 160, this->now);
      }
      if (this->now % 20 == 0)  // a 50-Hz cycle went by on the ATmega
        this->atmega.lease.on_cycle(static_cast<uint16_t>(cfg::kTicksPerSecond / 50));
      std::string line = this->link.poll(this->now);
      if (!line.empty()) {
        this->sent.push_back({this->now, line});
        this->atmega.receive(line);
      }
    }
  }
  std::vector<Line> settings_lines() const {
    std::vector<Line> out;
    for (const auto &l : this->sent) {
      if (l.text.find("LSE>") == std::string::npos && l.text.find("AUT>") == std::string::npos)
        out.push_back(l);
    }
    return out;
  }
};

}  // namespace

TEST(Settings, TheTableIsTheAtmegas) {
  // Keys, order and ranges: the same on both sides (the ATmega refuses whatever is outside).
  ASSERT_EQ(int(rpv::SETTING_COUNT), int(kSettingCount));
  for (uint8_t k = 0; k < kSettingCount; k++) {
    const auto &info = setting_info(static_cast<Setting>(k));
    EXPECT_STREQ(info.key, kCommandKeyNames[kFirstSettingKey + k]);
    EXPECT_STREQ(info.key, rpv::field_info(info.field).key);
    EXPECT_EQ(info.min, kSettingMin[k]) << info.key;
    EXPECT_EQ(info.max, kSettingMax[k]) << info.key;
  }
}

TEST(Settings, TheAtmegaStoresWhatTheGatewaySends) {
  CommandParser parser;
  const std::string line = build_settings_command(values({{rpv::SETTING_HEATER, 2500}, {rpv::SETTING_EXPORT, 10}}));
  EXPECT_EQ(line, build_command({{"HTR", 2500}, {"EXT", 10}}));
  ASSERT_TRUE(atmega_reads(parser, line));
  EXPECT_EQ(parser.line().present, uint16_t((1u << kKeyHeater) | (1u << kKeyExport)));
  EXPECT_EQ(parser.line().value[kKeyHeater], 2500);
  EXPECT_EQ(parser.line().value[kKeyExport], 10);
  // every key, at both ends of its range
  for (uint8_t k = 0; k < kSettingCount; k++) {
    for (int16_t v : {kSettingMin[k], kSettingMax[k]}) {
      ASSERT_TRUE(atmega_reads(parser, build_settings_command(values({{static_cast<Setting>(k), v}}))));
      EXPECT_EQ(parser.line().value[kFirstSettingKey + k], v);
    }
  }
  EXPECT_EQ(parser.rejected(), 0);
}

TEST(Settings, TheLongestLineFitsTheAtmegasLimit) {
  SettingValues all;
  for (uint8_t k = 0; k < kSettingCount; k++)
    all.set(static_cast<Setting>(k), kSettingMax[k]);  // the widest values
  const std::string line = build_settings_command(all);
  EXPECT_LE(line.size() - 2, size_t(cfg::kCommandMaxLineChars)) << line;  // without CR LF
  CommandParser parser;
  EXPECT_TRUE(atmega_reads(parser, line)) << line;
}

TEST(Settings, TheMergedRuleIsTheAtmegas) {
  // Every heater rating and export target in range, both sides agree; and each value just outside.
  SettingValues v =
      values({{rpv::SETTING_CH2, 1000}, {rpv::SETTING_VOLTAGE_CAL, 500}, {rpv::SETTING_CURRENT_CAL, 400}});
  int disagreements = 0, accepted = 0;
  for (int16_t htr = kSettingMin[kSettingHeater]; htr <= kSettingMax[kSettingHeater]; htr++) {
    for (int16_t ext = kSettingMin[kSettingExport]; ext <= kSettingMax[kSettingExport]; ext++) {
      v.set(rpv::SETTING_HEATER, htr);
      v.set(rpv::SETTING_EXPORT, ext);
      const bool gateway = check_settings(v) == SettingsCheck::OK;
      accepted += gateway;
      disagreements += gateway != settings_valid(atmega_settings(v));
    }
  }
  EXPECT_EQ(disagreements, 0);
  EXPECT_GT(accepted, 1000);
  v.set(rpv::SETTING_HEATER, 2000);
  v.set(rpv::SETTING_EXPORT, 5);
  ASSERT_EQ(check_settings(v), SettingsCheck::OK);
  EXPECT_TRUE(settings_valid(atmega_settings(v)));
  for (uint8_t k = 0; k < kSettingCount; k++) {
    for (int16_t bad : {int16_t(kSettingMin[k] - 1), int16_t(kSettingMax[k] + 1)}) {
      SettingValues w = v;
      w.set(static_cast<Setting>(k), bad);
      EXPECT_EQ(check_settings(w), SettingsCheck::OUT_OF_RANGE) << int(k) << "=" << bad;
      EXPECT_FALSE(settings_valid(atmega_settings(w))) << int(k) << "=" << bad;
    }
  }
  v.set(rpv::SETTING_EXPORT, 20);  // 20 W is 1 % of 2000 W: not below
  EXPECT_EQ(check_settings(v), SettingsCheck::EXPORT_TOO_HIGH);
  // what is unknown is not checked: the ATmega decides against what it holds
  EXPECT_EQ(check_settings(values({{rpv::SETTING_EXPORT, 20}})), SettingsCheck::OK);
  EXPECT_EQ(check_settings(SettingValues{}), SettingsCheck::EMPTY);
}

TEST(Settings, UnitsOfTheNumbers) {
  int16_t v = 0;
  ASSERT_TRUE(setting_from_unit(rpv::SETTING_VOLTAGE_CAL, 5.2f, v));
  EXPECT_EQ(v, 520);
  EXPECT_FLOAT_EQ(setting_to_unit(rpv::SETTING_VOLTAGE_CAL, 520), 5.2f);
  ASSERT_TRUE(setting_from_unit(rpv::SETTING_CURRENT_CAL, 41.5f, v));
  EXPECT_EQ(v, 415);
  EXPECT_FLOAT_EQ(setting_to_unit(rpv::SETTING_CURRENT_CAL, 415), 41.5f);
  ASSERT_TRUE(setting_from_unit(rpv::SETTING_HEATER, 2500.4f, v));
  EXPECT_EQ(v, 2500);
  EXPECT_FLOAT_EQ(setting_to_unit(rpv::SETTING_HEATER, 2500), 2500.0f);
  // every value of every range survives the round trip
  for (uint8_t k = 0; k < kSettingCount; k++) {
    const Setting s = static_cast<Setting>(k);
    for (int i = kSettingMin[k]; i <= kSettingMax[k]; i++) {
      ASSERT_TRUE(setting_from_unit(s, setting_to_unit(s, int16_t(i)), v));
      ASSERT_EQ(v, i) << setting_info(s).key;
    }
  }
  EXPECT_FALSE(setting_from_unit(rpv::SETTING_HEATER, NAN, v));
  EXPECT_FALSE(setting_from_unit(rpv::SETTING_HEATER, 1e6f, v));
  EXPECT_FALSE(setting_from_unit(rpv::SETTING_CURRENT_CAL, 4000.0f, v));  // 40000 steps: not 16 bits
}

TEST(Settings, ASettingIsSentOnceWhenTheFramesShowIt) {
  Bench b;
  b.run_until(3000);  // the ATmega, never addressed, reports nothing: the gateway says auto
  ASSERT_EQ(b.sent.size(), 1u);
  EXPECT_EQ(b.sent[0].text, build_command({{"AUT", 1}}));
  b.run_until(9000);  // within 5 frames every setting is known
  EXPECT_EQ(b.link.settings().reported().present, 0x1F);
  EXPECT_EQ(b.link.settings().reported().value[rpv::SETTING_HEATER], cfg::kDefaultHeaterWatts);
  ASSERT_EQ(b.link.settings().request(values({{rpv::SETTING_HEATER, 2500}})), SettingsCheck::OK);
  b.run_until(70000);
  const auto lines = b.settings_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, build_command({{"HTR", 2500}}));
  EXPECT_EQ(b.atmega.settings.value[kSettingHeater], 2500);
  EXPECT_EQ(b.link.settings().reported().value[rpv::SETTING_HEATER], 2500);
  EXPECT_TRUE(b.link.settings().pending().empty());
  EXPECT_EQ(b.link.settings().failures(), 0u);
  EXPECT_EQ(b.sent.size(), 2u);  // nothing else: auto, and reported auto
}

TEST(Settings, ALostLineIsSentAgain) {
  Bench b;
  b.run_until(9000);
  b.atmega.deaf = true;
  ASSERT_EQ(b.link.settings().request(values({{rpv::SETTING_CURRENT_CAL, 415}})), SettingsCheck::OK);
  b.run_until(10000);
  b.atmega.deaf = false;
  b.run_until(40000);
  const auto lines = b.settings_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_GE(lines[1].at_ms - lines[0].at_ms, 7000u);  // the keeper's retry time
  EXPECT_LE(lines[1].at_ms - lines[0].at_ms, 8500u);
  EXPECT_EQ(b.atmega.settings.value[kSettingCurrentCal], 415);
  EXPECT_TRUE(b.link.settings().pending().empty());
  EXPECT_EQ(b.link.settings().failures(), 0u);
}

TEST(Settings, TheKeeperGivesUpAfterBoundedRetries) {
  Bench b;
  b.run_until(9000);
  b.atmega.deaf = true;
  ASSERT_EQ(b.link.settings().request(values({{rpv::SETTING_CH2, 1500}})), SettingsCheck::OK);
  b.run_until(120000);
  EXPECT_EQ(b.settings_lines().size(), 3u);
  EXPECT_EQ(b.link.settings().failures(), 1u);
  EXPECT_EQ(b.link.settings().take_given_up(), 1u << rpv::SETTING_CH2);
  EXPECT_EQ(b.link.settings().take_given_up(), 0u);
  EXPECT_TRUE(b.link.settings().pending().empty());
  EXPECT_EQ(b.link.settings().reported().value[rpv::SETTING_CH2], cfg::kDefaultCh2Watts);  // what is in force
}

TEST(Settings, ARequestTheAtmegaWouldRefuseIsRefusedHereAndChangesNothing) {
  Bench b;
  b.run_until(9000);  // every setting reported: heater 2000 W, export 5 W
  const size_t before = b.sent.size();
  EXPECT_EQ(b.link.settings().request(values({{rpv::SETTING_EXPORT, 50}})), SettingsCheck::EXPORT_TOO_HIGH);
  EXPECT_EQ(b.link.settings().request(values({{rpv::SETTING_HEATER, 400}})), SettingsCheck::EXPORT_TOO_HIGH);
  EXPECT_EQ(b.link.settings().request(values({{rpv::SETTING_HEATER, 200}})), SettingsCheck::OUT_OF_RANGE);
  EXPECT_EQ(b.link.settings().request(SettingValues{}), SettingsCheck::EMPTY);
  b.run_until(20000);
  EXPECT_EQ(b.sent.size(), before);
  EXPECT_TRUE(b.link.settings().pending().empty());
  // both in one request: valid as a whole, one line, which the ATmega takes
  EXPECT_EQ(b.link.settings().request(values({{rpv::SETTING_HEATER, 400}, {rpv::SETTING_EXPORT, 3}})),
            SettingsCheck::OK);
  b.run_until(40000);
  ASSERT_EQ(b.settings_lines().size(), 1u);
  EXPECT_EQ(b.settings_lines()[0].text, build_command({{"HTR", 400}, {"EXT", 3}}));
  EXPECT_EQ(b.atmega.settings.value[kSettingHeater], 400);
  EXPECT_EQ(b.atmega.settings.value[kSettingExport], 3);
  EXPECT_EQ(b.atmega.refused_total(), 0);
  EXPECT_TRUE(b.link.settings().pending().empty());
}

TEST(Settings, APendingSettingCountsInTheNextRequestAndTravelsWithIt) {
  Bench b;
  b.run_until(9000);
  b.atmega.deaf = true;  // the first line is lost
  ASSERT_EQ(b.link.settings().request(values({{rpv::SETTING_EXPORT, 3}})), SettingsCheck::OK);
  b.run_until(9500);
  b.atmega.deaf = false;
  // 400 W with the 5 W in force would be refused; with the 3 W pending it is not
  ASSERT_EQ(b.link.settings().request(values({{rpv::SETTING_HEATER, 400}})), SettingsCheck::OK);
  b.run_until(40000);
  const auto lines = b.settings_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].text, build_command({{"HTR", 400}, {"EXT", 3}}));
  EXPECT_EQ(b.atmega.settings.value[kSettingHeater], 400);
  EXPECT_EQ(b.atmega.refused_total(), 0);
}

TEST(Settings, ARequestForWhatIsInForceSendsNothing) {
  Bench b;
  b.run_until(9000);
  const size_t before = b.sent.size();
  EXPECT_EQ(b.link.settings().request(values({{rpv::SETTING_HEATER, 2000}})), SettingsCheck::OK);
  b.run_until(20000);
  EXPECT_EQ(b.sent.size(), before);
}

TEST(Settings, LinkLostForgetsWhatWasReported) {
  Bench b;
  b.run_until(9000);
  ASSERT_EQ(b.link.settings().reported().present, 0x1F);
  b.link.on_link_lost();
  EXPECT_TRUE(b.link.settings().reported().empty());
}

// ============================================================================ pacing, RX windows

TEST(Pacing, LinesAreSpacedAndOnlyBetweenFrames) {
  Bench b;
  b.run_until(9000);
  b.link.request_ch1(Ch1Request::BOOST, 80, 0, b.now);
  ASSERT_EQ(b.link.settings().request(values({{rpv::SETTING_HEATER, 2500}})), SettingsCheck::OK);
  b.run_until(70000);
  ASSERT_GT(b.sent.size(), 20u);
  for (size_t i = 1; i < b.sent.size(); i++)
    EXPECT_GE(b.sent[i].at_ms - b.sent[i - 1].at_ms, CommandLink::LINE_GAP_MS) << i;
  for (const auto &line : b.sent) {
    for (const auto &frame : b.frames_on_wire)
      EXPECT_FALSE(line.at_ms >= frame.first && line.at_ms < frame.second) << line.at_ms << " " << line.text;
  }
  // the boost went out first, the setting 100 ms later, in the same gap between frames
  EXPECT_EQ(b.sent[1].text, build_command({{"BST", 80}, {"LSE", 5}}));
  EXPECT_EQ(b.sent[2].text, build_command({{"HTR", 2500}}));
  EXPECT_EQ(b.sent[2].at_ms - b.sent[1].at_ms, CommandLink::LINE_GAP_MS);
  // renewals wait for a gap, but come well within the 5-s lease: the ATmega never drops the boost
  for (size_t i = 3; i < b.sent.size(); i++)
    EXPECT_LE(b.sent[i].at_ms - b.sent[i - 1].at_ms, 3000u) << i;
  EXPECT_EQ(b.atmega.lease.mode(), kModeBoost);
  EXPECT_EQ(b.atmega.settings.value[kSettingHeater], 2500);
}

TEST(Pacing, ALineWaitsForTheEndOfTheNextFrameOnceTheWindowHasPassed) {
  Bench b;
  b.run_until(9700);  // 0.54 s after the last frame's end: too close to the next frame
  b.link.request_ch1(Ch1Request::STOP, 0, 0, b.now);
  b.run_until(10150);
  const size_t before = b.sent.size();
  b.run_until(10200);
  ASSERT_EQ(b.sent.size(), before + 1);
  EXPECT_EQ(b.sent.back().at_ms, 10160u);  // the next frame's end
  EXPECT_EQ(b.sent.back().text, build_command({{"STP", 1}, {"LSE", 5}}));
}

TEST(Pacing, TheLeaseHoldsThroughAMinuteOfBoostBetweenFrames) {
  Bench b;
  b.run_until(9000);
  b.link.request_ch1(Ch1Request::BOOST, 100, 60000, b.now);
  uint32_t boost_ms = 0;
  for (uint32_t end = b.now + 90000; b.now < end;) {
    b.run_until(b.now + 10);
    if (b.atmega.lease.mode() == kModeBoost)
      boost_ms += 10;
  }
  EXPECT_EQ(b.link.lease().requested(), Ch1Request::AUTO);
  EXPECT_EQ(b.atmega.lease.mode(), kModeAuto);
  // from the first line (at the next gap, < 0.5 s) to the AUT line (at the gap after 60 s)
  EXPECT_GE(boost_ms, 59000u);
  EXPECT_LE(boost_ms, 61000u);
}

TEST(Pacing, ASilentAtmegaIsNotWaitedFor) {
  Bench b;
  b.frames = false;
  b.link.request_ch1(Ch1Request::STOP, 0, 0, 0);
  b.run_until(2000);
  ASSERT_EQ(b.sent.size(), 1u);
  EXPECT_EQ(b.sent[0].at_ms, CommandLink::RX_SILENT_MS);  // nothing received for 1.5 s
  EXPECT_EQ(b.sent[0].text, build_command({{"STP", 1}, {"LSE", 5}}));
}

TEST(Pacing, AnAtmegaNotInAutoIsToldSoAtOnce) {
  // After a gateway restart the ATmega may still hold a boost lease (MOD 1): the gateway, in auto,
  // says so at its first frame rather than waiting for the lease to run out.
  Bench b;
  b.atmega.receive(build_command({{"BST", 100}, {"LSE", 30}}));
  b.run_until(20000);
  ASSERT_EQ(b.sent.size(), 1u);
  EXPECT_EQ(b.sent[0].at_ms, 160u);  // the end of the first frame
  EXPECT_EQ(b.sent[0].text, build_command({{"AUT", 1}}));
  EXPECT_EQ(b.atmega.lease.mode(), kModeAuto);
}

TEST(Pacing, AnAtmegaThatDoesNotHearIsToldEveryTenSeconds) {
  // An ATmega without a command line (an older firmware, RX not wired) never reports: the gateway,
  // in auto, says auto every 10 s, and nothing else.
  Bench b;
  b.atmega.deaf = true;
  b.run_until(35000);
  ASSERT_EQ(b.sent.size(), 4u);  // at 0.16 s, then ~10, ~20, ~30 s
  for (const auto &line : b.sent)
    EXPECT_EQ(line.text, build_command({{"AUT", 1}}));
  for (size_t i = 1; i < b.sent.size(); i++) {
    EXPECT_GE(b.sent[i].at_ms - b.sent[i - 1].at_ms, CommandLink::RESYNC_MS);
    EXPECT_LE(b.sent[i].at_ms - b.sent[i - 1].at_ms, CommandLink::RESYNC_MS + 1000);
  }
  EXPECT_TRUE(b.link.settings().reported().empty());
}
