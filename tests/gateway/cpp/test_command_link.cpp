// GoogleTest unit tests of the gateway's command lines and leases (command_link.h), checked against
// the ATmega's own parser and lease (atmega/routeur_pv/command.h): what one side sends, the other reads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "command_link.h"
#include "frame_parser.h"
// The ATmega side, compiled here as in its native tests (global namespace).
#include "command.h"

using esphome::routeur_pv::build_command;
using esphome::routeur_pv::Ch1Request;
using esphome::routeur_pv::LeaseKeeper;

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
