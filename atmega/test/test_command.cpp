#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "command.h"
#include "frame_text.h"
#include "mini_test.h"

// Feeds text; returns how many lines were accepted, and leaves the last one in parser.line().
static int feed(CommandParser& parser, const char* text, size_t length = 0) {
  int accepted = 0;
  if (length == 0) length = strlen(text);
  for (size_t i = 0; i < length; ++i) accepted += parser.feed(uint8_t(text[i])) ? 1 : 0;
  return accepted;
}

TEST(command_line_with_a_good_crc_is_read) {
  CommandParser p;
  CHECK_EQ(feed(p, command_line("BST>60;LSE>5;")), 1);
  CHECK(p.line().has(kKeyBoost) && p.line().has(kKeyLease) && !p.line().has(kKeyStop));
  CHECK_EQ(p.line().value[kKeyBoost], 60);
  CHECK_EQ(p.line().value[kKeyLease], 5);
  CHECK_EQ(p.rejected(), 0);
}

TEST(command_lines_follow_each_other_and_lf_alone_ends_a_line) {
  CommandParser p;
  char two[2 * 256];
  snprintf(two, sizeof two, "%s", command_line("STP>1;LSE>3;"));  // command_line() reuses one buffer
  strcat(two, command_line("AUT>1;"));
  two[strlen(two) - 2] = '\n';  // the second line ends with LF only
  two[strlen(two) - 1] = '\0';
  CHECK_EQ(feed(p, two), 2);
  CHECK(p.line().has(kKeyAuto) && !p.line().has(kKeyStop));
  CHECK_EQ(p.rejected(), 0);
}

TEST(command_lines_that_are_wrong_are_counted_and_give_nothing) {
  const char* bad[] = {
      "BST>60;LSE>5;$0\r\n",              // wrong CRC
      "BST>60;LSE>5;\r\n",                // no CRC
      "BST>60;LSE>5;$\r\n",               // empty CRC
      "BST>60;LSE>5;$-1\r\n",             // negative CRC
      "$0\r\n",                           // no key at all
  };
  for (const char* text : bad) {
    CommandParser p;
    CHECK_EQ(feed(p, text), 0);
    CHECK_EQ(p.rejected(), 1);
    CHECK(p.line().present == 0);
  }
  const char* bad_bodies[] = {
      "XYZ>1;",          // unknown key
      "BS>1;",           // short key
      "BSTT>1;",         // long key
      "bst>1;",          // lower case
      "BST>;",           // no digits
      "BST>6a;",         // not a number
      "BST>--6;",        // two signs
      "BST>12345678;",   // more digits than any value needs
      "BST>32768;",      // values are 16-bit
      "BST>60",          // no ';' before '$'
      "BST>60;;",        // empty pair
      "BST=60;",         // not '>'
  };
  for (const char* body : bad_bodies) {
    CommandParser p;
    CHECK_EQ(feed(p, command_line(body)), 0);
    CHECK_EQ(p.rejected(), 1);
  }
}

TEST(command_parser_resynchronises_after_garbage) {
  CommandParser p;
  // Garbage with no line end (longer than any command), then a good line: the garbage and the
  // start of the good line form one rejected line... unless a line end came first.
  char text[512];
  size_t n = 0;
  for (int i = 0; i < 200; ++i) text[n++] = char('A' + i % 26);
  text[n++] = '\n';
  const char* good = command_line("BST>100;LSE>30;");
  memcpy(text + n, good, strlen(good));
  n += strlen(good);
  CHECK_EQ(feed(p, text, n), 1);
  CHECK_EQ(p.rejected(), 1);
  CHECK_EQ(p.line().value[kKeyBoost], 100);
}

TEST(command_parser_survives_random_bytes_and_still_reads_the_next_line) {
  CommandParser p;
  srand(1234);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint8_t c = uint8_t(rand() & 0xFF);
    accepted += p.feed(c) ? 1 : 0;
  }
  // A random line passing key, number and CRC checks is possible in principle; in 200 kB it is
  // not expected, and anything accepted must at least be a well-formed line.
  CHECK(accepted <= 1);
  CHECK(p.rejected() > 0);
  feed(p, "\n");
  CHECK_EQ(feed(p, command_line("STP>1;LSE>2;")), 1);
  CHECK_EQ(p.line().value[kKeyStop], 1);
}

