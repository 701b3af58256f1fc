"""Two dimmer clients sharing channel 2 by priority (pv_loads), in the whole chain in real time: the
real ATmega ELF in the simulator, the host gateway of gateway-two-loads-host.yaml, load A (1000 W,
priority 1) and load B (1500 W, priority 2) as host clients whose delivered power the house draws,
all watched through Home Assistant's client library. The surplus for channel 2 grows and falls; the
higher priority fills first and the two never move against each other; Home Assistant gives load A
the lower priority and load B fills first; then load A dies and B takes its watts within seconds.
The ratings are in the clients alone: the ATmega's channel-2 full scale (DIM) follows them."""
import asyncio
import json
import statistics

import pytest
from testbed.loads import HEATER_W, loads_chain, phase_scenario, sample_story

pytestmark = pytest.mark.slow

# (start s, what channel 2 can take once the 2-kW heater is full, W)
PHASES = [(0, -1200), (25, 500), (50, 1300), (75, 2200), (100, 1300), (125, 500), (150, 1300)]
A_DEMOTED_AT = 100   # Home Assistant sets load A's priority to 3: B first
A_PROMOTED_AT = 145  # back to 1
A_KILLED_AT = 160
END_S = 185
SETTLE_S = 8         # left out at the start of each phase


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    work = tmp_path_factory.mktemp("loads")
    scenario = phase_scenario(work / "grow_and_fall.csv", PHASES, END_S + 20)

    async def run():
        async with loads_chain(work, scenario, seconds=END_S + 15) as (system, stream, gateway, clients):
            done, dim = set(), {}

            def actions(t):
                if t >= PHASES[1][0] and "phase_1" not in dim:
                    dim["phase_1"] = gateway.states.get("channel_2_rating")
                for at, what in ((A_DEMOTED_AT, 3.0), (A_PROMOTED_AT, 1.0)):
                    if t >= at and at not in done:
                        done.add(at)
                        gateway.client.number_command(gateway.infos["load_a_priority"].key, what)
                if t >= A_KILLED_AT and A_KILLED_AT not in done:
                    done.add(A_KILLED_AT)
                    system.kill_client(0)

            samples = await sample_story(stream, gateway, END_S, actions)
            return {"samples": samples, "events": list(gateway.events), "dim": dim.get("phase_1"),
                    "dim_end": gateway.states.get("channel_2_rating"),
                    "b_level": clients[1].states.get("level"), "b_offer": clients[1].states.get("offered_power")}

    story = asyncio.run(run())
    (work / "story.json").write_text(json.dumps(story["samples"]))  # for a failure's post-mortem
    return story


def window(samples, start, end):
    return [s for s in samples if start + SETTLE_S <= s["t"] < end]


def phase_window(story, k):
    end = PHASES[k + 1][0] if k + 1 < len(PHASES) else END_S
    return window(story["samples"], PHASES[k][0], end)


def test_the_atmega_full_scale_follows_the_loads_ratings(story):
    # 1000 W + 1500 W, in the clients alone: DIM went from the ATmega's 1000 W to 2500 W while channel 2 was idle
    assert story["dim"] == 2500.0, story["dim"]


@pytest.mark.parametrize("k, a_w, b_w", [(1, 500, 0), (2, 1000, 300), (3, 1000, 1200)])
def test_the_higher_priority_fills_first_as_the_surplus_grows(story, k, a_w, b_w):
    w = phase_window(story, k)
    assert len(w) >= 12, w
    assert statistics.mean(s["a_w"] for s in w) == pytest.approx(a_w, abs=80), w
    assert statistics.mean(s["b_w"] for s in w) == pytest.approx(b_w, abs=100), w
    assert abs(statistics.mean(s["grid_w"] for s in w)) < 40, [s["grid_w"] for s in w]
    assert statistics.mean(s["ch2_w"] for s in w) == pytest.approx(a_w + b_w, abs=100), w


