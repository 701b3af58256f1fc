// Native micro-benchmarks of the routeur_pv frame parser (the code the gateway runs).
//   bench_parser throughput [frames]            -> {"frames_per_s": ..., "bytes_per_s": ...}
//   bench_parser corrupt [frames] [p] [seed]    -> corruption statistics (JSON)
// corrupt: each byte of a stream of valid frames is replaced, with probability p, by a random
// byte; every frame the parser delivers must be identical to one of the frames sent, else it
// "published a wrong value".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "frame_parser.h"

using namespace esphome::routeur_pv;

static std::string make_frame(std::mt19937 &rng, bool ours) {
  std::uniform_real_distribution<double> eib(0, 1000), ree(-3000, 3000), por(0, 100), vrm(200, 250),
      frq(49.8, 50.2);
  std::uniform_int_distribution<int> fid(0, 10000), spl(150, 200), vo2(0, 100), sta(0, 31);
  char body[200];
  int n = snprintf(body, sizeof(body), "EIB>%.2f;REE>%.2f;MPC>%.2f;POR>%.2f;FID>%d;SPL>%d;VO2>%d;", eib(rng),
                   ree(rng), 20.0, por(rng), fid(rng), spl(rng), vo2(rng));
  if (ours)
    n += snprintf(body + n, sizeof(body) - n, "FRQ>%.2f;VRM>%.1f;STA>%d;", frq(rng), vrm(rng), sta(rng));
  std::string s(body, n);
  return s + "$" + std::to_string(crc8_maxim(s.data(), s.size())) + "\r\n";
}

static std::vector<double> key_of(const Frame &f) {
  std::vector<double> k{static_cast<double>(f.present)};
  for (int i = 0; i < FIELD_COUNT; i++)
    k.push_back(f.has(static_cast<Field>(i)) ? f.value[i] : 0.0);
  return k;
}

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "throughput";
  std::mt19937 rng(argc > 4 ? static_cast<unsigned>(atoi(argv[4])) : 12345u);
  if (mode == "throughput") {
    size_t frames = argc > 2 ? static_cast<size_t>(atol(argv[2])) : 200000;
    std::string stream;
    for (int i = 0; i < 1000; i++)
      stream += make_frame(rng, i % 2 == 0);
    FrameParser p;
    size_t delivered = 0, bytes = 0;
    auto t0 = std::chrono::steady_clock::now();
    while (delivered < frames) {
      for (unsigned char c : stream)
        delivered += p.feed(c) == FeedResult::FRAME;
      bytes += stream.size();
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("{\"frames\": %zu, \"seconds\": %.4f, \"frames_per_s\": %.0f, \"bytes_per_s\": %.0f, "
           "\"rejected\": %u}\n",
           delivered, s, delivered / s, bytes / s, static_cast<unsigned>(p.frames_rejected()));
    return p.frames_rejected() == 0 ? 0 : 1;
  }
  if (mode == "corrupt") {
    size_t frames = argc > 2 ? static_cast<size_t>(atol(argv[2])) : 10000;
    double prob = argc > 3 ? atof(argv[3]) : 0.01;
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_int_distribution<int> byte(0, 255);
    std::set<std::vector<double>> sent;
    FrameParser p;
    size_t corrupted_frames = 0, delivered = 0, wrong = 0, intact_delivered = 0;
    for (size_t i = 0; i < frames; i++) {
      std::string f = make_frame(rng, i % 2 == 0);
      Frame ref;
      std::string line = f.substr(0, f.size() - 2);
      if (p.parse_line(line.data(), line.size(), ref) != Reject::NONE)
        return 2;  // generator bug
      sent.insert(key_of(ref));
      bool corrupted = false;
      for (auto &c : f) {
        if (u(rng) < prob) {
          char nc;
          do
            nc = static_cast<char>(byte(rng));
          while (nc == c);
          c = nc;
          corrupted = true;
        }
      }
      corrupted_frames += corrupted;

      bool wrong_here = false;
      for (unsigned char c : f) {
        if (p.feed(c) == FeedResult::FRAME) {
          delivered++;
          if (!sent.count(key_of(p.frame())))
            wrong_here = true;
          else if (!corrupted)
            intact_delivered++;
        }
      }
      wrong += wrong_here;
    }
    printf("{\"frames\": %zu, \"byte_error_rate\": %g, \"corrupted_frames\": %zu, \"delivered\": %zu, "
           "\"intact_frames\": %zu, \"intact_delivered\": %zu, \"wrong_published\": %zu, \"wrong_fraction_of_corrupted\": %.6f}\n",
           frames, prob, corrupted_frames, delivered, frames - corrupted_frames, intact_delivered, wrong,
           corrupted_frames ? static_cast<double>(wrong) / corrupted_frames : 0.0);
    return 0;
  }
  fprintf(stderr, "usage: bench_parser throughput|corrupt ...\n");
  return 2;
}
