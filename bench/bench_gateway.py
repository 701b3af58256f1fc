#!/usr/bin/env python3
"""Gateway benchmark (wired into `make bench`). Prints a JSON summary and returns it from run().

- frame-to-API latency: frames written into the pty of the real host gateway, time until the
  native API client (aioesphomeapi) receives the frame's grid power; median and worst over N frames
- parser throughput: native C++ micro-benchmark of the same parser (frames/s, g++ -O2)
- fuzzing: libFuzzer executions over ~60 s with zero findings (ASan + UBSan + CRC invariant)
- corruption: 10,000 frames with 1 % of their bytes replaced at random: fraction of the corrupted
  frames that published any wrong value (native parser, the code the firmware runs)
- energy: the real ATmega ELF in simulated time on the standard day and on thermostat_third (the
  heater's thermostat open a third of the time), its frames through the host gateway: Routed, Grid
  import and Grid export energy as Home Assistant reads them against the simulator's own accounts
- recorder: state changes an hour Home Assistant's recorder would write with the default config,
  counted through aioesphomeapi over a steady minute of the real ATmega ELF in the simulator (800 W
  surplus, real time), for this gateway and for the one of BASELINE_COMMIT (built from git)

    .venv/bin/python bench/bench_gateway.py [--frames 1000] [--fuzz-seconds 60] [--json OUT]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testbed.gateway_harness import (
    CPP_DIR, HOST_NAME, PURE_SOURCES, ApiWatcher, HostGateway, build_fuzzer, build_host_firmware, build_native,
    feed_and_read, make_frame, make_fuzz_corpus, run_fuzzer,
)
from testbed.esphome_host import BUILD, REPO, compile_host
from testbed.simrun import (ATMEGA_ELF, PVSIM, energy_at, fired_energy_wh, frame_built_at, good_frames,
                            run_simulation, write_scenario)

# The gateway before issue 9 (every value published every second, 13 diagnostics enabled).
BASELINE_COMMIT = "310142a"


async def _latency(program: Path, frames: int) -> dict:
    lat = []
    lost = 0
    with tempfile.TemporaryDirectory(prefix="bench-gw-") as tmp, HostGateway(program, Path(tmp)) as gw:
        w = await ApiWatcher(gw.api_port).connect()
        await w.quiet(0.3)
        for i in range(frames):
            # unique per window, 20 W apart (the gateway publishes moves of 10 W or more): grid_power = -ree
            ree = f"{(i % 200) * 20 + 0.01:.2f}"
            expected = -float(ree)
            data = make_frame([("EIB", "500.00"), ("REE", ree), ("MPC", "20.00"), ("POR", "10.00"),
                               ("FID", "5000"), ("SPL", "192"), ("VO2", "0")])
            n0 = len(w.events)
            t0 = time.monotonic()
            gw.write(data)
            ok = await w.wait_for(
                lambda s: any(name == "grid_power" and abs(v - expected) < 1e-3
                              for _, name, v in w.events[n0:]), 2.0)
            if not ok:
                lost += 1
                continue
            t1 = next(t for t, name, v in w.events[n0:] if name == "grid_power" and abs(v - expected) < 1e-3)
            lat.append((t1 - t0) * 1000.0)
            del w.events[:]  # keep the scan short
        await w.disconnect()
    lat.sort()
    return {"frames": frames, "lost": lost, "median_ms": round(statistics.median(lat), 2),
            "p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 2), "worst_ms": round(lat[-1], 2),
            "best_ms": round(lat[0], 2),
            "note": "includes the native API's batch_delay (100 ms default) that groups state messages"}


def latency(frames: int) -> dict:
    return asyncio.run(_latency(build_host_firmware(), frames))


def throughput() -> dict:
    b = build_native("bench_parser", [CPP_DIR / "bench_parser.cpp", *PURE_SOURCES], flags=["-O2"])
    runs = [json.loads(subprocess.run([str(b), "throughput", "300000"], capture_output=True, text=True,
                                      check=True).stdout) for _ in range(3)]
    best = max(runs, key=lambda r: r["frames_per_s"])
    return {"frames_per_s": best["frames_per_s"], "bytes_per_s": best["bytes_per_s"],
            "us_per_frame": round(1e6 / best["frames_per_s"], 3)}


def corruption(frames: int = 10000, p: float = 0.01, seed: int = 1) -> dict:
    b = build_native("bench_parser", [CPP_DIR / "bench_parser.cpp", *PURE_SOURCES], flags=["-O2"])
    return json.loads(subprocess.run([str(b), "corrupt", str(frames), str(p), str(seed)],
                                     capture_output=True, text=True, check=True).stdout)


def fuzz(seconds: int) -> dict:
    if shutil.which("clang++") is None:
        return {"skipped": "clang++ not installed"}
    binary = build_fuzzer()
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        corpus = make_fuzz_corpus(Path(tmp) / "corpus")
        rc, out, execs = run_fuzzer(binary, corpus, seconds, Path(tmp))
        findings = len(list(Path(tmp).glob("crash-*")) + list(Path(tmp).glob("leak-*"))
                       + list(Path(tmp).glob("timeout-*")) + list(Path(tmp).glob("oom-*")))
    findings += int(rc != 0 and findings == 0)
    return {"seconds": seconds, "executions": execs, "execs_per_s": round(execs / seconds),
            "findings": findings}


async def _state_changes(program: Path, workdir: Path, warmup_s: float, seconds: float) -> dict:
    """Runs the real ATmega ELF at 800 W of steady surplus in real time into the gateway and counts,
    over `seconds` after `warmup_s`, the state changes of the entities enabled by default (what the
    recorder writes: a state equal to the last one adds no row) and of all entities."""
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = write_scenario(workdir / "steady.csv", [{"t_s": 0, "pv_w": 1300, "house_w": 500}])
    with HostGateway(program, workdir / "gw") as gw:
        sim = subprocess.Popen([sys.executable, str(PVSIM), "--elf", str(ATMEGA_ELF), "--scenario", str(scenario),
                                "--realtime", "--uart-out", str(gw.pty.b), "--seconds", str(warmup_s + seconds + 5),
                                "--summary", str(workdir / "sim.json")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            w = await ApiWatcher(gw.api_port).connect()
            await asyncio.sleep(warmup_s)
            last = dict(w.states)
            start = len(w.events)
            await asyncio.sleep(seconds)
            events = w.events[start:]
            await w.disconnect()
        finally:
            sim.terminate()
            sim.wait(timeout=10)
    enabled = {name for name, info in w.infos.items() if not getattr(info, "disabled_by_default", False)}
    changes = {"enabled": 0, "all": 0}
    per_entity: dict[str, int] = {}
    for _, name, value in events:
        before = last.get(name)
        last[name] = value
        same = before == value or (isinstance(value, float) and value != value and before != before)
        if same:
            continue
        changes["all"] += 1
        if name in enabled:
            changes["enabled"] += 1
            per_entity[name] = per_entity.get(name, 0) + 1
    scale = 3600.0 / seconds
    return {"per_hour_default_config": round(changes["enabled"] * scale),
            "per_hour_all_entities_enabled": round(changes["all"] * scale),
            "entities_enabled_by_default": len(enabled), "entities": len(w.infos),
            "per_hour_by_entity": {k: round(v * scale) for k, v in sorted(per_entity.items())}}


def energy() -> dict:
    result = {}
    with tempfile.TemporaryDirectory(prefix="bench-energy-") as tmp:
        for name in ("day", "thermostat_third"):
            summary = run_simulation(ATMEGA_ELF, REPO / "sim" / "scenarios" / f"{name}.csv",
                                     summary=Path(tmp) / f"{name}.json", ch2_delay=0.3)
            frames = good_frames(summary)
            with HostGateway(build_host_firmware(), Path(tmp) / name) as gw:
                got, _ = feed_and_read(gw, frames)
            truth = energy_at(summary, frame_built_at(frames[-1]))
            figures = {}
            for gateway_key, sim_key in (("routed_energy", "ch1_wh"), ("grid_import_energy", "import_wh"),
                                         ("grid_export_energy", "export_wh")):
                figures[gateway_key] = {"gateway_wh": round(got[gateway_key], 3), "simulator_wh": round(truth[sim_key], 3),
                                        "error_pct": round(100.0 * (got[gateway_key] / truth[sim_key] - 1.0), 2)}
            figures["routed_energy_por_x_rating_wh"] = round(fired_energy_wh(frames), 3)
            result[name] = figures
    return result


def baseline_program() -> Path:
    """The host gateway of BASELINE_COMMIT, from `git archive` (its own ESPHome build folder)."""
    root = BUILD / "recorder-baseline" / BASELINE_COMMIT
    if not (root / "gateway-host.yaml").exists():
        root.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BASELINE_COMMIT], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    return compile_host(root / "gateway-host.yaml", HOST_NAME, data_dir=root.parent / "esphome",
                        log=root.parent / "build.log")


def recorder(warmup_s: float = 12.0, seconds: float = 60.0) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-rec-") as tmp:
        now = asyncio.run(_state_changes(build_host_firmware(), Path(tmp) / "now", warmup_s, seconds))
        before = asyncio.run(_state_changes(baseline_program(), Path(tmp) / "before", warmup_s, seconds))
    return {"steady_seconds": seconds, "now": now, "baseline_commit": BASELINE_COMMIT, "baseline": before,
            "ratio_to_baseline": round(now["per_hour_default_config"] / before["per_hour_default_config"], 4)}


def run(frames: int = 1000, fuzz_seconds: int = 60) -> dict:
    result = {}
    result["energy"] = energy()
    result["recorder"] = recorder()
    result["parser_throughput"] = throughput()
    result["corruption"] = corruption()
    result["frame_to_api_latency"] = latency(frames)
    result["fuzzing"] = fuzz(fuzz_seconds)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description="routeur_pv gateway benchmark")
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--fuzz-seconds", type=int, default=60)
    ap.add_argument("--json", type=Path, help="also write the summary here")
    args = ap.parse_args()
    res = run(args.frames, args.fuzz_seconds)
    text = json.dumps(res, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    ok = (res["corruption"]["wrong_published"] == 0 and res["frame_to_api_latency"]["lost"] == 0
          and res["fuzzing"].get("findings", 0) == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
