"""A load rating changed in its client alone (issue 14), in the whole chain in real time: the real
ATmega ELF in the simulator, the host gateway of gateway-two-loads-host.yaml and its two host clients
(load A 1000 W priority 1, load B 1500 W priority 2) whose delivered power the house draws. Load B is
reflashed with a 2000-W rating (client-load-b-2000w-host.yaml: same node, same home, so its saved
state stays) while channel 2 is busy. The ATmega and the gateway are left as they are: the shares in
watts stay right, B fires at its share / 2000 W, and DIM grows to the new capacity the next time
channel 2 is idle (the only thing the ATmega is sent); then B takes more than its old rating."""
import asyncio
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path

import pytest
from testbed.esphome_host import BUILD, compile_host
from testbed.loads import (CLIENTS, HEATER_W, LOADS_DIR, SHARES, build_loads_chain, loads_chain, phase_scenario,
                           reflash_client, sample_story)

pytestmark = pytest.mark.slow

B_OLD_W, B_NEW_W = 1500, 2000
# Same node name as load B (the gateway's packet_transport hears that provider), its own build folder
# so that the 1500-W program of the other tests stays as it is.
B_2000W = (LOADS_DIR / "client-load-b-2000w-host.yaml", CLIENTS[1][1], BUILD / "esphome-rating")
# (start s, what channel 2 can take once the 2-kW heater is full, W). DIM goes 1000 -> 2500 W in the
# first idle phase; the 2800 W of the last phase need it at 3000 W, which it can only take once
# channel 2 is idle again and a minute after the first change. That idle phase is a dark spell (100 W
# of surplus, below the heater's floor): the import sheds channel 2 to 0 at once, whereas with more
# surplus the ATmega would hand channel 2's watts to the heater 1 % a second.
PHASES = [(0, -1200), (25, 2200), (80, -1900), (95, 2800)]
REFLASH_AT = 50      # load B gets its new rating, channel 2 busy
# While B restarts the ATmega sees its watts exported and may raise VO2 to 100 %; once B delivers
# again, the ATmega gives the excess back to the heater 1 % a second (up to 12 s here).
REFLASH_SETTLE_S = 15
END_S = 125
# What the ATmega's frames report of its settings beside DIM: never changed by the reflash.
OTHER_SETTINGS = ("HTR", "EXT", "VCL", "ICL")
SETTLE_S = 8         # left out after each step


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    work = tmp_path_factory.mktemp("loads_rating")
    scenario = phase_scenario(work / "reflash_b.csv", PHASES, END_S + 20)
    programs = build_loads_chain(log=lambda _m: None)
    b_2000w = compile_host(*B_2000W)
    assert b_2000w != programs[1][1]

    async def run():
        async with loads_chain(work, scenario, seconds=END_S + 15, programs=programs) as (
                system, stream, gateway, clients):
            b_seen, reflashed = {}, {}

            def actions(t):
                # what client B shows, for the sample of second t: taken on the same tick as the sample
                b_seen.setdefault(int(t), {key: clients[1].states.get(entity) for key, entity in (
                    ("b_level", "level"), ("b_offer", "offered_power"), ("b_energy", "routed_energy"))})

            async def reflash_at_its_time():
                while stream.now() < REFLASH_AT:
                    await asyncio.sleep(0.1)
                reflashed["energy_before"] = clients[1].states.get("routed_energy")
                reflashed["t"] = stream.now()
                await reflash_client(system, clients, 1, b_2000w)
                await clients[1].wait_for(lambda s: "routed_energy" in s and s["routed_energy"] == s["routed_energy"])
                reflashed["energy_after"] = clients[1].states.get("routed_energy")
                reflashed["back_at"] = stream.now()

            reflashing = asyncio.create_task(reflash_at_its_time())
            samples = await sample_story(stream, gateway, END_S, actions,
                                         entities={**SHARES, "dim": "channel_2_rating"})
            await reflashing
            for s in samples:
                s.update(b_seen.get(int(s["t"]), {}))
            return {"samples": samples, "reflash": reflashed,
                    "dim_events": [v for _at, name, v in gateway.events if name == "channel_2_rating"],
                    "gateway_log": system.gateway.log(), "b_program": str(system.clients[1].program)}

    story = asyncio.run(run())
    (work / "story.json").write_text(json.dumps({k: v for k, v in story.items() if k != "gateway_log"}))
    return story


def window(story, start, end):
    return [s for s in story["samples"] if start + SETTLE_S <= s["t"] < end]


def phase_window(story, k):
    end = PHASES[k + 1][0] if k + 1 < len(PHASES) else END_S
    return window(story, PHASES[k][0], end)


def mean(samples, key):
    return statistics.mean(s[key] for s in samples)


