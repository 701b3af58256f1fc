"""Energy figures and the time-series picture of a run (the demo and the day benchmark share it).

A run is a list of per-second records {t, pv_w, house_w, grid_w, ch1_w, ch2_w} (grid_w positive =
import), as sim/pvsim streams them.
"""
import json
from pathlib import Path

from testbed.simrun import load_scenario

WH_PER_WS = 1.0 / 3600.0


def scenario_capacity(path: Path, with_ch2: bool = True):
    """t -> rated power channels 1 and 2 (with_ch2 False: channel 1 alone) can absorb at t (step
    function of the scenario rows)."""
    steps = [(t, ch1 + (ch2 if with_ch2 else 0.0)) for t, _pv, _house, ch1, ch2, _mains_v in load_scenario(path)]

    def capacity(t: float) -> float:
        current = steps[0][1]
        for start, value in steps:
            if start <= t:
                current = value
        return current

    return capacity


def energy_summary(records) -> dict:
    """Imported, exported and routed energy, and the share of the surplus that was routed.

    surplus_wh: what PV produced beyond the house's own load; absorbable_wh: the part of it the
    loads could take (capped by the record's `capacity_w`, the channels' ratings, when present);
    router_import_wh: import while PV exceeded the house load (caused by the router);
    routed_share_pct: routed / absorbable.
    """
    totals = dict(import_wh=0.0, export_wh=0.0, ch1_wh=0.0, ch2_wh=0.0, surplus_wh=0.0,
                  absorbable_wh=0.0, router_import_wh=0.0)
    for i, r in enumerate(records):
        dt = (records[i + 1]["t"] - r["t"]) if i + 1 < len(records) else 1.0
        grid, surplus = r["grid_w"], r["pv_w"] - r["house_w"]
        totals["import_wh"] += max(grid, 0.0) * dt * WH_PER_WS
        totals["export_wh"] += max(-grid, 0.0) * dt * WH_PER_WS
        totals["ch1_wh"] += r["ch1_w"] * dt * WH_PER_WS
        totals["ch2_wh"] += r["ch2_w"] * dt * WH_PER_WS
        if surplus > 0:
            totals["surplus_wh"] += surplus * dt * WH_PER_WS
            totals["absorbable_wh"] += min(surplus, r.get("capacity_w", surplus)) * dt * WH_PER_WS
            totals["router_import_wh"] += max(grid, 0.0) * dt * WH_PER_WS
    routed = totals["ch1_wh"] + totals["ch2_wh"]
    totals["routed_wh"] = routed
    totals["routed_share_pct"] = 100.0 * routed / totals["absorbable_wh"] if totals["absorbable_wh"] else 0.0
    totals["router_import_pct_of_routed"] = 100.0 * totals["router_import_wh"] / routed if routed else 0.0
    return {k: round(v, 4) for k, v in totals.items()}


def plot_run(records, path: Path, title: str) -> None:
    """PV, house, grid, channel 1 and channel 2 on shared time axes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [r["t"] for r in records]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(11, 6.5), height_ratios=[3, 2])
    top.plot(t, [r["pv_w"] for r in records], color="#f2a900", label="PV")
    top.plot(t, [r["house_w"] for r in records], color="#555555", label="house")
    top.stackplot(t, [r["ch1_w"] for r in records], [r["ch2_w"] for r in records],
                  colors=["#d62728", "#ff9896"], alpha=0.6, labels=["channel 1 (heater)", "channel 2 (dimmer)"])
    top.set_ylabel("W")
    top.legend(loc="upper left", ncol=4, fontsize=8)
    top.set_title(title)
    top.grid(alpha=0.3)
    bottom.plot(t, [r["grid_w"] for r in records], color="#1f77b4", label="grid (+ import, - export)")
    bottom.axhline(0, color="black", linewidth=0.6)
    bottom.set_ylabel("W")
    bottom.set_xlabel("s")
    bottom.legend(loc="upper left", fontsize=8)
    bottom.grid(alpha=0.3)
    tank = [(r["t"], r["tank_c"]) for r in records if r.get("tank_c") is not None]
    if tank:  # a scenario with the simulator's tank: its water on the right-hand axis
        water = bottom.twinx()
        water.plot([p[0] for p in tank], [p[1] for p in tank], color="#2ca02c", label="tank (degC)")
        water.set_ylabel("degC")
        water.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_summary(records, path: Path, extra: dict | None = None) -> dict:
    summary = energy_summary(records)
    summary["seconds"] = len(records)
    summary.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary
