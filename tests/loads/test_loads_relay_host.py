"""Two dimmer clients and a relay stage after them, in the whole chain in real time: the real ATmega
ELF in the simulator, the host gateway of gateway-two-loads-host.yaml (pv_loads, and an 800-W pool
pump behind a relay stage: on_delay 5 s, off on 100 W of import for 3 s, 15-s minimum on and off
times), two host clients; the house draws what the clients deliver and the pump while it is on. The
relay takes what the full dimmers leave, the dimmers (and the heater) give way to it once it runs,
an import switches it off, and a sawtooth surplus never breaks its minimum times."""
import asyncio
import json

import pytest
from testbed.loads import HEATER_W, RELAY, RELAY_W, SHARES, loads_chain, phase_scenario, sample_story

pytestmark = pytest.mark.slow

EXPORT_AT, CLOUD_AT, DARK_AT, SAW_AT, END_S = 20, 60, 75, 95, 150
MIN_ON_OFF_S = 15
SAW_HALF_S = 6
# 300 W of surplus in all: less than the pump's 800 W even with the heater off (channel 1 gives way
# to a running relay too: the ATmega routes what the grid shows), so it imports 500 W.
LOW = 300 - HEATER_W


def _scenario(path):
    saw = [(t, 3500 if k % 2 == 0 else LOW) for k, t in enumerate(range(SAW_AT, END_S + 20, SAW_HALF_S))]
    phases = [(0, -1200), (EXPORT_AT, 3500), (CLOUD_AT, 1200), (DARK_AT, LOW), *saw]
    return phase_scenario(path, phases, saw[-1][0] + SAW_HALF_S - 1)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    work = tmp_path_factory.mktemp("loads_relay")
    scenario = _scenario(work / "relay_day.csv")

    async def run():
        async with loads_chain(work, scenario, seconds=END_S + 15) as (_system, stream, gateway, _clients):
            samples = await sample_story(stream, gateway, END_S,
                                         entities={**SHARES, "reason": "pool_pump_reason"})
            # the relay's switchings, in wall time (monotonic) as Home Assistant saw them
            return {"samples": samples, "switch_events": [(at, v) for at, n, v in gateway.events if n == RELAY]}

    story = asyncio.run(run())
    (work / "story.json").write_text(json.dumps(story["samples"]))  # for a failure's post-mortem
    return story


def between(story, start, end):
    return [s for s in story["samples"] if start <= s["t"] < end]


def test_the_relay_takes_what_the_full_dimmers_leave(story):
    on_at = next(s["t"] for s in story["samples"] if s["relay"])
    assert EXPORT_AT + 5 <= on_at <= EXPORT_AT + 9, on_at   # the surplus covered its 800 W for on_delay
    before = between(story, EXPORT_AT + 3, on_at)
    assert before and all(s["a_w"] == 1000.0 and s["b_w"] == 1500.0 for s in before), before
    assert all(s["grid_w"] < -900 for s in before), [s["grid_w"] for s in before]
    running = between(story, on_at + 3, CLOUD_AT)
    assert running and all(s["relay"] for s in running)
    # its draw reaches the house: the export left is what the pump does not take
    assert all(s["ch2_w"] == pytest.approx(2500 + RELAY_W, abs=30) for s in running), running
    assert all(-260 < s["grid_w"] < -140 for s in running), [s["grid_w"] for s in running]


def test_the_dimmers_give_way_to_the_running_relay_without_import(story):
    cloud = between(story, CLOUD_AT + 8, DARK_AT)
    assert cloud and all(s["relay"] for s in cloud), cloud
    assert all(s["b_w"] == 0.0 for s in cloud), [s["b_w"] for s in cloud]
    assert all(s["a_w"] == pytest.approx(1200 - RELAY_W, abs=60) for s in cloud), [s["a_w"] for s in cloud]
    assert all(abs(s["grid_w"]) < 30 for s in cloud), [s["grid_w"] for s in cloud]


def test_an_import_switches_it_off_after_the_off_delay(story):
    off_at = next(s["t"] for s in story["samples"] if s["t"] >= DARK_AT and not s["relay"])
    assert DARK_AT + 3 <= off_at <= DARK_AT + 6, off_at
    # the import above the threshold lasts the off-delay and the way to the switch, no longer
    dark = between(story, DARK_AT, SAW_AT)
    assert sum(1 for s in dark if s["grid_w"] > 100) <= 6, [s["grid_w"] for s in dark]
    assert all(not s["relay"] for s in dark if s["t"] >= off_at), dark
    assert all(s["reason"] == "no surplus" for s in between(story, off_at + 1, SAW_AT))


def test_a_sawtooth_surplus_never_breaks_its_minimum_times(story):
    """A 12-s sawtooth (5500 / 300 W of surplus, 6 s each) for 55 s: the on-delay and the minimum
    times hold it; every on and off period lasts at least 15 s (wall time between its switchings)."""
    events = story["switch_events"]
    changes = [(at, v) for k, (at, v) in enumerate(events) if k == 0 or v != events[k - 1][1]]
    periods = [b[0] - a[0] for a, b in zip(changes, changes[1:])]
    assert len(changes) >= 3, changes
    assert all(p >= MIN_ON_OFF_S - 0.5 for p in periods), periods
    saw = between(story, SAW_AT, END_S)
    flips = sum(1 for a, b in zip(saw, saw[1:]) if a["relay"] != b["relay"])
    assert flips <= (END_S - SAW_AT) / MIN_ON_OFF_S + 1, flips
