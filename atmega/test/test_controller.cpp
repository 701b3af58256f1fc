#include <string.h>
#include "controller.h"
#include "mini_test.h"
#include "plant_model.h"

TEST(controller_saturated_surplus_keeps_framing) {
  RouterController c;
  House h;
  h.surplus_w = 2600.0;
  int frames = 0;
  double fraction = 0.0;
  for (int cycle = 0; cycle < 50 * 6; ++cycle) {
    // The fraction commanded after a cycle is what the next cycle measures (one-cycle delay).
    const GateCommand g = c.on_cycle(simulate_cycle(h, fraction));
    fraction = g.fire ? c.ch1().fired_fraction() : 0.0;
    if (c.frame_ready()) {
      ++frames;
      c.frame_taken();
    }
  }
  CHECK_EQ(frames, 6);
  CHECK(c.ch1().saturated());
  CHECK(c.vo2() > 0);
}
