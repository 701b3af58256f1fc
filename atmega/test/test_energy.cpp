// Cumulative energy counters (WHI, WHE, WH1) and the frame that carries them.
#include <stdlib.h>
#include <string.h>
#include "controller.h"
#include "energy_counter.h"
#include "mini_test.h"
#include "plant_model.h"

TEST(energy_counter_counts_hours_of_cycles_exactly) {
  // 2000 W for 6 h in 20 ms cycles: 12 kWh, where a float total of Wh would move by 0.001 Wh steps
  // for each 0.011 Wh cycle (a 10 % error).
  EnergyCounter c;
  for (long cycle = 0; cycle < 6L * 3600L * 50L; ++cycle) c.add(2000.0f, 0.02f);
  CHECK_EQ(c.centi_wh(), 1200000UL);
}

TEST(energy_counter_noise_around_zero_does_not_count_its_positive_half) {
  // An estimate that is noise around 0 (thermostat open): the counter follows the running maximum of
  // the sum (a random walk: ~sqrt(cycles)), where clamping each cycle at 0 would count ~25 Wh here.
  EnergyCounter c;
  srand(7);
  for (int cycle = 0; cycle < 50 * 3600; ++cycle) c.add(float(rand() % 201 - 100), 0.02f);  // +-100 W, 1 h
  printf("    1 h of +-100 W noise around 0: %.2f Wh counted\n", c.centi_wh() / 100.0);
  CHECK(c.centi_wh() <= 50);
}

TEST(energy_counter_wraps_to_zero_past_its_limit) {
  // 10 MWh in 4-unit steps (144 J): a cycle brings a few units at most.
  EnergyCounter c;
  for (uint32_t k = 1; k < cfg::kEnergyWrapCentiWh / 4; ++k) c.add(144.0f, 1.0f);
  CHECK_EQ(c.centi_wh(), cfg::kEnergyWrapCentiWh - 4);
  c.add(288.0f, 1.0f);
  CHECK_EQ(c.centi_wh(), 4UL);
}

TEST(frames_carry_the_energy_counters_and_wait_for_the_uart) {
  RouterController c;
  c.begin(kDefaultSettings, true);
  FrameBuilder frame;
  House h;
  h.surplus_w = -500.0;  // importing: no firing, the import counter grows
  int frames = 0;
  for (int cycle = 1; cycle <= 150; ++cycle) {
    c.set_tx_busy(cycle > 100 && cycle <= 130);  // the UART still sends: no new frame
    c.on_cycle(simulate_cycle(h, 0.0), frame);
    if (c.frame_ready()) {
      ++frames;
      CHECK(strstr(frame.text(), ";WHI>") != nullptr && strstr(frame.text(), ";WHE>") != nullptr &&
            strstr(frame.text(), ";WH1>") != nullptr && strstr(frame.text(), ";PW1>0.0;") != nullptr);
      c.frame_taken();
    }
  }
  CHECK_EQ(frames, 3);  // cycles 50, 131 (held from 100), and none at 150 yet
  // 500 W for 150 cycles of 20 ms: 0.417 Wh; the sums' pairs give the time
  CHECK(c.import_energy().centi_wh() >= 40 && c.import_energy().centi_wh() <= 43);
  CHECK_EQ(c.export_energy().centi_wh(), 0UL);
  CHECK_EQ(c.ch1_energy().centi_wh(), 0UL);
}