def test_the_two_never_move_against_each_other(story):
    """Whenever load B has a share, load A (first) is full: from every settled pair of the gateway's
    published shares (A and B go out in the same loop pass) until Home Assistant demotes A."""
    pairs, a, b = [], None, None
    events = [e for e in story["events"] if e[1] in ("load_a_allotted_power", "load_b_allotted_power")]
    for k, (at, name, value) in enumerate(events):
        a, b = (value, b) if name == "load_a_allotted_power" else (a, value)
        settled = k + 1 == len(events) or events[k + 1][0] - at > 0.05
        if settled and a is not None and b is not None:
            pairs.append((at, a, b))
    demoted_wall = next(at for at, name, value in story["events"] if name == "load_a_priority" and value == 3.0)
    before = [(a, b) for at, a, b in pairs if at < demoted_wall]
    # both regimes were crossed, up and down: A filling alone, then B on top of a full A
    assert any(0 < a < 1000 and b == 0 for a, b in before) and any(b > 0 for a, b in before), before
    assert all(a == 1000.0 for a, b in before if b > 0), [p for p in before if p[1] > 0 and p[0] != 1000.0]
    # In the fullest phase A stays full: B alone moves with the surplus.
    full = phase_window(story, 3)
    assert all(s["a_w"] == 1000.0 for s in full), [s["a_w"] for s in full]


def test_home_assistant_gives_load_b_the_first_place(story):
    """Load A demoted to priority 3 as the surplus falls: B is full before A has anything, and A is
    the one that gives back. (The ATmega gives channel 2's watts back 1 % a second while channel 1
    has room to take them, so the order shows over the whole demotion rather than per phase.)"""
    w = [s for s in story["samples"] if A_DEMOTED_AT + 2 <= s["t"] < A_PROMOTED_AT]
    assert len(w) >= 40, w
    assert all(s["b_w"] == 1500.0 for s in w if s["a_w"] > 0), [(s["t"], s["a_w"], s["b_w"]) for s in w]
    assert any(s["a_w"] == 0 and 0 < s["b_w"] < 1500 for s in w), [(s["t"], s["a_w"], s["b_w"]) for s in w]
    assert abs(statistics.mean(s["grid_w"] for s in w)) < 40, [s["grid_w"] for s in w]
    # and back to priority 1: A first again
    back = [s for s in story["samples"] if A_PROMOTED_AT + 2 <= s["t"] < A_KILLED_AT]
    assert back and all(s["a_w"] == 1000.0 for s in back if s["b_w"] > 0), back


def test_a_load_that_dies_hands_its_watts_to_the_next_within_seconds(story):
    samples = story["samples"]
    before = [s for s in samples if A_PROMOTED_AT + SETTLE_S <= s["t"] < A_KILLED_AT]
    assert before and all(s["a_w"] == 1000.0 for s in before[-3:]), before
    # Its share goes to B once the gateway has not heard from it for the 5-s timeout: at most its
    # report interval (1 s) + 5 s + the allotment's 0.5-s tick + this test's 1-s sampling later.
    dropped = next(s["t"] for s in samples if s["t"] >= A_KILLED_AT and s["a_w"] == 0.0)
    assert dropped - A_KILLED_AT <= 7.5, dropped
    after = [s for s in samples if A_KILLED_AT + 8 <= s["t"] < END_S]
    assert after and all(s["a_w"] == 0.0 for s in after), after
    # B carries channel 2 alone, and the surplus is all routed, none imported.
    assert min(s["b_w"] for s in after) >= 1150, after
    surplus = PHASES[-1][1] + HEATER_W
    assert statistics.mean(s["ch1_w"] + s["ch2_w"] for s in after) == pytest.approx(surplus, abs=50), after
    assert abs(statistics.mean(s["grid_w"] for s in after)) < 40, [s["grid_w"] for s in after]
    assert max(s["grid_w"] for s in samples if s["t"] >= A_KILLED_AT) < 30, samples[-25:]
    # The client turns its watts into its own level: allotted / its 1500 W.
    assert story["b_offer"] == 1500.0
    assert story["b_level"] == pytest.approx(samples[-1]["b_w"] / 15, abs=1.0)


def test_capacity_lost_shrinks_the_full_scale(story):
    """With load A gone, DIM follows the capacity down to 1500 W (a minute after the last change at
    the earliest), and VO2 x DIM still places B's watts."""
    assert story["dim_end"] == 1500.0, story["dim_end"]
    last = story["samples"][-1]
    assert last["frame"]["VO2"] * 1500 / 100 == pytest.approx(last["b_w"], abs=1), last
