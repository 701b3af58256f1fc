// GoogleTest unit tests of the routeur_pv frame parser and the legacy JSON rendering.
// Built with plain g++ by tests/gateway/test_gateway_cpp.py (no ESPHome needed: pure C++).
// Frame files under tests/gateway/data are read from the directory given in GATEWAY_TEST_DATA.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "frame_parser.h"
#include "legacy_json.h"

using namespace esphome::routeur_pv;

namespace {

std::string with_crc(const std::string &body, const char *eol = "\r\n") {
  return body + "$" + std::to_string(crc8_maxim(body.data(), body.size())) + eol;
}

const std::string SEED_BODY = "EIB>1234.56;REE>-90.43;MPC>300.00;POR>42.00;FID>5800;SPL>57;VO2>0;";
const std::string OUR_BODY =
    "EIB>412.50;REE>3.21;MPC>20.00;POR>40.12;FID>5123;SPL>192;VO2>0;FRQ>50.00;VRM>230.1;STA>0;";

struct Feed {
  FrameParser parser;
  std::vector<Frame> frames;
  std::vector<Reject> rejects;
  void operator()(const std::string &bytes) {
    for (unsigned char c : bytes) {
      FeedResult r = parser.feed(c);
      if (r == FeedResult::FRAME)
        frames.push_back(parser.frame());
      else if (r == FeedResult::REJECTED)
        rejects.push_back(parser.last_reject());
    }
  }
};

std::string read_file(const std::string &name) {
  const char *dir = std::getenv("GATEWAY_TEST_DATA");
  std::ifstream in(std::string(dir ? dir : "tests/gateway/data") + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string render(const LegacyValues &v) {
  char buf[LEGACY_JSON_MAX];
  size_t n = render_legacy_json(v, buf, sizeof(buf));
  return std::string(buf, n);
}

}  // namespace

// ------------------------------------------------------------------------------- CRC
TEST(Crc, CheckValueAndSeedExample) {
  EXPECT_EQ(crc8_maxim("123456789", 9), 0xA1);  // CRC-8/MAXIM check value
  EXPECT_EQ(crc8_maxim(SEED_BODY.data(), SEED_BODY.size()), 74);  // SEED-FACTS.md example: $74
  EXPECT_EQ(crc8_maxim("", 0), 0);
}

// ------------------------------------------------------------------------------- good frames
TEST(Parser, SeedFrame) {
  Feed f;
  f("EIB>1234.56;REE>-90.43;MPC>300.00;POR>42.00;FID>5800;SPL>57;VO2>0;$74\r\n");
  ASSERT_EQ(f.frames.size(), 1u);
  ASSERT_TRUE(f.rejects.empty());
  const Frame &fr = f.frames[0];
  EXPECT_DOUBLE_EQ(fr.value[FIELD_EIB], 1234.56);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_REE], -90.43);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_MPC], 300.0);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_POR], 42.0);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_FID], 5800);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_SPL], 57);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_VO2], 0);
  EXPECT_EQ(fr.decimals[FIELD_MPC], 2);
  EXPECT_EQ(fr.decimals[FIELD_FID], 0);
  EXPECT_FALSE(fr.has(FIELD_FRQ));
  EXPECT_FALSE(fr.has(FIELD_STA));
  EXPECT_EQ(f.parser.frames_ok(), 1u);
  EXPECT_EQ(f.parser.frames_rejected(), 0u);
}

TEST(Parser, OurFrame) {
  Feed f;
  f(with_crc(OUR_BODY));
  ASSERT_EQ(f.frames.size(), 1u);
  const Frame &fr = f.frames[0];
  EXPECT_DOUBLE_EQ(fr.value[FIELD_FRQ], 50.0);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_VRM], 230.1);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_STA], 0);
  EXPECT_TRUE(fr.has(FIELD_STA));
}

TEST(Parser, EnergyFieldsOfOurFrame) {
  // The frame the ATmega sends since the energy counters: PW1 (W), WHI/WHE/WH1 (Wh, cumulative).
  Feed f;
  f(with_crc(OUR_BODY + "PW1>802.4;WHI>2.79;WHE>9.82;WH1>25.54;"));
  ASSERT_EQ(f.frames.size(), 1u);
  const Frame &fr = f.frames[0];
  EXPECT_DOUBLE_EQ(fr.value[FIELD_PW1], 802.4);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_WHI], 2.79);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_WHE], 9.82);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_WH1], 25.54);
  EXPECT_FALSE(Feed().parser.frame().has(FIELD_PW1));
  // a counter can never be negative: the whole frame is refused
  Feed bad;
  bad(with_crc(OUR_BODY + "PW1>802.4;WHI>-2.79;WHE>9.82;WH1>25.54;"));
  EXPECT_TRUE(bad.frames.empty());
  ASSERT_EQ(bad.rejects.size(), 1u);
  EXPECT_EQ(bad.rejects[0], Reject::OUT_OF_RANGE);
}

