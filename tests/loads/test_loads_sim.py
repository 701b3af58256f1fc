"""Several channel-2 loads in simulated time: the real ATmega ELF in the simulator with its built-in
loads (sim/pvsim --ch2-loads), load A 1000 W answering 0.3 s after a frame and load B 1500 W
answering 1 s after, sharing the frames' PO2 (VO2 x DIM in watts) by priority as the gateway's
pv_loads does; the ATmega's
DIM is set to their 2500 W by a command line, as the gateway sends it. Deterministic: the figures
are asserted as measured."""
import subprocess
from pathlib import Path

import pytest
from testbed import ch2_scenarios
from testbed.gateway_harness import make_frame
from testbed.simrun import (ATMEGA_ELF, PVSIM, good_frames, load_scenario, run_simulation, write_rx_script,
                             write_scenario)

pytestmark = pytest.mark.slow

DAY = Path(__file__).resolve().parents[2] / "sim" / "scenarios" / "day.csv"
LOADS = ((1000.0, 0.3), (1500.0, 1.0))  # (rating W, delay s), in priority order
DIM_W = sum(rating for rating, _delay in LOADS)


def _spec(loads) -> str:
    return ",".join(f"{rating:g}@{delay:g}" for rating, delay in loads)


def _day_rows() -> list[dict]:
    """The standard day; channel 2's rating is both loads' (what the figures count as absorbable)."""
    return [{"t_s": t, "pv_w": pv, "house_w": house, "ch1_w": ch1, "ch2_w": DIM_W}
            for t, pv, house, ch1, _ch2, _mains_v in load_scenario(DAY)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("loads_sim")
    rows = _day_rows()
    scenario = write_scenario(work / "day.csv", rows)
    dim = write_rx_script(work / "dim.txt", [(0.5, make_frame([("DIM", f"{DIM_W:g}")]))])

    def run(tag, loads):
        summary = run_simulation(ATMEGA_ELF, scenario, summary=work / f"{tag}.json", rx_input=dim,
                                 ch2_loads=_spec(loads))
        return {"summary": summary, "figures": ch2_scenarios.figures(summary, rows)}

    return {"two": run("two", LOADS), "one_slow": run("one_slow", [(DIM_W, max(d for _r, d in LOADS))])}


def _allot(watts, loads=LOADS):
    shares = []
    for rating, _delay in loads:
        shares.append(min(max(watts, 0.0), rating))
        watts -= shares[-1]
    return shares


def test_the_atmega_took_the_full_scale_of_both_and_sends_channel_2_in_watts(runs):
    frames = [f["fields"] for f in runs["two"]["summary"]["frames"] if f["crc_ok"]]
    assert {f["DIM"] for f in frames if "DIM" in f} == {DIM_W}
    # PO2: VO2 of DIM in watts, in every frame, what the loads share
    assert all(f["PO2"] == f["VO2"] * DIM_W // 100 for f in frames), [f for f in frames if f.get("PO2") is None][:3]
    assert max(f["PO2"] for f in frames) == DIM_W


def test_each_load_takes_its_share_by_priority(runs):
    """Every second whose frames (and the one before it, for B's 1-s delay) held one VO2: A has
    min(VO2 x DIM, 1000) W, B the rest up to 1500 W. Both regimes were crossed."""
    summary = runs["two"]["summary"]
    frames = good_frames(summary, channel2_too=True)
    checked = set()
    for second in summary["per_second"]:
        t = second["t"]
        around = [f["fields"]["VO2"] for f in frames if t - 2.0 <= f["t"] < t + 1.0]
        if len(around) >= 2 and len(set(around)) == 1:
            expected = _allot(around[0] * DIM_W // 100)
            assert second["ch2_loads_w"] == pytest.approx(expected, abs=0.5), (t, around, second)
            checked.add("A filling" if 0 < expected[0] < 1000.0 else "B on top of a full A" if expected[1] > 0 else "")
    assert {"A filling", "B on top of a full A"} <= checked, checked


def test_two_loads_route_the_day_as_well_as_one_slow_client(runs):
    """A fast and a slow client sharing the watts route at least as much of the standard day as a
    single 2500-W client as slow as the slower of them, and import no more than 0.5 % of it."""
    two, one_slow = runs["two"]["figures"], runs["one_slow"]["figures"]
    assert two["routed_pct"] >= one_slow["routed_pct"], (two, one_slow)
    assert two["router_import_pct"] <= 0.5, two
    energy = [load["wh"] for load in runs["two"]["summary"]["ch2_loads"]]
    assert energy[0] > 0 and energy[1] > 0, energy  # B was needed on this day
    assert sum(energy) == pytest.approx(runs["two"]["summary"]["ch2_wh"], rel=1e-6)


@pytest.mark.parametrize("spec, named", [
    ("abc", 'item "abc"'), ("1000", 'item "1000"'), ("1000@", 'item "1000@"'), ("@1", 'item "@1"'),
    ("0@1", 'item "0@1"'), ("1000@-1", 'item "1000@-1"'), ("1000@0.3,,1500@1", 'item ""'),
    ("1000@x", 'item "1000@x"'), (",".join(["100@0"] * 9), "more than 8 loads")])
def test_a_bad_loads_spec_is_named(tmp_path, spec, named):
    scenario = write_scenario(tmp_path / "s.csv", [{"t_s": 0, "pv_w": 2500, "house_w": 500}])
    r = subprocess.run([str(PVSIM), "--elf", str(ATMEGA_ELF), "--scenario", str(scenario), "--seconds", "1",
                        f"--ch2-loads={spec}"], capture_output=True, text=True)
    assert r.returncode != 0
    assert f'--ch2-loads "{spec}": {named}' in r.stderr, r.stderr


def test_loads_and_a_real_client_exclude_each_other(tmp_path):
    scenario = write_scenario(tmp_path / "s.csv", [{"t_s": 0, "pv_w": 2500, "house_w": 500}])
    r = subprocess.run([str(PVSIM), "--elf", str(ATMEGA_ELF), "--scenario", str(scenario), "--seconds", "1",
                        "--ch2-loads", "1000@0.3", "--ch2-input", str(tmp_path / "fifo")], capture_output=True, text=True)
    assert r.returncode != 0 and "--ch2-loads and --ch2-input" in r.stderr, r.stderr