TEST(command_overlong_line_is_rejected_even_with_a_good_crc) {
  char body[128] = "";
  for (int i = 0; i < 8; ++i) strcat(body, "LSE>1234;");  // 72 chars > kCommandMaxLineChars (48)
  CommandParser p;
  CHECK_EQ(feed(p, command_line(body)), 0);
  CHECK_EQ(p.rejected(), 1);
}

static CommandLine parsed(const char* body) {
  CommandParser p;
  feed(p, command_line(body));
  return p.line();
}

TEST(lease_boost_holds_then_runs_out_back_to_auto) {
  Ch1Lease lease;
  CHECK(lease.apply(parsed("BST>60;LSE>5;")));
  CHECK_EQ(lease.mode(), kModeBoost);
  CHECK_EQ(lease.boost_percent(), 60);
  CHECK_EQ(lease.remaining_seconds(), 5);
  const uint16_t period_50hz = uint16_t(cfg::kTicksPerSecond / 50);
  for (int cycle = 0; cycle < 249; ++cycle) lease.on_cycle(period_50hz);
  CHECK_EQ(lease.mode(), kModeBoost);  // 4.98 s
  CHECK_EQ(lease.remaining_seconds(), 1);
  lease.on_cycle(period_50hz);
  CHECK_EQ(lease.mode(), kModeAuto);  // exactly 5 s
  CHECK_EQ(lease.boost_percent(), 0);
  CHECK_EQ(lease.remaining_seconds(), 0);
}

TEST(lease_renewal_extends_and_auto_cancels) {
  Ch1Lease lease;
  CHECK(lease.apply(parsed("STP>1;LSE>2;")));
  for (int cycle = 0; cycle < 80; ++cycle) lease.on_cycle(uint16_t(cfg::kTicksPerSecond / 50));
  CHECK(lease.apply(parsed("STP>1;LSE>2;")));  // renewed before it ran out
  CHECK_EQ(lease.remaining_seconds(), 2);
  CHECK_EQ(lease.mode(), kModeStop);
  CHECK(lease.apply(parsed("AUT>1;")));
  CHECK_EQ(lease.mode(), kModeAuto);
  CHECK_EQ(lease.remaining_seconds(), 0);
}

TEST(lease_without_a_measured_period_counts_the_longest_cycle) {
  // No mains or no crossing: cycles end without a period; the lease must still run out in time.
  Ch1Lease lease;
  CHECK(lease.apply(parsed("BST>100;LSE>1;")));
  int cycles = 0;
  while (lease.mode() != kModeAuto && cycles < 1000) {
    lease.on_cycle(0);
    ++cycles;
  }
  CHECK(cycles * double(cfg::kMaxPeriodTicks) >= double(cfg::kTicksPerSecond));
  CHECK(cycles <= int(cfg::kTicksPerSecond / cfg::kMaxPeriodTicks) + 1);
}

TEST(lease_refuses_meaningless_commands_and_keeps_what_was_in_force) {
  const char* refused[] = {
      "BST>101;LSE>5;",   // above the heater's rating
      "BST>-1;LSE>5;",
      "BST>50;",          // no lease
      "BST>50;LSE>0;",
      "BST>50;LSE>31;",   // longer than kMaxLeaseSeconds
      "STP>2;LSE>5;",
      "STP>1;",
      "AUT>0;",
      "BST>50;STP>1;LSE>5;",  // two actions
      "LSE>5;",               // no action
  };
  Ch1Lease lease;
  CHECK(lease.apply(parsed("BST>40;LSE>10;")));
  for (const char* body : refused) {
    CHECK(!lease.apply(parsed(body)));
    CHECK_EQ(lease.mode(), kModeBoost);
    CHECK_EQ(lease.boost_percent(), 40);
    CHECK_EQ(lease.remaining_seconds(), 10);
  }
}
