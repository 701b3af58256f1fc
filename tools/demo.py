#!/usr/bin/env python3
"""`make demo`: the three firmwares together, as they run in a house, in real time.

    sim/pvsim --realtime (real ATmega ELF + house model)
        -> serial bytes over a pty -> host gateway (routeur_pv) -> UDP packet_transport
        -> host client (pv_client) -> its delivered power, read through the native API with
           aioesphomeapi -> fed back into the house model as channel 2.

A live view is drawn every second; at the end (or on Ctrl-C) out/demo.png and
out/demo-summary.json are written. DEMO_SECONDS=N runs headless for N seconds (tests use it).
Every process started here is stopped on the way out, whatever happens.

A scenario with the simulator's tank (`# pvsim: --tank-litres ...`) shows the hot-water manager too;
its `# demo: deadline_in_s N` line sets the manager's deadline N s ahead (rounded up to the minute)
through the API, as a user would in Home Assistant (sim/scenarios/winter_evening.csv).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from testbed.day_report import plot_run, scenario_capacity, write_summary
from testbed.esphome_host import BUILD, GATEWAY_LINK_TIMEOUT_S, REPO, ApiWatcher
from testbed.system import System, build_all

DEFAULT_SCENARIO = REPO / "sim" / "scenarios" / "day.csv"
CLIENT_POWER_SENSOR = "simulated_heater_power"  # what the client's dimmer runtime delivers
# The gateway's energy totals (kWh entities) in the summary, in Wh, beside the simulator's figures.
GATEWAY_ENERGY = {"gateway_routed_wh": "routed_energy", "gateway_grid_import_wh": "grid_import_energy",
                  "gateway_grid_export_wh": "grid_export_energy"}


DEMO_DIRECTIVE = "# demo:"


def demo_directives(scenario: Path) -> dict:
    """`# demo: key value` lines of the scenario (numbers)."""
    out = {}
    for line in scenario.read_text().splitlines():
        if line.strip().startswith(DEMO_DIRECTIVE):
            key, value = line.strip()[len(DEMO_DIRECTIVE):].split()
            out[key] = float(value)
    return out


async def set_deadline(gateway: ApiWatcher, in_s: float) -> float:
    """The deadline in_s from now, rounded up to the minute (the manager's resolution), set on the
    gateway's "Hot water deadline time" and enabled; returns its wall-clock time (epoch s)."""
    at = (int(time.time() + in_s) // 60 + 1) * 60
    local = time.localtime(at)
    gateway.client.time_command(gateway.infos["hot_water_deadline_time"].key, local.tm_hour, local.tm_min, 0)
    gateway.client.switch_command(gateway.infos["hot_water_deadline"].key, True)
    return float(at)


def hot_water_summary(records: list[dict], deadline: dict | None) -> dict:
    """What the water did (the simulator) and, with a deadline, whether it was met."""
    tank = [r for r in records if r.get("tank_c") is not None]
    if not tank:
        return {}
    out = {"tank_c_start": tank[0]["tank_c"], "tank_c_end": tank[-1]["tank_c"],
           "tank_c_max": max(r["tank_c"] for r in tank),
           "forced_s": sum(1 for r in records if r.get("hot_water_forcing")),
           "first_forced_t": next((r["t"] for r in records if r.get("hot_water_forcing")), None)}
    if deadline:
        at = next((r for r in tank if r["t"] >= deadline["t"]), None)
        out.update({"deadline_t": round(deadline["t"], 1), "deadline_c": deadline["c"],
                    "tank_c_at_deadline": at["tank_c"] if at else None,
                    "deadline_met": bool(at and at["tank_c"] >= deadline["c"] - 0.2)})
    return out


def cut_faults(args, t: float, system: System) -> None:
    """Fault injection for the fail-safe checks: cut the serial link or stop the gateway at a time."""
    if args.cut_serial_at is not None and t >= args.cut_serial_at and system.pty.proc.poll() is None:
        print(f"t={t:.0f}s: cutting the serial link", flush=True)
        system.pty.stop()
    if args.cut_gateway_at is not None and t >= args.cut_gateway_at and system.gateway.alive():
        print(f"t={t:.0f}s: stopping the gateway", flush=True)
        system.gateway.stop()


def live_view(record: dict, gateway: dict, client: dict, frame_rate: float) -> str:
    """One screen of figures, readable at a glance."""
    link = {True: "\033[32mUP\033[0m", False: "\033[31mDOWN\033[0m"}.get(gateway.get("atmega_link"), "?")
    grid = record["grid_w"]
    flow = "import" if grid > 5 else "export" if grid < -5 else "balanced"
    bar = lambda w, full: "#" * max(0, min(40, round(40 * w / full))) if full else ""  # noqa: E731
    lines = [
        "\033[H\033[2J Routeur PV - whole system in simulation (Ctrl-C to stop)",
        f" t = {record['t']:6.0f} s",
        "",
        f" PV            {record['pv_w']:7.0f} W  {bar(record['pv_w'], 4000)}",
        f" house         {record['house_w']:7.0f} W  {bar(record['house_w'], 4000)}",
        f" grid          {grid:+7.0f} W  ({flow})",
        f" channel 1     {record['ch1_w']:7.0f} W  {bar(record['ch1_w'], 4000)}  heater (ATmega)",
        f" channel 2     {record['ch2_w']:7.0f} W  {bar(record['ch2_w'], 4000)}  dimmer (client)",
        "",
        f" ATmega link   {link}   frames/s {frame_rate:4.1f}   frames received {gateway.get('frames_received', 0):.0f}"
        f"   rejected {gateway.get('frames_rejected', 0):.0f}",
        f" gateway VO2   {gateway.get('channel_2_ratio', float('nan')):5.0f} %   client level "
        f"{client.get('level', float('nan')):5.1f} %   ratio stale: {client.get('ratio_stale')}",
    ]
    if record.get("tank_c") is not None:
        starts = gateway.get("hot_water_forcing_starts")
        starts_in = f"in {starts - time.time():4.0f} s" if starts == starts and starts else "not planned"
        lines += ["",
                  f" tank          {record['tank_c']:7.2f} degC (simulator)   gateway sensor "
                  f"{gateway.get('tank_temperature', float('nan')):6.2f} degC",
                  f" hot water     {gateway.get('hot_water_state', '?')}   energy needed "
                  f"{gateway.get('hot_water_energy_needed', float('nan')):5.3f} kWh   forcing starts {starts_in}",
                  f" into the water today: solar {gateway.get('hot_water_solar_energy_today', float('nan')):5.3f} kWh"
                  f"   grid {gateway.get('hot_water_grid_energy_today', float('nan')):5.3f} kWh"]
    return "\n".join(lines)


async def gateway_energy_at_the_end(system: System, gateway: ApiWatcher) -> dict:
    """The gateway's totals as Home Assistant reads them at the end: with the simulator stopped the
    link goes quiet, and the gateway publishes its totals as they stand (otherwise every 10 s)."""
    system.stop_simulator()
    await gateway.wait_for(lambda s: s.get("atmega_link") is False, GATEWAY_LINK_TIMEOUT_S + 3)
    await gateway.quiet(0.3, timeout=2)
    return {key: round(gateway.states.get(entity, float("nan")) * 1000.0, 4) for key, entity in GATEWAY_ENERGY.items()}


async def shut_down(loop, signals, system: System, watchers: list[ApiWatcher]) -> None:
    """In order: stop feeding channel 2 and hang up the API connections (no state callback can run
    after this), then the simulator, then the firmwares. A second Ctrl-C/SIGTERM meanwhile is
    ignored (every step is bounded), so it cannot cut the shutdown short."""
    for sig in signals:
        loop.add_signal_handler(sig, lambda: None)
    for watcher in watchers:
        watcher.listeners.clear()
    for watcher in watchers:
        # a stopped gateway has already hung up; an interrupted disconnect is abandoned
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(watcher.disconnect(), 3)
    system.stop()


async def run(args) -> int:
    headless = args.seconds is not None or not sys.stdout.isatty()
    out = Path(args.out)
    gateway_program, client_program = build_all()
    system = System(Path(args.workdir), Path(args.scenario), args.seconds, args.mains_hz)
    capacity = scenario_capacity(Path(args.scenario))
    directives = demo_directives(Path(args.scenario))
    deadline = None
    records: list[dict] = []
    frame_times: list[float] = []
    # Ctrl-C, SIGTERM or a closed terminal cancel this task; its finally stops every process
    # (they run in sessions of their own, so nothing else would). SIGINT may be ignored when the
    # demo was started in the background: SIGTERM still works then.
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for sig in signals:
        loop.add_signal_handler(sig, asyncio.current_task().cancel)
    watchers: list[ApiWatcher] = []
    try:
        system.start(gateway_program, client_program)
        gateway = await ApiWatcher(system.gateway.api_port).connect()
        watchers.append(gateway)
        client = await ApiWatcher(system.client.api_port).connect()
        watchers.append(client)
        client.listeners.append(lambda name, value: name == CLIENT_POWER_SENSOR and value == value
                                and system.feed_channel_2(value))
        if "deadline_in_s" in directives:
            deadline_wall = await set_deadline(gateway, directives["deadline_in_s"])
        gateway.listeners.append(lambda name, value: name == "frames_received" and frame_times.append(time.monotonic()))
        while True:
            line = await loop.run_in_executor(None, system.sim.stdout.readline)
            if not line:
                break
            record = json.loads(line)
            record["capacity_w"] = capacity(record["t"])
            record["link"] = gateway.states.get("atmega_link")
            record["client_level"] = client.states.get("level")
            record["ratio_stale"] = client.states.get("ratio_stale")
            if record.get("tank_c") is not None:
                record["hot_water_state"] = gateway.states.get("hot_water_state")
                record["hot_water_forcing"] = gateway.states.get("hot_water_forcing")
            if "deadline_in_s" in directives and deadline is None:  # in simulated time (real time runs)
                deadline = {"t": record["t"] + deadline_wall - time.time(),
                            "c": gateway.states.get("deadline_temperature", float("nan"))}
            records.append(record)
            cut_faults(args, record["t"], system)
            now = time.monotonic()
            rate = sum(1 for t in frame_times if t > now - 5.0) / 5.0
            if headless:
                if int(record["t"]) % 10 == 0:
                    water = (f" tank={record['tank_c']:.1f}C hot_water={record.get('hot_water_state')}"
                             if record.get("tank_c") is not None else "")
                    print(f"t={record['t']:5.0f}s pv={record['pv_w']:5.0f} house={record['house_w']:5.0f} "
                          f"grid={record['grid_w']:+6.0f} ch1={record['ch1_w']:5.0f} ch2={record['ch2_w']:5.0f} "
                          f"link={record['link']} frames/s={rate:.1f}{water}", flush=True)
            else:
                print(live_view(record, gateway.states, client.states, rate), flush=True)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\ninterrupted: stopping")
    finally:
        for sig in signals:  # the last steps are bounded: a second Ctrl-C cannot cut them short
            loop.add_signal_handler(sig, lambda: None)
        energy = {}
        if watchers:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                energy = await asyncio.wait_for(gateway_energy_at_the_end(system, watchers[0]), GATEWAY_LINK_TIMEOUT_S + 6)
        await shut_down(loop, signals, system, watchers)
    if records:
        hot_water = hot_water_summary(records, deadline)
        summary = write_summary(records, out / "demo-summary.json",
                                extra={**energy, **({"hot_water": hot_water} if hot_water else {})})
        (out / "demo-series.json").write_text(json.dumps(records) + "\n")
        plot_run(records, out / "demo.png", f"Routeur PV demo: {Path(args.scenario).name}")
        print(json.dumps(summary, indent=2))
        print(f"wrote {out / 'demo.png'} and {out / 'demo-summary.json'}")
    return 0 if records else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(DEFAULT_SCENARIO), help="simulator scenario CSV")
    parser.add_argument("--seconds", type=float, default=float(os.environ["DEMO_SECONDS"])
                        if os.environ.get("DEMO_SECONDS") else None, help="stop after N s (headless)")
    parser.add_argument("--mains-hz", type=int, default=50, choices=(50, 60))
    parser.add_argument("--out", default=str(REPO / "out"))
    parser.add_argument("--workdir", default=str(BUILD / "demo"), help="ptys, logs and HOME of the firmwares")
    parser.add_argument("--cut-serial-at", type=float, metavar="T", help="cut the ATmega's serial link at T s")
    parser.add_argument("--cut-gateway-at", type=float, metavar="T", help="stop the gateway at T s")
    args = parser.parse_args()
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
