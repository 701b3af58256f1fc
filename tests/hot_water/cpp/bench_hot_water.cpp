// `make bench` (bench/run_bench.py, section hot_water): the manager on the house of house.h over a
// summer day, a winter day and a mixed week, each after a day of running; one JSON object out.
#include <cstdio>

#include "house.h"

static void print(const char *name, const house::Outcome &o, bool last) {
  printf("  \"%s\": {\"grid_kwh\": %.3f, \"grid_kwh_minimum\": %.3f, \"solar_kwh\": %.3f, "
         "\"grid_outside_off_peak_kwh\": %.3f, \"deadlines_met\": %d, \"deadlines_total\": %d, "
         "\"max_overshoot_c\": %.3f, \"solar_share_pct\": %.1f, \"legionella_cycles\": %u}%s\n",
         name, o.grid_kwh, o.grid_kwh_minimum, o.solar_kwh, o.grid_outside_off_peak_kwh, o.deadlines_met,
         o.deadlines_total, o.max_overshoot_c, o.solar_share_pct, o.legionella_cycles, last ? "" : ",");
}

int main() {
  const esphome::hot_water::Config c = house::standard_config();
  printf("{\n");
  print("summer", house::run_days(house::summer_house(), c, 1, 1), false);
  print("winter", house::run_days(house::winter_house(), c, 1, 1), false);
  print("week", house::run_days(house::mixed_week_house(), c, 1, 7), true);
  printf("}\n");
  return 0;
}
