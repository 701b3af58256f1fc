"""The whole chain in real time: simulated house + real ATmega ELF -> pty -> host gateway -> UDP ->
host client -> its delivered power back into the house (tools/demo.py, headless)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testbed.simrun import ROOT, write_scenario

pytestmark = pytest.mark.slow

CUT_AT = 30.0
SECONDS = 44


def window(records, start, end):
    return [r for r in records if start <= r["t"] < end]


def mean(records, key):
    return sum(r[key] for r in records) / len(records)


@pytest.fixture(scope="module", params=["serial", "gateway"])
def run(request, tmp_path_factory):
    """The demo on a short story; the serial link or the gateway is cut at CUT_AT."""
    work = tmp_path_factory.mktemp(f"system-{request.param}")
    scenario = write_scenario(work / "story.csv", [
        {"t_s": 0, "pv_w": 1300, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000},   # 800 W surplus
        {"t_s": 12, "pv_w": 3100, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000},  # 2600 W: ch2 takes 600
    ])
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py"), "--scenario", str(scenario),
                             "--seconds", str(SECONDS), "--out", str(work), f"--cut-{request.param}-at", str(CUT_AT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records = json.loads((work / "demo-series.json").read_text())
    return request.param, records, json.loads((work / "demo-summary.json").read_text())


def test_surplus_goes_to_channel_1_first(run):
    _, records, _ = run
    steady = window(records, 6, 12)
    assert mean(steady, "ch1_w") == pytest.approx(800, abs=40)
    assert mean(steady, "ch2_w") < 20
    assert abs(mean(steady, "grid_w")) < 20


def test_channel_2_takes_over_when_channel_1_is_saturated(run):
    _, records, _ = run
    saturated = window(records, 22, CUT_AT)
    assert mean(saturated, "ch1_w") == pytest.approx(2000, rel=0.02)
    assert mean(saturated, "ch2_w") == pytest.approx(600, abs=80)
    assert abs(mean(saturated, "grid_w")) < 60
    assert all(r["ratio_stale"] is False for r in saturated)


def test_router_imports_nothing_before_the_cut(run):
    _, records, _ = run
    before = window(records, 0, CUT_AT)
    routed_ws = sum(r["ch1_w"] + r["ch2_w"] for r in before)
    router_import_ws = sum(max(r["grid_w"], 0) for r in before if r["pv_w"] > r["house_w"])
    assert router_import_ws <= 0.005 * routed_ws


def test_channel_2_goes_safe_when_the_link_is_cut(run):
    cut, records, _ = run
    after = window(records, CUT_AT + 8, SECONDS)  # the 5 s timeout, a frame, and the way to the client
    assert after, records[-1]
    assert all(r["ch2_w"] == 0 for r in after), [(r["t"], r["ch2_w"]) for r in after]
    assert all(r["ratio_stale"] is True for r in after)
    if cut == "serial":
        assert all(r["link"] is False for r in after)
    # channel 1 is the ATmega's own business: it keeps regulating locally
    assert mean(after, "ch1_w") == pytest.approx(2000, rel=0.02)


def processes_of(workdir) -> list[str]:
    """Processes whose command line or HOME mentions workdir (the demo's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(workdir) in cmdline or any(e.startswith(f"HOME={workdir}".encode()) for e in environ):
            found.append(f"{entry.name}: {cmdline}")
    return found


def test_the_demo_stops_every_process_it_started_on_sigterm(tmp_path):
    work = tmp_path / "work"
    demo = subprocess.Popen([sys.executable, str(ROOT / "tools" / "demo.py"), "--seconds", "120",
                             "--out", str(tmp_path / "out"), "--workdir", str(work)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # as in the background: SIGINT ignored or not, SIGTERM works
    try:
        for line in demo.stdout:
            if line.startswith("t="):  # the chain runs
                break
        assert processes_of(work), "the demo's processes should be running"
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    time.sleep(0.5)
    assert processes_of(work) == []
    assert (tmp_path / "out" / "demo-summary.json").exists()


@pytest.mark.parametrize("end", ["normal", "SIGINT", "SIGTERM"])
def test_the_demo_ends_without_a_traceback(tmp_path, end):
    """A normal end (DEMO_SECONDS), Ctrl-C or SIGTERM: the demo stops feeding channel 2 and hangs up
    the API connections before it stops the simulator and the firmwares, so no state callback runs
    into a closed fifo and nothing is printed but the summary."""
    stderr_path = tmp_path / "stderr.txt"
    env = dict(os.environ, DEMO_SECONDS="8" if end == "normal" else "60")
    with open(stderr_path, "w") as stderr:
        demo = subprocess.Popen([sys.executable, str(ROOT / "tools" / "demo.py"), "--out", str(tmp_path / "out"),
                                 "--workdir", str(tmp_path / "work")],
                                stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, start_new_session=True)
        try:
            if end != "normal":
                for line in demo.stdout:
                    if line.startswith("t="):  # the chain runs
                        break
                time.sleep(3)  # the client's states keep flowing into channel 2
                demo.send_signal(getattr(signal, end))
            stdout = demo.stdout.read()
            demo.wait(timeout=120)
        finally:
            if demo.poll() is None:
                demo.kill()
    err = stderr_path.read_text()
    assert demo.returncode == 0, stdout[-2000:] + err[-3000:]
    assert "Traceback" not in err and "TypeError" not in err, err[-3000:]
    assert ("interrupted: stopping" in stdout) == (end != "normal"), stdout[-2000:]
    assert (tmp_path / "out" / "demo-summary.json").exists()


def test_the_gateway_energy_home_assistant_reads_is_what_the_house_saw(tmp_path):
    """make demo's summary: the gateway's totals through the native API at the end, beside the
    simulator's. The heater's thermostat is open for a while (routed energy must not count it), and
    the run ends quietly (the last second after the last frame is not in the gateway's figures)."""
    scenario = write_scenario(tmp_path / "story.csv", [
        {"t_s": 0, "pv_w": 1300, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000},   # 800 W to the heater
        {"t_s": 10, "pv_w": 2900, "house_w": 500, "ch1_w": 0, "ch2_w": 1000},     # thermostat open
        {"t_s": 20, "pv_w": 2900, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000},  # closed, ch2 takes 400
        {"t_s": 28, "pv_w": 200, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000},   # evening: 300 W import
    ])
    for run_number in (1, 2):  # the second run in the same workdir: nothing carried over from the first
        result = subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py"), "--scenario", str(scenario),
                                 "--seconds", "34", "--out", str(tmp_path / "out"), "--workdir", str(tmp_path / "work")],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        summary = json.loads((tmp_path / "out" / "demo-summary.json").read_text())
        for gateway_key, sim_key in (("gateway_routed_wh", "ch1_wh"), ("gateway_grid_import_wh", "import_wh"),
                                     ("gateway_grid_export_wh", "export_wh")):
            assert summary[gateway_key] == pytest.approx(summary[sim_key], rel=0.03, abs=0.3), (run_number, summary)
        assert summary["ch1_wh"] > 5.0 and summary["export_wh"] > 1.0, summary  # the story did happen
