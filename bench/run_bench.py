#!/usr/bin/env python3
"""`make bench`: measures every part, prints the figures and writes bench/results.json.

Wall-clock figures vary with the machine; simulated figures (samples, gate error, grid watts)
are deterministic. The README's performance section quotes the last run of this script.
"""
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testbed.avr_usage import avr_usage
from testbed.readme_figures import update_readme
from testbed.simrun import ATMEGA_ELF, run_simulation, samples_to_settle, settling_time_s, write_scenario

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"

# Standard scenarios of the ATmega benchmark: (name, rows, seconds, simulator options).
STEADY = [{"t_s": 0, "pv_w": 1300, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000}]
STEP = STEADY + [{"t_s": 10, "pv_w": 1300, "house_w": 1100, "ch1_w": 2000, "ch2_w": 1000}]
SATURATED = [{"t_s": 0, "pv_w": 3100, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000}]
IMPORT = [{"t_s": 0, "pv_w": 200, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000}]
ATMEGA_SCENARIOS = [
    ("steady_800_w_50hz", STEADY, 20, {}),
    ("steady_800_w_60hz", STEADY, 20, {"mains_hz": 60}),
    ("step_plus_600_w", STEP, 20, {}),
    ("saturated_2600_w", SATURATED, 30, {}),
    ("import_300_w", IMPORT, 27, {}),
]


def rounded(value, digits):
    return None if value is None else round(value, digits)


def bench_atmega(workdir: Path) -> dict:
    results = {"usage": avr_usage(ATMEGA_ELF), "scenarios": {}}
    for name, rows, seconds, options in ATMEGA_SCENARIOS:
        scenario = write_scenario(workdir / f"{name}.csv", rows)
        started = time.monotonic()
        s = run_simulation(ATMEGA_ELF, scenario, seconds=seconds, summary=workdir / f"{name}.json", **options)
        wall = time.monotonic() - started
        routed = s["ch1_wh"] + s["ch2_wh"]
        figures = {
            "sample_pairs_per_cycle_min": s["sample_pairs_per_cycle"]["min"],
            "sample_pairs_per_cycle_mean": round(s["sample_pairs_per_cycle"]["mean"], 1),
            "gate_error_us_mean": rounded(s["gate_error_us"]["mean"], 2),  # None: nothing fired
            "gate_error_us_max_abs": rounded(s["gate_error_us"]["max_abs"], 2),
            "half_cycles_fired": s["half_cycles_fired"],
            "straddles": s["straddles"],
            "grid_w_mean_last_5s": round(s["grid_w_mean_last"], 2),
            "import_wh": round(s["import_wh"], 4),
            "export_wh": round(s["export_wh"], 4),
            "router_import_wh": round(s["router_import_wh"], 4),
            "router_import_pct_of_routed": round(100.0 * s["router_import_wh"] / routed, 3) if routed else 0.0,
            "routed_wh": round(routed, 3),
            "frames_ok": s["frames_ok"],
            "frames_bad_crc": s["frames_bad_crc"],
            "simulated_s_per_wall_s": round(seconds / wall, 2),
        }
        if name.startswith("step"):
            figures["settling_s_within_50_w"] = round(settling_time_s(s, 10.0), 3)
        results["scenarios"][name] = figures
    return results


def print_section(title: str, data: dict, indent: str = "") -> None:
    print(f"{indent}{title}")
    for key, value in data.items():
        if isinstance(value, dict):
            print_section(key, value, indent + "  ")
        else:
            print(f"{indent}  {key:<36} {value}")


def bench_gateway(_workdir: Path) -> dict:
    import bench_gateway as gateway

    return gateway.run(frames=1000, fuzz_seconds=60)


def bench_client(_workdir: Path) -> dict:
    import bench_client as client

    return client.main([])


DAY = ROOT / "sim" / "scenarios" / "day.csv"
DAY_CH2_STEP = (60.0, 70.0)  # the day's step where channel 2 must take 600 W (heater saturated)


def ch2_settling_s(records, start: float, end: float, band_w: float = 50.0) -> tuple[float, float]:
    """Seconds after `start` until channel 2 stays within band_w of its mean over the window's
    last 3 s, and its peak-to-peak swing over those 3 s (a sustained oscillation shows there)."""
    ch2 = [r["ch2_w"] for r in records if start <= r["t"] < end]  # one record per second
    tail = ch2[-3:]
    return float(samples_to_settle(ch2, band_w, len(tail))), max(tail) - min(tail)


def bench_system(workdir: Path) -> dict:
    """The whole chain in real time on the standard day (tools/demo.py, headless)."""
    import shutil
    import subprocess

    seconds = 120
    subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py"), "--scenario", str(DAY), "--seconds",
                    str(seconds), "--out", str(workdir)], check=True, stdout=subprocess.DEVNULL)
    records = json.loads((workdir / "demo-series.json").read_text())
    summary = json.loads((workdir / "demo-summary.json").read_text())
    shutil.copy(workdir / "demo.png", ROOT / "bench" / "day.png")
    settling, swing = ch2_settling_s(records, *DAY_CH2_STEP)
    return {"routed_share_of_absorbable_surplus_pct": round(summary["routed_share_pct"], 2),
            "router_import_pct_of_routed": round(summary["router_import_pct_of_routed"], 3),
            "channel_2_settling_s": settling,
            "channel_2_swing_after_settling_w": round(swing, 1),
            "routed_wh": summary["routed_wh"], "import_wh": summary["import_wh"],
            "export_wh": summary["export_wh"], "ch1_wh": summary["ch1_wh"],
            **{k: summary[k] for k in ("gateway_routed_wh", "gateway_grid_import_wh", "gateway_grid_export_wh")},
            "seconds": seconds}


def bench_loads(workdir: Path) -> dict:
    """Several loads on the standard day in real time: the host gateway of tests/loads (pv_loads and
    an 800-W relay stage after the dimmers), two host clients (1000 W priority 1, 1500 W priority 2)."""
    import asyncio

    from testbed.day_report import energy_summary
    from testbed.loads import record_run

    seconds = 120
    run = asyncio.run(record_run(workdir, DAY, seconds))
    summary = energy_summary(run["records"])
    return {"routed_share_pct": round(summary["routed_share_pct"], 2),
            "router_import_pct_of_routed": round(summary["router_import_pct_of_routed"], 3),
            "relay_switchings": run["relay_switchings"],
            "relay_switchings_per_hour": round(run["relay_switchings"] * 3600 / seconds, 1),
            "routed_wh": summary["routed_wh"], "import_wh": summary["import_wh"],
            "export_wh": summary["export_wh"], "seconds": seconds}


def rx_flood(workdir: Path, seconds: int = 60) -> dict:
    """The ATmega's RX flooded with random bytes at full 9600 baud for a minute (800 W surplus):
    sampling, firing and the frames must not notice."""
    import random

    from testbed.simrun import good_frames, write_rx_script

    flood = random.Random(7).randbytes(960 * seconds)
    script = write_rx_script(workdir / "flood.txt", [(1.0, flood)])
    scenario = write_scenario(workdir / "flood.csv", STEADY)
    s = run_simulation(ATMEGA_ELF, scenario, seconds=seconds + 4, summary=workdir / "flood.json", rx_input=script)
    frames = [f["t"] for f in good_frames(s)]
    # One frame a second (none early at a steady surplus): a gap of two seconds is a missed frame.
    missed = sum(round(b - a) - 1 for a, b in zip(frames, frames[1:]) if b - a > 1.5) + s["frames_bad_crc"]
    return {"rx_flood_seconds": seconds, "rx_flood_bytes": len(flood),
            "rx_flood_pairs_per_cycle_min": s["sample_pairs_per_cycle"]["min"],
            "rx_flood_gate_error_us_max": rounded(s["gate_error_us"]["max_abs"], 2),
            "rx_flood_frames_missed": missed,
            "rx_flood_lines_refused": good_frames(s)[-1]["fields"].get("CRJ")}


def command_latency(workdir: Path, count: int = 20) -> dict:
    """Home Assistant's call (Channel 1 mode) -> the ATmega's frames showing it in force, through the
    real chain in real time (host gateway, pty, the ATmega ELF in the simulator)."""
    import asyncio
    import statistics

    from testbed.esphome_host import ApiWatcher
    from testbed.system import System, build_all, command_latencies

    scenario = write_scenario(workdir / "latency.csv", IMPORT)
    gateway_program, _ = build_all(log=lambda _message: None)
    system = System(workdir / "latency", scenario, seconds=600, mains_hz=50)

    async def measure() -> list[float]:
        w = await ApiWatcher(system.gateway.api_port).connect()
        try:
            await w.wait_for(lambda s: s.get("channel_1_mode_in_force") == "auto", 15)
            return await command_latencies(w, count)
        finally:
            await w.disconnect()

    try:
        system.start(gateway_program, None)
        latencies = asyncio.run(measure())
    finally:
        system.stop()
    return {"command_latency_s_median": round(statistics.median(latencies), 3),
            "command_latency_s_max": round(max(latencies), 3), "command_latency_calls": count}


def bench_link(workdir: Path) -> dict:
    """The gateway -> ATmega command line (issue 11)."""
    return {**command_latency(workdir), **rx_flood(workdir)}


def bench_hot_water(_workdir: Path) -> dict:
    """The hot-water manager on the simulated house (tests/hot_water/cpp/house.*): a summer day, a
    winter day, a mixed week; grid energy against the least that met the same deadlines."""
    from testbed.hot_water import build_hot_water_bench

    out = subprocess.run([str(build_hot_water_bench())], capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout)


def bench_channel2(workdir: Path) -> dict:
    """Channel 2 on the scenarios of issue 13 (testbed/ch2_scenarios.py), clients answering 0.3 s and
    1 s after each frame; simulated, deterministic."""
    from testbed.ch2_scenarios import run_all

    return run_all(workdir)


def bench_channel2_days(workdir: Path) -> dict:
    """The fast-cloud scenario on several generated days (testbed/ch2_scenarios.py: FAST_CLOUD_DAYS)."""
    from testbed.ch2_scenarios import fast_cloud_days

    return fast_cloud_days(workdir)


SECTIONS = {"atmega": bench_atmega, "channel2": bench_channel2, "channel2_days": bench_channel2_days, "gateway": bench_gateway, "client": bench_client, "system": bench_system,
            "loads": bench_loads, "link": bench_link, "hot_water": bench_hot_water}


def main() -> int:
    only = sys.argv[1:] or list(SECTIONS)
    sections = {name: SECTIONS[name] for name in only}
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, bench in sections.items():
            results[name] = bench(Path(tmp))
            # A section run alone says when (beside the figures, not among them): the others keep
            # the last full run's date.
            dates = results.setdefault("section_dates", {})
            if sys.argv[1:]:
                dates[name] = time.strftime("%Y-%m-%d %H:%M:%S")
            else:
                dates.pop(name, None)
            print_section(name, results[name])
    if not sys.argv[1:]:
        results["date"] = time.strftime("%Y-%m-%d %H:%M:%S")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    update_readme(results)
    print(f"wrote {RESULTS.relative_to(ROOT)} and the performance section of README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
