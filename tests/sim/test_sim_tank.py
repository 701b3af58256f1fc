"""The simulator's hot-water tank (sim/pvsim --tank-litres): heat balance, the heater's own thermostat,
draw-offs, standing losses, the --tank-out file, and runs without the model left as they were.

Runs on the harness's test firmware (sim/testfw), which fires the gate 3000 us after every zero
crossing, so the heater takes a steady known power (about 85 % of its rating)."""
import json
import math
import re
import subprocess
import threading
import time

import pytest

from testbed.simrun import PVSIM, ROOT, run_simulation, write_scenario

pytestmark = pytest.mark.slow

WATER_J_PER_L_K = 4186.0
TESTFW = ROOT / "sim" / "build" / "testfw.elf"
CORE = ROOT / "sim" / "build" / "pvsim-core"
HEATING = {"t_s": 0, "pv_w": 2500, "house_w": 500, "ch1_w": 2000}  # the test firmware fires regardless
NO_HEATER = {"t_s": 0, "pv_w": 2500, "house_w": 500, "ch1_w": 0}


@pytest.fixture(scope="module")
def testfw():
    subprocess.run(["make", "-s", "-C", str(ROOT / "sim"), "all", "testfw"], check=True)
    return TESTFW


def simulate(testfw, tmp_path, rows, seconds, name="run", **options):
    scenario = write_scenario(tmp_path / f"{name}.csv", rows)
    return run_simulation(testfw, scenario, seconds=seconds, summary=tmp_path / f"{name}.json", **options)


def test_heat_balance_of_a_small_tank(testfw, tmp_path):
    litres = 5.0
    s = simulate(testfw, tmp_path, [HEATING], 20, tank_litres=litres, tank_c=40)
    tank = s["tank"]
    assert tank["start_c"] == 40
    assert tank["heat_in_wh"] == pytest.approx(s["ch1_wh"], abs=1e-5)
    assert tank["heat_in_wh"] > 8  # ~1.7 kW for 20 s: the heater really heated
    rise = tank["end_c"] - tank["start_c"]
    expected = (tank["heat_in_wh"] - tank["loss_wh"]) * 3600 / (WATER_J_PER_L_K * litres)
    assert rise == pytest.approx(expected, abs=2e-4), tank
    # the losses are what 1.6 W/K above 18 C gives over the temperatures the water went through
    temps = [tank["start_c"]] + [r["tank_c"] for r in s["per_second"]]
    loss_j = sum(1.6 * ((a + b) / 2 - 18) for a, b in zip(temps, temps[1:]))
    assert tank["loss_wh"] == pytest.approx(loss_j / 3600, rel=1e-3)
    # second by second too: each second's heat raises the water by heat / C, less its losses
    for prev_c, r in zip(temps, s["per_second"]):
        gain = (r["ch1_w"] - 1.6 * ((prev_c + r["tank_c"]) / 2 - 18)) / (WATER_J_PER_L_K * litres)
        assert r["tank_c"] - prev_c == pytest.approx(gain, abs=2e-4), r
    assert tank["thermostat_openings"] == 0 and tank["thermostat_open_s"] == 0
    assert tank["drawn_l"] == 0
    assert all(r["thermostat_open"] is False for r in s["per_second"])