TEST(Parser, ChannelTwoInWatts) {
  // PO2: VO2 in watts of the ATmega's DIM, an integer beside VO2.
  Feed f;
  f(with_crc("EIB>412.50;REE>3.21;MPC>20.00;POR>40.12;FID>5123;SPL>192;VO2>40;PO2>1000;FRQ>50.00;"));
  ASSERT_EQ(f.frames.size(), 1u);
  EXPECT_DOUBLE_EQ(f.frames[0].value[FIELD_PO2], 1000);
  EXPECT_DOUBLE_EQ(f.frames[0].value[FIELD_VO2], 40);
  for (const char *bad_value : {"PO2>1000.5;", "PO2>-1;", "PO2>40000;"}) {
    Feed bad;
    bad(with_crc(std::string("EIB>412.50;REE>3.21;MPC>20.00;POR>40.12;FID>5123;SPL>192;VO2>40;") + bad_value));
    EXPECT_TRUE(bad.frames.empty()) << bad_value;
    ASSERT_EQ(bad.rejects.size(), 1u) << bad_value;
  }
}

TEST(Parser, CommandFieldsOfOurFrame) {
  // Once the ATmega has received a command line: the commands' state and one setting a frame.
  Feed f;
  f(with_crc(OUR_BODY + "PW1>0.0;WHI>2.79;WHE>9.82;WH1>25.54;MOD>1;LSR>4;CAC>12;CRJ>3;SCS>87;HTR>2500;"));
  ASSERT_EQ(f.frames.size(), 1u) << reject_name(f.parser.last_reject());
  const Frame &fr = f.frames[0];
  EXPECT_DOUBLE_EQ(fr.value[FIELD_MOD], 1);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_LSR], 4);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_CAC], 12);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_CRJ], 3);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_SCS], 87);
  EXPECT_DOUBLE_EQ(fr.value[FIELD_HTR], 2500);
  for (Field k : {FIELD_DIM, FIELD_EXT, FIELD_VCL, FIELD_ICL})
    EXPECT_FALSE(fr.has(k)) << field_info(k).key;  // the other settings come in the next frames
  // every setting key, each in its own frame
  for (const char *kv : {"DIM>1000;", "EXT>5;", "VCL>500;", "ICL>400;"}) {
    Feed g;
    g(with_crc(OUR_BODY + "MOD>0;LSR>0;CAC>1;CRJ>0;SCS>3;" + kv));
    ASSERT_EQ(g.frames.size(), 1u) << kv;
  }
  Feed g;
  g(with_crc(OUR_BODY + "MOD>0;LSR>0;CAC>1;CRJ>0;SCS>3;DIM>1000;"));
  EXPECT_DOUBLE_EQ(g.frames[0].value[FIELD_DIM], 1000);
}

TEST(Parser, CommandFieldsAbsentFromOlderFrames) {
  // An ATmega that never received a command line (or an older firmware): none of them, unknown.
  Feed f;
  f(with_crc(OUR_BODY + "PW1>802.4;WHI>2.79;WHE>9.82;WH1>25.54;"));
  ASSERT_EQ(f.frames.size(), 1u);
  for (Field k : {FIELD_MOD, FIELD_LSR, FIELD_CAC, FIELD_CRJ, FIELD_SCS, FIELD_HTR, FIELD_DIM, FIELD_EXT,
                  FIELD_VCL, FIELD_ICL})
    EXPECT_FALSE(f.frames[0].has(k)) << field_info(k).key;
}

