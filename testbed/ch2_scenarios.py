"""Channel-2 scenarios (issue 13): the real ATmega ELF in the simulator, its built-in client answering
0.3 s or 1 s after each frame, and the figures tests and the benchmark take from them.

Every scenario is generated here (deterministic); its steps are the times the surplus or a
thermostat changes. Figures (all from the simulator's own accounts, never typed in):
- routed_pct: energy into both channels over the energy they could have taken, second by second
  (min(surplus, ch1 rating + ch2 rating); 0 while a thermostat is open), from `from_s` on;
- router_import_pct: the import of the cycles with a surplus, as a share of the routed energy;
- per step: settle_s, how long after it the per-cycle grid power takes to stay within
  +-SETTLE_BAND_W of the router's target until the next step; max_import_w, the largest per-cycle
  import of that span that the router caused (the surplus still covering the loads);
- vo2 span (min, max) over the frames of each step's last 5 s: a settled loop holds one value.
"""
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from testbed.simrun import ATMEGA_ELF, good_frames, run_simulation, write_scenario

CLIENT_DELAYS_S = (0.3, 1.0)
GRID_TARGET_W = -5.0   # the ATmega's kExportTargetWatts: a small export kept on purpose
SETTLE_BAND_W = 20.0
HOUSE_W = 500


def _row(t, surplus, ch1=2000, ch2=1000):
    return {"t_s": t, "pv_w": HOUSE_W + surplus, "house_w": HOUSE_W, "ch1_w": ch1, "ch2_w": ch2}


def fast_clouds(seconds=90, seed=13):
    """The surplus jumps by 1-2 kW every 2-3 s, above and below the heater's 2 kW."""
    rng = random.Random(seed)
    rows, t, high = [_row(0, 1500)], 4.0, True
    while t < seconds:
        rows.append(_row(round(t, 1), rng.randint(2500, 3100) if high else rng.randint(900, 1500)))
        t += rng.choice((2.0, 2.5, 3.0))
        high = not high
    return rows, seconds


def thermostat_open_ch2_alone():
    """The heater's thermostat opens under 1.4 kW of surplus: a 1.5-kW channel 2 takes it alone
    (93 %), then the surplus falls to 1 kW (67 %)."""
    return [_row(0, 1400, ch2=1500), _row(10, 1400, ch1=0, ch2=1500), _row(35, 1000, ch1=0, ch2=1500)], 60


def step_into_saturation():
    """From 1.5 kW (the heater alone) to 2.53 kW: channel 2 takes the 530 W above the heater (53 %)."""
    return [_row(0, 1500), _row(10, 2530)], 35


def thermostat_opens_small_surplus():
    """200 W of surplus in the heater, then its thermostat opens: channel 2 takes them (20 %)."""
    return [_row(0, 200), _row(10, 200, ch1=0)], 35


def boot_thermostat_open():
    """The router starts with the heater's thermostat open and 1.4 kW of surplus (93 % of 1.5 kW)."""
    return [_row(0, 1400, ch1=0, ch2=1500)], 30


def slow_ramp():
    """The surplus climbs from 1.8 to 3 kW at 20 W/s (channel 2 from 0 to 100 %), then holds."""
    return [_row(t, 1800 + 20 * t) for t in range(0, 61)] + [_row(61, 3000)], 70


def cloud_that_stays():
    """600 W above the heater, then a cloud takes 1.1 kW and stays: the heater takes the dip at
    once; channel 2 gives the heater back the rest little by little, down to 0 (the heater first)."""
    return [_row(0, 2600), _row(20, 1500)], 90


def evening_fall():
    """The evening: 600 W above the heater, then the surplus falls in steps of 0.8-0.9 kW, 5 s
    apart, to nothing: channel 2 must have given the heater back before each fall."""
    return [_row(0, 2600), _row(15, 1700), _row(20, 900), _row(25, 100), _row(30, 0)], 35


SCENARIOS = {
    "fast_clouds": fast_clouds,
    "thermostat_open_ch2_alone": thermostat_open_ch2_alone,
    "step_into_saturation": step_into_saturation,
    "thermostat_opens_small_surplus": thermostat_opens_small_surplus,
    "boot_thermostat_open": boot_thermostat_open,
    "slow_ramp": slow_ramp,
    "cloud_that_stays": cloud_that_stays,
    "evening_fall": evening_fall,
}
STEP_SCENARIOS = ("thermostat_open_ch2_alone", "step_into_saturation", "thermostat_opens_small_surplus",
                  "boot_thermostat_open", "cloud_that_stays")


