#include <string.h>
#include "controller.h"
#include "mini_test.h"
#include "plant_model.h"

TEST(controller_saturated_surplus_keeps_framing_and_sends_the_vo2_step_early) {
  RouterController c;
  House h;
  h.surplus_w = 2600.0;
  int frames = 0, first_vo2_cycle = -1, longest_gap = 0, shortest_gap = 1000, last_frame = 0;
  double fraction = 0.0;
  for (int cycle = 1; cycle <= 50 * 6; ++cycle) {
    // The fraction commanded after a cycle is what the next cycle measures (one-cycle delay).
    const GateCommand g = c.on_cycle(simulate_cycle(h, fraction));
    fraction = g.fire ? c.ch1().fired_fraction() : 0.0;
    if (c.frame_ready()) {
      ++frames;
      if (first_vo2_cycle < 0 && c.vo2() > 0) first_vo2_cycle = cycle;
      const int gap = cycle - last_frame;
      longest_gap = gap > longest_gap ? gap : longest_gap;
      shortest_gap = gap < shortest_gap ? gap : shortest_gap;
      last_frame = cycle;
      c.frame_taken();
    }
  }
  printf("    600 W above the heater from cycle 1: VO2 out in the frame of cycle %d, %d frames in 6 s\n",
         first_vo2_cycle, frames);
  CHECK(first_vo2_cycle > 0 && first_vo2_cycle <= 15);  // not the regular frame of cycle 50
  CHECK(frames >= 6 && frames <= 8);
  CHECK(longest_gap <= 50);
  CHECK(shortest_gap >= cfg::kMinFrameGapCycles);
  CHECK(c.ch1().saturated());
  CHECK(c.vo2() > 0);
}