TEST(Parser, CommandFieldsAreIntegersInRange) {
  const std::string head = OUR_BODY + "MOD>0;LSR>0;CAC>1;CRJ>0;";
  struct Case {
    std::string tail;
    Reject why;
  } cases[] = {{"SCS>256;", Reject::OUT_OF_RANGE},   {"SCS>-1;", Reject::OUT_OF_RANGE},
               {"SCS>3.0;", Reject::NON_NUMERIC},    {"SCS>1;HTR>-100;", Reject::OUT_OF_RANGE},
               {"SCS>1;HTR>40000;", Reject::OUT_OF_RANGE}, {"SCS>1;VCL>5.00;", Reject::NON_NUMERIC},
               {"SCS>1;MOD>3;", Reject::DUPLICATE_FIELD}};
  for (const auto &c : cases) {
    Feed f;
    f(with_crc(head + c.tail));
    EXPECT_TRUE(f.frames.empty()) << c.tail;
    EXPECT_EQ(f.parser.rejected(c.why), 1u) << c.tail;
  }
  Feed f;
  f(with_crc(OUR_BODY + "MOD>3;"));  // no such mode
  f(with_crc(OUR_BODY + "CAC>65536;"));
  EXPECT_EQ(f.parser.rejected(Reject::OUT_OF_RANGE), 2u);
}

TEST(Parser, SettingsDefaultsStatusBit) {
  Feed f;
  f(with_crc("EIB>412.50;REE>3.21;MPC>20.00;POR>40.12;FID>5123;SPL>192;VO2>0;FRQ>50.00;VRM>230.1;STA>40;"));
  ASSERT_EQ(f.frames.size(), 1u);
  const auto sta = static_cast<uint16_t>(f.frames[0].value[FIELD_STA]);
  EXPECT_TRUE(sta & STA_SETTINGS_DEFAULTS);
  EXPECT_TRUE(sta & STA_CH1_SATURATED);
  EXPECT_EQ(STA_SETTINGS_DEFAULTS, 32u);
}

TEST(Parser, OlderFieldSetWithoutVO2) {
  Feed f;
  f(with_crc("EIB>100.00;REE>5.00;MPC>30.00;POR>0.00;FID>10000;SPL>56;"));
  ASSERT_EQ(f.frames.size(), 1u);
  EXPECT_FALSE(f.frames[0].has(FIELD_VO2));
}

TEST(Parser, AnyOrderAndUnknownKeysIgnored) {
  Feed f;
  f(with_crc("VO2>12;SPL>57;XYZ>hello world;FID>5800;POR>42.00;NEW1>1e9;MPC>300.00;REE>-1.5;EIB>0.00;"));
  ASSERT_EQ(f.frames.size(), 1u) << reject_name(f.parser.last_reject());
  EXPECT_DOUBLE_EQ(f.frames[0].value[FIELD_VO2], 12);
  EXPECT_DOUBLE_EQ(f.frames[0].value[FIELD_REE], -1.5);
}

TEST(Parser, LineEndVariants) {
  for (const char *eol : {"\r\n", "\n", "\r", "\r\r\n", "\n\n"}) {
    Feed f;
    f(with_crc(SEED_BODY, eol));
    f(with_crc(OUR_BODY, eol));
    EXPECT_EQ(f.frames.size(), 2u) << "eol variant " << (int) eol[0] << "," << (int) eol[1];
    EXPECT_TRUE(f.rejects.empty());
  }
}

TEST(Parser, ConcatenatedFrames) {
  Feed f;
  std::string s;
  for (int i = 0; i < 10; i++)
    s += with_crc("EIB>1.00;REE>" + std::to_string(i) + ".00;MPC>1.00;POR>1.00;FID>1;SPL>1;VO2>1;");
  f(s);
  ASSERT_EQ(f.frames.size(), 10u);
  for (int i = 0; i < 10; i++)
    EXPECT_DOUBLE_EQ(f.frames[i].value[FIELD_REE], i);
}

TEST(Parser, ByteAtATimeAcrossCalls) {
  FrameParser p;
  std::string s = with_crc(OUR_BODY);
  int frames = 0;
  for (unsigned char c : s)
    frames += p.feed(c) == FeedResult::FRAME;
  EXPECT_EQ(frames, 1);
}

// ------------------------------------------------------------------------------- bad frames
TEST(Parser, BadCrcRejected) {
  Feed f;
  f(SEED_BODY + "$75\r\n");
  EXPECT_TRUE(f.frames.empty());
  ASSERT_EQ(f.rejects.size(), 1u);
  EXPECT_EQ(f.rejects[0], Reject::CRC);
  EXPECT_EQ(f.parser.rejected(Reject::CRC), 1u);
}

TEST(Parser, EveryCorruptedSingleByteRejected) {
  // a byte substitution anywhere in a frame (line ends excluded) never publishes anything
  const std::string good = with_crc(OUR_BODY, "");
  int published = 0;
  for (size_t pos = 0; pos < good.size(); pos++) {
    for (int v = 0; v < 256; v++) {
      if (v == good[pos] || v == '\r' || v == '\n')
        continue;
      std::string bad = good;
      bad[pos] = static_cast<char>(v);
      Feed f;
      f(bad + "\r\n");
      published += static_cast<int>(f.frames.size());
    }
  }
  EXPECT_EQ(published, 0);
}

