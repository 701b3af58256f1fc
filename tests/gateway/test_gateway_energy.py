"""Energy through the native API: the frames of the real ATmega ELF in the simulated house (their
cumulative counters) fed to the host gateway; what Home Assistant reads (aioesphomeapi) against the
simulator's own accounts of what the heater took and what crossed the grid connection."""
import asyncio
import random

import pytest

from testbed.gateway_harness import ENERGY_SENSORS, OUR_FIELDS, ApiWatcher, feed_and_read, make_frame
from testbed.simrun import energy_at, frame_built_at, good_frames

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", ["day.csv", "thermostat_third.csv"])
def test_routed_and_grid_energy_in_home_assistant_match_the_simulator(gateway, simulate_scenario, scenario):
    summary = simulate_scenario(scenario, ch2_delay=0.3)
    got, _ = feed_and_read(gateway, good_frames(summary))
    truth = energy_at(summary, frame_built_at(good_frames(summary)[-1]))
    print(f"{scenario}: gateway {got}, simulator {truth}")
    assert got["routed_energy"] == pytest.approx(truth["ch1_wh"], rel=0.02), (got, truth)
    assert got["grid_import_energy"] == pytest.approx(truth["import_wh"], rel=0.01, abs=0.02), (got, truth)
    assert got["grid_export_energy"] == pytest.approx(truth["export_wh"], rel=0.01, abs=0.02), (got, truth)
    # "today" is made of the same increments as the total (they once disagreed by 2 %)
    assert got["routed_energy_today"] == pytest.approx(got["routed_energy"], abs=1e-6)


def test_ten_percent_of_frames_lost_loses_no_energy(gateway, simulate_scenario):
    summary = simulate_scenario("day.csv", ch2_delay=0.3)
    frames = good_frames(summary)
    rng = random.Random(10)
    kept = [f for f in frames[:-1] if rng.random() >= 0.10] + frames[-1:]
    assert len(kept) <= 0.93 * len(frames)
    got, _ = feed_and_read(gateway, kept)
    last = frames[-1]["fields"]
    assert got["routed_energy"] == pytest.approx(last["WH1"], abs=1e-3)
    assert got["grid_import_energy"] == pytest.approx(last["WHI"], abs=1e-3)
    assert got["grid_export_energy"] == pytest.approx(last["WHE"], abs=1e-3)


def test_an_atmega_reset_never_makes_the_energy_decrease(gateway, simulate_scenario):
    """The ATmega restarts (counters back to 0) half-way: Home Assistant's totals keep growing."""
    first = good_frames(simulate_scenario("day.csv", ch2_delay=0.3))
    second = good_frames(simulate_scenario("thermostat_third.csv", ch2_delay=0.3))
    got, events = feed_and_read(gateway, first + second)
    for name in ENERGY_SENSORS:
        values = [v for n, v in events if n == name]
        assert len(values) >= 2 and all(b >= a for a, b in zip(values, values[1:])), (name, values)
    expected_routed = first[-1]["fields"]["WH1"] + second[-1]["fields"]["WH1"]
    assert got["routed_energy"] == pytest.approx(expected_routed, abs=1e-3)
    assert got["grid_export_energy"] == pytest.approx(first[-1]["fields"]["WHE"] + second[-1]["fields"]["WHE"],
                                                      abs=1e-3)


def test_routed_power_is_the_measured_pw1_when_the_frame_has_it(gateway):
    """POR says 100 % fired, PW1 says the heater took nothing (thermostat open): HA shows 0 W."""
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        fields = dict(OUR_FIELDS, POR="100.00", PW1="0.0", WHI="0.00", WHE="12.50", WH1="3.20")
        gateway.write(make_frame(list(fields.items())))
        assert await w.wait_for(lambda s: s.get("frames_received") == 1, 3.0)
        await w.quiet(0.3)
        assert w.states["routed_ratio"] == pytest.approx(100.0)
        assert w.states["routed_power"] == 0.0
        await w.disconnect()
    asyncio.run(body())
