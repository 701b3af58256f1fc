"""Writes the performance tables of README.md from bench/results.json (the last `make bench`).

The README's figures are never typed by hand: this replaces the text between the markers
`<!-- bench:begin -->` and `<!-- bench:end -->`.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# (label, section path in results.json, key, unit, seed figure or target for comparison)
ATMEGA_ROWS = [
    ("sample pairs per cycle (min, 50 Hz)", "steady_800_w_50hz", "sample_pairs_per_cycle_min", "", "54-57 (seed)"),
    ("sample pairs per cycle (min, 60 Hz)", "steady_800_w_60hz", "sample_pairs_per_cycle_min", "", ">= 150"),
    ("gate error, mean", "steady_800_w_50hz", "gate_error_us_mean", "us", "~600 late (seed)"),
    ("gate error, worst", "steady_800_w_50hz", "gate_error_us_max_abs", "us", "<= 20 (target)"),
    ("gate error, worst, 60 Hz", "steady_800_w_60hz", "gate_error_us_max_abs", "us", "<= 20 (target)"),
    ("pulses straddling a zero crossing", "steady_800_w_50hz", "straddles", "", "1 frame in 3 (seed)"),
    ("grid mean at 800 W surplus (last 5 s)", "steady_800_w_50hz", "grid_w_mean_last_5s", "W", "15 import (seed)"),
    ("settling after +600 W step (within 50 W)", "step_plus_600_w", "settling_s_within_50_w", "s", "0.96 (seed)"),
    ("import caused by the router, steady", "steady_800_w_50hz", "router_import_pct_of_routed", "% of routed", "<= 0.5 (target)"),
    ("import caused by the router, step", "step_plus_600_w", "router_import_pct_of_routed", "% of routed", "<= 0.5 (target)"),
    ("grid mean, 2600 W surplus (heater + channel 2)", "saturated_2600_w", "grid_w_mean_last_5s", "W", ""),
    ("half-cycles fired while importing 300 W (27 s)", "import_300_w", "half_cycles_fired", "", "7 full half-cycles (seed)"),
]


# (label, key in results["system"], unit, target)
SYSTEM_ROWS = [
    ("routed share of the surplus the loads could absorb", "routed_share_of_absorbable_surplus_pct", "%", ">= 99 %"),
    ("import caused by the router", "router_import_pct_of_routed", "% of routed", "<= 0.5 %"),
    ("channel-2 settling after the midday step (within 50 W)", "channel_2_settling_s", "s", "<= 5 s"),
    ("channel-2 swing after settling (peak to peak)", "channel_2_swing_after_settling_w", "W", "no sustained oscillation"),
]


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# Issue 13's targets, per scenario of testbed/ch2_scenarios.py: routed share (%) by client delay.
CH2_ROUTED_TARGET = {"fast_clouds": {"0.3": ">= 98.5", "1": ">= 97"}}
CH2_BEFORE = ROOT / "bench" / "ch2_before.json"  # the same scenarios on the firmware before issue 13 (029b3c9)


def _ch2_cells(fig: dict) -> str:
    steps = fig["steps"][1:] if len(fig["steps"]) > 1 else fig["steps"]  # after boot, unless boot is the step
    settle = [s["settle_s"] for s in steps]
    worst = "never" if None in settle else (f"{max(settle)} s" if settle else "")
    imports = f"{max(s['max_import_w'] for s in steps)} W" if steps else ""
    spans = [s["vo2_last_5_s"] for s in steps if s["vo2_last_5_s"]]
    vo2 = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
    return f"{fig['routed_pct']} % / {fig['router_import_pct']} %", worst, imports, vo2


def channel2_table(channel2: dict) -> str:
    before = json.loads(CH2_BEFORE.read_text()) if CH2_BEFORE.exists() else {}
    rows = []
    for name, by_delay in channel2.items():
        for delay, fig in by_delay.items():
            now = _ch2_cells(fig)
            old = _ch2_cells(before[name][delay]) if name in before and delay in before[name] else ("",) * 4
            target = CH2_ROUTED_TARGET.get(name, {}).get(delay, "")
            rows.append((f"{name.replace('_', ' ')}, {delay} s", now[0], old[0], target + (" / <= 0.3" if target else ""),
                         now[1], old[1], now[2], old[2], now[3], old[3]))
    header = ("scenario, client delay", "routed / router import", "before", "target", "settled within +-20 W",
              "before", "worst import after a step", "before", "VO2 in the last 5 s", "before")
    return "\n".join(["**Channel 2** (the ATmega ELF in the simulator, its client answering 0.3 s or 1 s after each "
                      "frame; `testbed/ch2_scenarios.py`; before = the firmware before issue 13, "
                      "`bench/ch2_before.json`)", "", table(header, rows)])


def render(results: dict) -> str:
    out = [f"Last `make bench`: {results.get('date', '?')}.", ""]
    alone = results.get("section_dates", {})
    if alone:
        out[0] += " Run alone since (`bench/run_bench.py SECTION`): " + ", ".join(
            f"{name} on {when}" for name, when in sorted(alone.items())) + "."
    atmega = results.get("atmega")
    if atmega:
        scen = atmega["scenarios"]
        rows = [(label, f"{scen[s][k]} {unit}".strip(), ref) for label, s, k, unit, ref in ATMEGA_ROWS if s in scen]
        usage = atmega["usage"]
        rows.append(("flash / RAM", f"{usage['flash_bytes']} B ({usage['flash_pct']} %) / "
                     f"{usage['ram_bytes']} B ({usage['ram_pct']} %)", "<= 50 % each (target)"))
        speed = scen["steady_800_w_50hz"]["simulated_s_per_wall_s"]
        out += ["**ATmega firmware in the simulator**", "", table(("figure", "ours", "seed / target"), rows), "",
                f"(simulator speed on this machine: {speed}x real time)", ""]
    gateway = results.get("gateway")
    if gateway:
        lat, cor, fz, thr = (gateway["frame_to_api_latency"], gateway["corruption"], gateway["fuzzing"],
                            gateway["parser_throughput"])
        rows = [("frame-to-API latency on host (median / worst)", f"{lat['median_ms']} / {lat['worst_ms']} ms"),
                ("parser throughput (native)", f"{thr['frames_per_s']:,} frames/s"),
                ("fuzzing", f"{fz.get('executions', 0):,} executions, {fz.get('findings', 0)} findings"),
                ("corrupted frames (1 % bytes) publishing a wrong value",
                 f"{cor['wrong_published']} of {cor['corrupted_frames']}")]
        energy, rec = gateway.get("energy"), gateway.get("recorder")
        if energy:
            for name, label in (("day", "standard day"), ("thermostat_third", "thermostat open 1/3 of the time")):
                e = energy[name]
                rows.append((f"Routed energy in Home Assistant vs what the heater took, {label}",
                             f"{e['routed_energy']['gateway_wh']} vs {e['routed_energy']['simulator_wh']} Wh "
                             f"({e['routed_energy']['error_pct']:+} %; POR x rating said "
                             f"{e['routed_energy_por_x_rating_wh']} Wh)"))
                rows.append((f"Grid import / export energy vs the simulator's meter, {label}",
                             f"{e['grid_import_energy']['error_pct']:+} % / {e['grid_export_energy']['error_pct']:+} %"))
        if rec:
            rows.append(("Home Assistant recorder: state changes per hour, default config (steady minute)",
                         f"{rec['now']['per_hour_default_config']:,} (commit {rec['baseline_commit']}: "
                         f"{rec['baseline']['per_hour_default_config']:,}, x{rec['ratio_to_baseline']})"))
        out += ["**Gateway**", "", table(("figure", "measured"), rows), ""]
    client = results.get("client")
    if client:
        rows = [("new frame at the gateway -> client's new gate timing (median / worst)",
                 f"{client['latency_s_median']} / {client['latency_s_max']} s", "old client: up to 10 s"),
                ("linearity error of delivered power (host runtime)", f"{client['host_linearity_error_pct']} %", "<= 0.5 %"),
                ("zero-cross noise tolerated with no misfire", f"{client['noise_edges_per_s_tolerated']} edges/s", "")]
        out += ["**Client**", "", table(("figure", "measured", "reference"), rows), ""]
    link = results.get("link")
    if link:
        rows = [("Home Assistant call -> the ATmega's frames showing it in force (median / worst, "
                 f"{link['command_latency_calls']} calls)",
                 f"{link['command_latency_s_median']} / {link['command_latency_s_max']} s", "median <= 1 s"),
                (f"RX flooded with random bytes at 9600 baud for {link['rx_flood_seconds']} s: sample pairs "
                 "per cycle (min)", link["rx_flood_pairs_per_cycle_min"], ">= 150"),
                ("... gate error, worst", f"{link['rx_flood_gate_error_us_max']} us", "<= 20 us"),
                ("... frames missed", link["rx_flood_frames_missed"], "0")]
        out += ["**Command line (gateway -> ATmega)**", "", table(("figure", "measured", "target"), rows), ""]
    channel2 = results.get("channel2")
    if channel2:
        out += channel2_table(channel2), ""
    days = results.get("channel2_days")
    if days:
        rows = [(f"{delay} s", " / ".join(str(v) for v in d["routed_pct"]), f"{d['mean_routed_pct']} %",
                 f"{d['worst_routed_pct']} %", f"{d['worst_router_import_pct']} %",
                 CH2_ROUTED_TARGET["fast_clouds"].get(delay, "") + " / <= 0.3")
                for delay, d in days.items()]
        out += ["**Channel 2, fast clouds on other days** (`fast_clouds` with the seeds of "
                "`FAST_CLOUD_DAYS`, the first being the day above)", "",
                table(("client delay", "routed, day by day (%)", "mean", "worst", "worst router import",
                       "target (routed / import)"), rows), ""]
    hot_water = results.get("hot_water")
    if hot_water:
        rows = []
        for name, label in (("summer", "summer day"), ("winter", "winter day"), ("week", "mixed week")):
            r = hot_water[name]
            rows.append((label, f"{r['deadlines_met']} / {r['deadlines_total']}",
                         f"{r['grid_kwh']:.2f} / {r['grid_kwh_minimum']:.2f}", f"{r['solar_share_pct']} %",
                         f"{r['max_overshoot_c']:.2f} K", r["legionella_cycles"]))
        out += ["**Hot water** (the manager on the simulated house, `tests/hot_water/cpp/house.*`: 200 L, 2 kW, "
                "two showers, 55 degC by 18:00, off-peak 22:00-06:00 and 13:00-15:00)", "",
                table(("case", "deadlines met", "grid kWh / least possible", "solar share", "above the maximum",
                       "anti-legionella days"), rows), ""]
    system = results.get("system")
    if system:
        rows = [(label, f"{system[key]} {unit}".strip(), target) for label, key, unit, target in SYSTEM_ROWS]
        rows.append(("energy routed / imported / exported",
                     f"{system['routed_wh']:.1f} / {system['import_wh']:.1f} / {system['export_wh']:.1f} Wh", ""))
        if "gateway_routed_wh" in system:
            rows.append(("the gateway's Routed / Grid import / Grid export energy vs the simulator's "
                         "channel 1 / import / export",
                         f"{system['gateway_routed_wh']:.2f} / {system['gateway_grid_import_wh']:.2f} / "
                         f"{system['gateway_grid_export_wh']:.2f} vs {system['ch1_wh']:.2f} / "
                         f"{system['import_wh']:.2f} / {system['export_wh']:.2f} Wh", "within 3 % (+0.3 Wh)"))
        out += [f"**Whole system, standard day** ({system['seconds']} s of `sim/scenarios/day.csv` in real time "
                "through the host gateway and client; `bench/day.png`)", "",
                table(("figure", "measured", "target"), rows), "", "![day](bench/day.png)", ""]
    loads = results.get("loads")
    if loads:
        rows = [("routed share of the surplus the loads could absorb", f"{loads['routed_share_pct']} %", ">= 99 %"),
                ("import caused by the router", f"{loads['router_import_pct_of_routed']} % of routed", "<= 0.5 %"),
                ("relay stage switchings", f"{loads['relay_switchings']} in {loads['seconds']} s "
                 f"({loads['relay_switchings_per_hour']} an hour)", "<= 6 an hour"),
                ("energy routed / imported / exported",
                 f"{loads['routed_wh']:.1f} / {loads['import_wh']:.1f} / {loads['export_wh']:.1f} Wh", "")]
        alone = results.get("section_dates", {}).get("loads")
        when = f", `make bench` section run alone on {alone}" if alone else ""
        out += [f"**Several loads, standard day** ({loads['seconds']} s of `sim/scenarios/day.csv` in real time "
                "through the host gateway of `tests/loads/` (pv_loads, an 800-W relay stage after the dimmers) "
                f"and two host clients, 1000 W priority 1 and 1500 W priority 2{when})", "",
                table(("figure", "measured", "target"), rows), ""]
    return "\n".join(out)


def update_readme(results: dict, readme: Path = ROOT / "README.md") -> None:
    text = readme.read_text()
    begin, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    readme.write_text(text[:begin] + "\n" + render(results) + "\n" + text[end:])


if __name__ == "__main__":
    update_readme(json.loads((ROOT / "bench" / "results.json").read_text()))
    sys.exit(0)