def test_thermostat_opens_at_setpoint_and_closes_at_hysteresis(testfw, tmp_path):
    """Half a litre, a 3 kW heater and big losses (25 W/K): the water cycles between 65 and 70 C in
    about 16 s, so a 35 s run sees the thermostat open twice and close twice."""
    rows = [dict(HEATING, ch1_w=3000)]
    s = simulate(testfw, tmp_path, rows, 35, tank_litres=0.5, tank_c=66, tank_loss_w_per_k=25)
    tank, seconds = s["tank"], s["per_second"]
    assert tank["thermostat_openings"] == 2, tank
    # it opens at the setpoint: at most one half-cycle's heating above it
    assert 70.0 <= tank["max_c"] <= 70.02, tank
    # and closes at setpoint - hysteresis: the water cools to 65 C, no lower, before heating again
    assert 64.98 <= tank["min_c"] <= 65.0, tank
    opened = [r["t"] for a, r in zip(seconds, seconds[1:]) if r["thermostat_open"] and not a["thermostat_open"]]
    closed = [r["t"] for a, r in zip(seconds, seconds[1:]) if a["thermostat_open"] and not r["thermostat_open"]]
    assert len(opened) == 2 and len(closed) == 2, (opened, closed)
    for t in opened:
        assert seconds[t - 1]["tank_c"] < 70.0, seconds[t - 1:t + 1]
    for t in closed:
        assert seconds[t - 1]["tank_c"] > 65.0, seconds[t - 1:t + 1]
    # open for a whole second: the heater took nothing although the gate fired every half-cycle;
    # closed for a whole second: its full (gated) power
    whole_open = [b for a, b in zip(seconds, seconds[1:]) if a["thermostat_open"] and b["thermostat_open"]]
    whole_closed = [b for a, b in zip(seconds, seconds[1:]) if not a["thermostat_open"] and not b["thermostat_open"]]
    assert len(whole_open) >= 10 and len(whole_closed) >= 10
    assert all(r["ch1_w"] == 0 for r in whole_open), whole_open
    assert all(r["ch1_w"] > 2400 for r in whole_closed), whole_closed
    # while open the water only cools, while closed it heats (3 kW beats the losses)
    for prev, r in zip(seconds, seconds[1:]):
        if prev["thermostat_open"] and r["thermostat_open"]:
            assert r["tank_c"] < prev["tank_c"]
    assert s["half_cycles_fired"] >= 35 * 100 - 2  # the test firmware fired throughout
    open_s = sum(1 for r in seconds if r["thermostat_open"])
    assert abs(tank["thermostat_open_s"] - open_s) <= 2, (tank, open_s)
    assert tank["heat_in_wh"] == pytest.approx(s["ch1_wh"], abs=1e-5)


def test_draw_offs_mix_in_cold_water(testfw, tmp_path):
    """No heater and no losses: only the showers change the water, by the mixing formula."""
    s = simulate(testfw, tmp_path, [NO_HEATER], 10, tank_litres=5, tank_c=60, tank_loss_w_per_k=0,
                 cold_c=10, draw_offs="3:2,6.5:1")
    first = (60 * 3 + 10 * 2) / 5     # 2 of 5 litres replaced by water at 10 C: 40 C
    second = (first * 4 + 10 * 1) / 5  # then 1 litre: 34 C
    for r in s["per_second"]:
        end = r["t"] + 1
        want = 60 if end < 3 else first if end < 6.5 else second
        assert r["tank_c"] == pytest.approx(want, abs=1e-4), r
    tank = s["tank"]
    assert tank["end_c"] == pytest.approx(second, abs=1e-4)
    assert tank["min_c"] == pytest.approx(second, abs=1e-4) and tank["max_c"] == 60
    assert tank["drawn_l"] == 3
    assert tank["heat_in_wh"] == 0 and tank["loss_wh"] == 0


def test_draw_off_after_heating_uses_default_cold_water(testfw, tmp_path):
    """With the heater on: the draw-off is a jump of exactly the mixing formula (cold water 12 C)."""
    litres, draw = 5.0, 1.5
    plain = simulate(testfw, tmp_path, [HEATING], 4, name="plain", tank_litres=litres, tank_c=50)
    drawn = simulate(testfw, tmp_path, [HEATING], 4, name="drawn", tank_litres=litres, tank_c=50,
                     draw_offs="4:1.5")
    before = plain["tank"]["end_c"]  # the same water up to the draw at the run's last crossing
    assert drawn["tank"]["end_c"] == pytest.approx((before * (litres - draw) + 12 * draw) / litres, abs=1e-4)
    assert drawn["tank"]["drawn_l"] == draw