TEST(Parser, Truncated) {
  Feed f;
  std::string full = with_crc(SEED_BODY);
  f(full.substr(0, 30) + "\r\n");                       // cut in the middle
  f(SEED_BODY + "\r\n");                                // no $crc
  f(SEED_BODY + "$\r\n");                               // empty crc
  f(full.substr(0, full.size() - 3) + "\r\n");          // "$7" instead of "$74"
  EXPECT_TRUE(f.frames.empty());
  EXPECT_EQ(f.rejects.size(), 4u);
  f(full);  // and the next good frame is accepted
  EXPECT_EQ(f.frames.size(), 1u);
}

TEST(Parser, GarbageBetweenFramesResynchronises) {
  Feed f;
  f(std::string("\x00\xff\x13garbage\r\n", 12));
  f(with_crc(SEED_BODY));
  f("zzz;;>>$$12\r\n\r\n");
  f("noise without line end then a frame " + with_crc(OUR_BODY));  // resync on "EIB>" inside the line
  f("EIB>12.00;REE>3");                                             // partial frame (ATmega reset)...
  f(with_crc(SEED_BODY));                                           // ...then a whole one, same line
  EXPECT_EQ(f.frames.size(), 3u);
  EXPECT_EQ(f.rejects.size(), 2u);  // the two garbage lines; the resynchronised lines are accepted
}

TEST(Parser, OverlongLinesBounded) {
  Feed f;
  f(std::string(5000, 'A') + "\r\n");
  EXPECT_TRUE(f.frames.empty());
  ASSERT_EQ(f.rejects.size(), 1u);
  EXPECT_EQ(f.rejects[0], Reject::OVERLONG);
  f(with_crc(SEED_BODY));
  EXPECT_EQ(f.frames.size(), 1u);
  // a frame right after a long run of garbage on the same line is still found
  f(std::string(1000, 'x') + with_crc(OUR_BODY));
  EXPECT_EQ(f.frames.size(), 2u);
  // an overlong line made of valid-looking fields is refused
  std::string body;
  while (body.size() < FrameParser::MAX_LINE)
    body += "ZZZ>1;";
  f(with_crc(SEED_BODY.substr(0, SEED_BODY.size()) + body));
  EXPECT_EQ(f.frames.size(), 2u);
}

TEST(Parser, NonNumericValuesRejected) {
  for (const char *v : {"nan", "inf", "-inf", "ovf", "1e3", "1.", ".5", "+1", "--1", "1.2.3", " 1", "0x10",
                        "12345678901234567"}) {
    Feed f;
    f(with_crc(std::string("EIB>1.00;REE>") + v + ";MPC>1.00;POR>1.00;FID>1;SPL>1;VO2>1;"));
    EXPECT_TRUE(f.frames.empty()) << v;
    ASSERT_EQ(f.rejects.size(), 1u) << v;
    EXPECT_TRUE(f.rejects[0] == Reject::NON_NUMERIC || f.rejects[0] == Reject::SYNTAX) << v;
  }
  Feed f;
  f(with_crc(OUR_BODY.substr(0, OUR_BODY.size() - 6) + "STA>1.5;"));  // status must be an integer
  EXPECT_TRUE(f.frames.empty());
  EXPECT_EQ(f.parser.rejected(Reject::NON_NUMERIC), 1u);
}

TEST(Parser, OutOfRangeRejected) {
  struct Case {
    const char *key;
    const char *value;
  } cases[] = {{"VO2", "101"}, {"VO2", "-1"}, {"REE", "-250000.00"}, {"FID", "-5"}, {"SPL", "99999"},
               {"MPC", "-1.00"}, {"EIB", "999999.00"}};
  for (auto &c : cases) {
    std::string body = SEED_BODY;
    size_t k = body.find(std::string(c.key) + ">");
    size_t end = body.find(';', k);
    body.replace(k + 4, end - k - 4, c.value);
    Feed f;
    f(with_crc(body));
    EXPECT_TRUE(f.frames.empty()) << c.key << "=" << c.value;
    EXPECT_EQ(f.parser.rejected(Reject::OUT_OF_RANGE), 1u) << c.key << "=" << c.value;
  }
  Feed f;
  f(with_crc("EIB>1.00;REE>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;VO2>1;FRQ>150.00;"));
  EXPECT_TRUE(f.frames.empty());
  f(with_crc("EIB>1.00;REE>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;VO2>1;VRM>900.0;"));
  EXPECT_TRUE(f.frames.empty());
  EXPECT_EQ(f.parser.rejected(Reject::OUT_OF_RANGE), 2u);
}