def check_routed(w, a_w, b_w):
    assert len(w) >= 12, w
    assert mean(w, "a_w") == pytest.approx(a_w, abs=80), [s["a_w"] for s in w]
    assert mean(w, "b_w") == pytest.approx(b_w, abs=100), [s["b_w"] for s in w]
    assert abs(mean(w, "grid_w")) < 40, [s["grid_w"] for s in w]
    assert mean(w, "ch2_w") == pytest.approx(a_w + b_w, abs=100), [s["ch2_w"] for s in w]


def test_before_the_reflash_b_takes_what_a_leaves(story):
    w = window(story, PHASES[1][0], REFLASH_AT)
    check_routed(w, 1000, 1200)
    assert all(s["dim"] == 2500.0 for s in w), [s["dim"] for s in w]
    assert mean(w, "b_level") == pytest.approx(1200 / B_OLD_W * 100, abs=5), [s["b_level"] for s in w]


def test_the_reflash_imports_nothing(story):
    gap = [s for s in story["samples"] if REFLASH_AT <= s["t"] < REFLASH_AT + REFLASH_SETTLE_S]
    assert gap and max(s["grid_w"] for s in gap) < 30, [s["grid_w"] for s in gap]


def test_the_reflashed_load_fires_at_its_share_over_its_new_rating(story):
    """DIM is still 2500 W (channel 2 busy): the shares in watts do not change, and B's level is its
    share over its own new rating."""
    w = [s for s in story["samples"] if REFLASH_AT + REFLASH_SETTLE_S <= s["t"] < PHASES[2][0]]
    check_routed(w, 1000, 1200)
    assert all(s["dim"] == 2500.0 for s in w), [s["dim"] for s in w]
    assert all(s["b_offer"] == B_NEW_W for s in w), [s["b_offer"] for s in w]
    assert mean(w, "b_level") == pytest.approx(1200 / B_NEW_W * 100, abs=5), [s["b_level"] for s in w]


def test_the_reflash_keeps_the_clients_saved_state(story):
    """B runs the 2000-W build now, in the same home, as on an ESP: its routed energy goes on from
    where it was."""
    assert Path(story["b_program"]).is_relative_to(B_2000W[2]), story["b_program"]
    r = story["reflash"]
    assert r["energy_before"] > 0, r
    assert r["energy_after"] >= r["energy_before"], r


def test_the_gateway_sees_the_new_offer_and_the_full_scale_follows(story):
    """The gateway learns B's 2000 W from its offer alone (it has no entity for an offer: its
    capacity shows it): DIM grows to 1000 + 2000 W once channel 2 is idle, a minute after its first
    change at the earliest."""
    idle = phase_window(story, 2)
    assert idle and all(s["ch2_w"] == 0 for s in idle), [s["ch2_w"] for s in idle]
    events = story["dim_events"]
    dims = [v for k, v in enumerate(events) if v == v and (k == 0 or v != events[k - 1])]
    assert dims == [1000.0, 2500.0, 3000.0], events
    grown = next(s["t"] for s in story["samples"] if s["dim"] == 3000.0)
    assert PHASES[2][0] <= grown < PHASES[3][0], grown


def test_the_atmega_is_only_sent_the_new_full_scale(story):
    """No change on the ATmega beside DIM: the gateway's command lines are its channel-1 "auto" at
    boot and the two DIM writes; the ATmega accepted those alone, and its other settings stay."""
    sent = [line.split(";$")[0] for line in re.findall(r"Sending: (\S+)", story["gateway_log"])]
    # a line the ATmega has not confirmed yet goes again: one change, sent twice
    changes = [line for k, line in enumerate(sent) if k == 0 or line != sent[k - 1]]
    assert changes == ["AUT>1", "DIM>2500", "DIM>3000"], sent
    frames = [s["frame"] for s in story["samples"] if s.get("frame")]
    assert frames[-1]["CAC"] == len(sent) and frames[-1]["CRJ"] == 0, frames[-1]
    reported = defaultdict(set)
    for f in frames:
        for key in OTHER_SETTINGS:
            if key in f:
                reported[key].add(f[key])
    assert set(reported) == set(OTHER_SETTINGS) and all(len(v) == 1 for v in reported.values()), dict(reported)


def test_b_takes_more_than_its_old_rating(story):
    w = phase_window(story, 3)
    check_routed(w, 1000, 1800)
    assert min(s["b_w"] for s in w) > B_OLD_W, [s["b_w"] for s in w]
    assert mean(w, "b_level") == pytest.approx(1800 / B_NEW_W * 100, abs=5), [s["b_level"] for s in w]
    # all of the surplus routed: the heater full and the loads the rest
    surplus = PHASES[3][1] + HEATER_W
    assert mean(w, "ch1_w") + mean(w, "ch2_w") == pytest.approx(surplus, abs=50), w