def test_standing_losses_follow_the_exponential(testfw, tmp_path):
    """No heater (ch1_w 0): the water cools as ambient + (T0 - ambient) exp(-k t / C)."""
    litres, k, ambient, t0 = 1.0, 10.0, 20.0, 60.0
    s = simulate(testfw, tmp_path, [NO_HEATER], 30, tank_litres=litres, tank_c=t0, tank_loss_w_per_k=k,
                 tank_ambient_c=ambient)
    heat_capacity = WATER_J_PER_L_K * litres

    def expected(t):
        return ambient + (t0 - ambient) * math.exp(-k * t / heat_capacity)

    for r in s["per_second"]:
        assert r["tank_c"] == pytest.approx(expected(r["t"] + 1), abs=1e-4), r
        assert r["ch1_w"] == 0 and r["thermostat_open"] is False
    tank = s["tank"]
    assert s["seconds"] == 30
    assert tank["end_c"] == pytest.approx(expected(30), abs=1e-4)
    assert tank["loss_wh"] == pytest.approx(heat_capacity * (t0 - expected(30)) / 3600, abs=1e-5)
    assert tank["heat_in_wh"] == 0 and s["ch1_wh"] == 0


def test_tank_out_file_holds_the_current_temperature(testfw, tmp_path):
    """In real time: the file exists from the start, follows the water every second, and a reader
    polling it all along never sees anything but one whole "%.2f\\n" line."""
    scenario = write_scenario(tmp_path / "s.csv", [HEATING])
    out = tmp_path / "tank.txt"
    proc = subprocess.Popen([str(PVSIM), "--elf", str(testfw), "--scenario", str(scenario), "--seconds", "4",
                             "--realtime", "--stream", "--summary", str(tmp_path / "s.json"),
                             "--tank-litres", "5", "--tank-c", "40", "--tank-out", str(out)],
                            stdout=subprocess.PIPE, text=True)
    seen_after_line = []

    def read_stream():
        for line in proc.stdout:
            seen_after_line.append((json.loads(line), out.read_text()))

    reader = threading.Thread(target=read_stream)
    reader.start()
    contents = []
    try:
        while proc.poll() is None:
            try:
                contents.append(out.read_text())
            except FileNotFoundError:
                pass
            time.sleep(0.002)
    finally:
        proc.wait(timeout=30)
        reader.join(timeout=10)
    assert proc.returncode == 0
    assert contents, "the file never appeared"
    assert contents[0] == "40.00\n"  # written at start, before the first second ends
    bad = [c for c in set(contents) if not re.fullmatch(r"-?\d+\.\d\d\n", c)]
    assert not bad, bad
    assert len(seen_after_line) == 4
    values = [line["tank_c"] for line, _ in seen_after_line]
    for k, (line, text) in enumerate(seen_after_line):
        # the file is rewritten before the stream line goes out: at least that current
        assert any(abs(float(text) - v) <= 0.0051 for v in values[k:]), (text, values[k:])
    assert values == sorted(values) and values[-1] > 40.2  # the water heats
    summary = json.loads((tmp_path / "s.json").read_text())
    assert abs(float(out.read_text()) - summary["tank"]["end_c"]) <= 0.0051
    assert not (tmp_path / "tank.txt.tmp").exists()


def test_without_tank_nothing_changes(testfw, tmp_path):
    """No --tank-litres: tank null, tank_c null and thermostat_open false everywhere, and every figure
    the same as with a big tank whose thermostat never opens (the model only ever gates the heater)."""
    rows = [HEATING, dict(HEATING, t_s=5, ch1_w=0), dict(HEATING, t_s=8)]
    plain = simulate(testfw, tmp_path, rows, 10, name="plain")
    tanked = simulate(testfw, tmp_path, rows, 10, name="tanked", tank_litres=200, tank_c=20)
    assert plain["tank"] is None
    assert all(r["tank_c"] is None and r["thermostat_open"] is False for r in plain["per_second"])
    assert tanked["tank"]["thermostat_openings"] == 0
    assert tanked["tank"]["heat_in_wh"] == pytest.approx(plain["ch1_wh"], abs=1e-5)
    for key in plain:
        if key not in ("wall_s", "speed_x", "tank", "per_second"):
            assert plain[key] == tanked[key], key
    strip = ("tank_c", "thermostat_open")
    assert ([{k: v for k, v in r.items() if k not in strip} for r in plain["per_second"]]
            == [{k: v for k, v in r.items() if k not in strip} for r in tanked["per_second"]])
    # ch1_w 0 still means no heater power (the scenario's "thermostat open" of before)
    assert all(r["ch1_w"] == 0 for r in plain["per_second"] if 5 <= r["t"] < 8)