TEST(Parser, MissingAndDuplicateFields) {
  Feed f;
  f(with_crc("EIB>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;VO2>1;"));  // no REE
  f(with_crc("REE>1.00;"));
  f(with_crc("EIB>1.00;REE>1.00;REE>2.00;MPC>1.00;POR>1.00;FID>1;SPL>1;"));
  EXPECT_TRUE(f.frames.empty());
  EXPECT_EQ(f.parser.rejected(Reject::MISSING_FIELD), 2u);
  EXPECT_EQ(f.parser.rejected(Reject::DUPLICATE_FIELD), 1u);
}

// Our ATmega sends a large move of VO2 at once in a frame of its own: VO2 and PO2, nothing else.
// A partial frame that is not that (a seed field, or no VO2) is still refused.
TEST(Parser, ChannelTwoFrames) {
  Feed f;
  f(with_crc("VO2>53;PO2>530;"));
  f(with_crc("VO2>7;"));
  ASSERT_EQ(f.frames.size(), 2u);
  EXPECT_TRUE(f.frames[0].channel2_only());
  EXPECT_DOUBLE_EQ(f.frames[0].value[FIELD_VO2], 53.0);
  EXPECT_DOUBLE_EQ(f.frames[0].value[FIELD_PO2], 530.0);
  EXPECT_TRUE(f.frames[1].channel2_only());
  EXPECT_FALSE(f.frames[1].has(FIELD_PO2));
  f(with_crc("VO2>53;PO2>530;REE>1.00;"));
  f(with_crc("PO2>530;"));
  EXPECT_EQ(f.frames.size(), 2u);
  EXPECT_EQ(f.parser.rejected(Reject::MISSING_FIELD), 2u);
  f(with_crc("EIB>1.00;REE>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;VO2>1;"));
  ASSERT_EQ(f.frames.size(), 3u);
  EXPECT_FALSE(f.frames[2].channel2_only());
}

TEST(Parser, SyntaxErrors) {
  for (std::string body : {"EIB>1.00;REE>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;VO2>1",  // no final ;
                           "EIB>1.00;;REE>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;",       // empty field
                           "EIB>>1.00;REE>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;",       // double >
                           "eib>1.00;REE>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;",        // lowercase key
                           "EIB>;REE>1.00;MPC>1.00;POR>1.00;FID>1;SPL>1;"}) {         // empty value
    Feed f;
    f(with_crc(body));
    EXPECT_TRUE(f.frames.empty()) << body;
  }
  Feed f;
  f(SEED_BODY + "$1234\r\n");  // CRC with 4 digits
  f(SEED_BODY + "$300\r\n");   // CRC > 255
  f(SEED_BODY + "$74x\r\n");
  EXPECT_EQ(f.parser.rejected(Reject::SYNTAX), 3u);
}

TEST(Parser, ValuesExactLikeStrtod) {
  Feed f;
  f(with_crc("EIB>999.99;REE>-0.01;MPC>0.10;POR>99.99;FID>10000;SPL>255;VO2>100;VRM>229.9;FRQ>49.98;"));
  ASSERT_EQ(f.frames.size(), 1u);
  const Frame &fr = f.frames[0];
  EXPECT_EQ(fr.value[FIELD_EIB], std::strtod("999.99", nullptr));
  EXPECT_EQ(fr.value[FIELD_REE], std::strtod("-0.01", nullptr));
  EXPECT_EQ(fr.value[FIELD_VRM], std::strtod("229.9", nullptr));
  EXPECT_EQ(fr.value[FIELD_FRQ], std::strtod("49.98", nullptr));
}

// ------------------------------------------------------------------------------- captures
TEST(Capture, SeedFormatFile) {
  std::string data = read_file("seed_frames.txt");
  ASSERT_FALSE(data.empty());
  Feed f;
  f(data);
  EXPECT_EQ(f.frames.size(), 5u);
  EXPECT_EQ(f.rejects.size(), 0u);
}