def _absorbable_wh(rows, start, end):
    """What both channels could have taken between start and end (s), the rows holding until the next."""
    joules = 0.0
    for row, following in zip(rows, rows[1:] + [{"t_s": float("inf")}]):
        overlap = min(end, following["t_s"]) - max(start, row["t_s"])
        if overlap > 0:
            joules += overlap * min(max(row["pv_w"] - row["house_w"], 0), row["ch1_w"] + row["ch2_w"])
    return joules / 3600.0


def figures(summary: dict, rows: list[dict], steps=(), from_s: float = 2.0) -> dict:
    """The figures of one run (see the top of this file)."""
    routed = absorbable = 0.0
    for second in summary["per_second"]:
        if second["t"] >= from_s:
            absorbable += _absorbable_wh(rows, second["t"], second["t"] + 1.0)
            routed += (second["ch1_w"] + second["ch2_w"]) / 3600.0
    routed_wh = summary["ch1_wh"] + summary["ch2_wh"]
    result = {
        "routed_pct": round(100.0 * routed / absorbable, 2) if absorbable else 100.0,
        "router_import_pct": round(100.0 * summary["router_import_wh"] / routed_wh, 3) if routed_wh else 0.0,
    }
    grid = summary["grid_w_per_cycle"]
    hz = len(grid) / summary["seconds"]
    frames = good_frames(summary, channel2_too=True)
    ends = list(steps[1:]) + [summary["seconds"]]
    result["steps"] = []
    for start, end in zip(steps, ends):
        span = grid[int(round(start * hz)):int(round(end * hz))]
        last_out = max((k + 1 for k, w in enumerate(span) if abs(w - GRID_TARGET_W) > SETTLE_BAND_W), default=0)
        tail = [f["fields"]["VO2"] for f in frames if end - 5.0 <= f["t"] < end]
        result["steps"].append({
            "at_s": start,
            "settle_s": round(last_out / hz, 2) if last_out < len(span) else None,  # None: never settled
            "max_import_w": round(max([0.0] + span), 1),
            "vo2_last_5_s": [min(tail), max(tail)] if tail else None,
        })
    return result


def _run_rows(tag: str, rows: list[dict], seconds: float, delay_s: float, workdir: Path, elf: Path, steps=()) -> dict:
    scenario = write_scenario(Path(workdir) / f"{tag}.csv", rows)
    summary = run_simulation(elf, scenario, seconds=seconds, summary=Path(workdir) / f"{tag}.json",
                             ch2_delay=delay_s)
    return {"figures": figures(summary, rows, steps), "summary": summary}


def run(name: str, delay_s: float, workdir: Path, elf: Path = ATMEGA_ELF) -> dict:
    rows, seconds = SCENARIOS[name]()
    steps = [row["t_s"] for row in rows] if name in STEP_SCENARIOS else ()
    return _run_rows(f"{name}_{delay_s:g}s", rows, seconds, delay_s, workdir, elf, steps)


# fast_clouds on other generated days (seeds): one day's figures depend on where its steps fall.
FAST_CLOUD_DAYS = tuple(range(13, 19))  # 13: the day of `fast_clouds`


def fast_cloud_days(workdir: Path, elf: Path = ATMEGA_ELF, workers: int = 2) -> dict:
    """{delay: {"routed_pct": [per day], "router_import_pct": [per day], "mean_routed_pct",
    "worst_routed_pct", "worst_router_import_pct"}} over FAST_CLOUD_DAYS."""
    jobs = [(seed, delay) for delay in CLIENT_DELAYS_S for seed in FAST_CLOUD_DAYS]

    def one(job):
        seed, delay = job
        rows, seconds = fast_clouds(seed=seed)
        return _run_rows(f"fast_clouds_day{seed}_{delay:g}s", rows, seconds, delay, workdir, elf)["figures"]

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(one, jobs))
    table = {}
    for (seed, delay), result in zip(jobs, results):
        day = table.setdefault(f"{delay:g}", {"routed_pct": [], "router_import_pct": []})
        day["routed_pct"].append(result["routed_pct"])
        day["router_import_pct"].append(result["router_import_pct"])
    for day in table.values():
        day["mean_routed_pct"] = round(sum(day["routed_pct"]) / len(day["routed_pct"]), 2)
        day["worst_routed_pct"] = min(day["routed_pct"])
        day["worst_router_import_pct"] = max(day["router_import_pct"])
    return table


def run_all(workdir: Path, elf: Path = ATMEGA_ELF, workers: int = 2) -> dict:
    """Every scenario with every client delay: {name: {"0.3": figures, "1": figures}}."""
    jobs = [(name, delay) for name in SCENARIOS for delay in CLIENT_DELAYS_S]
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda job: run(*job, workdir, elf)["figures"], jobs))
    table = {}
    for (name, delay), result in zip(jobs, results):
        table.setdefault(name, {})[f"{delay:g}"] = result
    return table