def test_stream_lines_carry_the_tank(testfw, tmp_path):
    scenario = write_scenario(tmp_path / "s.csv", [HEATING])
    base = [str(PVSIM), "--elf", str(testfw), "--scenario", str(scenario), "--seconds", "2", "--stream"]
    lines = [json.loads(x) for x in subprocess.run(base, capture_output=True, text=True, check=True).stdout.splitlines()]
    assert [(x["tank_c"], x["thermostat_open"]) for x in lines] == [(None, False)] * 2
    assert list(lines[0])[:7] == ["t", "pv_w", "house_w", "grid_w", "ch1_w", "ch2_w", "frame"]  # unchanged
    lines = [json.loads(x) for x in subprocess.run(base + ["--tank-litres", "5", "--tank-c", "69.9"],
                                                   capture_output=True, text=True, check=True).stdout.splitlines()]
    assert lines[0]["thermostat_open"] is False and lines[1]["thermostat_open"] is True
    assert 69.9 < lines[0]["tank_c"] < 70.0
    assert 69.99 < lines[1]["tank_c"] <= 70.01  # opened at 70 C, then only its losses


@pytest.mark.parametrize("spec", ["abc", "5", "5:", ":2", "5:-1", "5:0", "-1:2", "1:2,,3:4", "1:2,", "5:x",
                                  "nan:1", "5:100"])
def test_bad_draw_offs_spec_is_named(testfw, tmp_path, spec):
    scenario = write_scenario(tmp_path / "s.csv", [HEATING])
    r = subprocess.run([str(PVSIM), "--elf", str(testfw), "--scenario", str(scenario), "--seconds", "1",
                        "--tank-litres", "5", f"--draw-offs={spec}"], capture_output=True, text=True)
    assert r.returncode != 0
    assert f'--draw-offs "{spec}"' in r.stderr, r.stderr


def test_bad_draw_offs_spec_is_named_by_the_core_too(testfw, tmp_path):
    """The core, run directly, checks the spec itself."""
    scenario = tmp_path / "normalized.txt"
    scenario.write_text("0 2500 500 2000 1000 230\n")
    r = subprocess.run([str(CORE), "--elf", str(testfw), "--scenario", str(scenario), "--seconds", "1",
                        "--tank-litres", "5", "--draw-offs", "1:2,oops"], capture_output=True, text=True)
    assert r.returncode != 0
    assert '--draw-offs "1:2,oops": item "oops"' in r.stderr, r.stderr


def test_tank_options_need_a_tank(testfw, tmp_path):
    scenario = write_scenario(tmp_path / "s.csv", [HEATING])
    r = subprocess.run([str(PVSIM), "--elf", str(testfw), "--scenario", str(scenario), "--seconds", "1",
                        "--draw-offs", "1:2"], capture_output=True, text=True)
    assert r.returncode != 0 and "--tank-litres" in r.stderr, r.stderr


def test_help_shows_the_tank_options_with_defaults():
    text = subprocess.run([str(PVSIM), "--help"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for option, default in [("--tank-litres L", "0.0"), ("--tank-c C", "45.0"),
                            ("--tank-loss-w-per-k W_PER_K", "1.6"), ("--tank-ambient-c C", "18.0"),
                            ("--thermostat-c C", "70.0"), ("--thermostat-hysteresis-k K", "5.0"),
                            ("--cold-c C", "12.0")]:
        m = re.search(re.escape(option) + r" [^\[]*?\(default: ([^) ]+)", flat)
        assert m and m.group(1) == default, (option, m and m.group(0))
    assert "--draw-offs T:L[,T:L...]" in flat and "--tank-out PATH" in flat