TEST(Capture, OurFirmwareCapture) {
  std::string data = read_file("pvsim_steady_800.bin");
  if (data.empty())
    GTEST_SKIP() << "tests/gateway/data/pvsim_steady_800.bin not captured yet";
  Feed f;
  f(data);
  EXPECT_GE(f.frames.size(), 3u);
  EXPECT_EQ(f.rejects.size(), 0u);
  for (const Frame &fr : f.frames) {
    EXPECT_TRUE(fr.has(FIELD_FRQ));
    EXPECT_TRUE(fr.has(FIELD_VRM));
    EXPECT_TRUE(fr.has(FIELD_STA));
    EXPECT_NEAR(fr.value[FIELD_FRQ], 50.0, 0.5);
    EXPECT_NEAR(fr.value[FIELD_VRM], 230.0, 10.0);
  }
}

// ------------------------------------------------------------------------------- legacy JSON
TEST(LegacyJson, InitialZeros) {
  LegacyValues v;
  EXPECT_EQ(render(v), "{\"FID\":0,\"EIB\":0,\"MPC\":0,\"REE\":0,\"POR\":0,\"SPL\":0,\"VO2\":0}");
}

TEST(LegacyJson, OldGatewayExampleByteForByte) {
  FrameParser p;
  Frame fr;
  std::string body = "EIB>2092.77;REE>-90.43;MPC>37.50;POR>784.76;FID>4187;SPL>57;VO2>0;";
  ASSERT_EQ(p.parse_line(body.data(), body.size(), fr), Reject::SYNTAX);  // no $crc yet: sanity
  std::string line = with_crc(body, "");
  ASSERT_EQ(p.parse_line(line.data(), line.size(), fr), Reject::NONE);
  LegacyValues v;
  v.update(fr);
  EXPECT_EQ(render(v), "{\"FID\":4187,\"EIB\":2092.77,\"MPC\":37.5,\"REE\":-90.43,\"POR\":784.76,\"SPL\":57,\"VO2\":0}");
}

TEST(LegacyJson, PorClampedAndNumbersFormatted) {
  FrameParser p;
  Frame fr;
  std::string line = with_crc("EIB>100.00;REE>-0.00;MPC>0.05;POR>-3.20;FID>10000;SPL>192;VO2>100;", "");
  ASSERT_EQ(p.parse_line(line.data(), line.size(), fr), Reject::NONE);
  LegacyValues v;
  v.update(fr);
  EXPECT_EQ(render(v), "{\"FID\":10000,\"EIB\":100,\"MPC\":0.05,\"REE\":0,\"POR\":0,\"SPL\":192,\"VO2\":100}");
  v.clear();
  EXPECT_EQ(render(v), "{\"FID\":0,\"EIB\":0,\"MPC\":0,\"REE\":0,\"POR\":0,\"SPL\":0,\"VO2\":0}");
}

TEST(LegacyJson, OlderFrameKeepsPreviousValues) {
  FrameParser p;
  Frame fr;
  LegacyValues v;
  std::string a = with_crc("EIB>9.00;REE>9.00;MPC>9.00;POR>9.00;FID>9;SPL>9;VO2>55;", "");
  ASSERT_EQ(p.parse_line(a.data(), a.size(), fr), Reject::NONE);
  v.update(fr);
  std::string b = with_crc("EIB>1.00;REE>2.00;MPC>3.00;POR>4.00;FID>5;SPL>6;", "");
  ASSERT_EQ(p.parse_line(b.data(), b.size(), fr), Reject::NONE);
  v.update(fr);
  EXPECT_EQ(render(v), "{\"FID\":5,\"EIB\":1,\"MPC\":3,\"REE\":2,\"POR\":4,\"SPL\":6,\"VO2\":55}");
}

TEST(LegacyJson, BufferTooSmall) {
  LegacyValues v;
  char buf[10];
  EXPECT_EQ(render_legacy_json(v, buf, sizeof(buf)), 0u);
  EXPECT_STREQ(buf, "");
}

TEST(LegacyJson, NumberFormatting) {
  char buf[32];
  format_legacy_number(-90.43, 2, buf, sizeof(buf));
  EXPECT_STREQ(buf, "-90.43");
  format_legacy_number(230.1, 1, buf, sizeof(buf));
  EXPECT_STREQ(buf, "230.1");
  format_legacy_number(-0.001, 2, buf, sizeof(buf));
  EXPECT_STREQ(buf, "0");
  format_legacy_number(1.05, 2, buf, sizeof(buf));
  EXPECT_STREQ(buf, "1.05");
  format_legacy_number(NAN, 2, buf, sizeof(buf));
  EXPECT_STREQ(buf, "0");
}
