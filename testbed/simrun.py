"""Run sim/pvsim from Python and compute the figures tests and benchmarks share."""
import csv
import importlib.machinery
import importlib.util
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PVSIM = ROOT / "sim" / "pvsim"
ATMEGA_ELF = ROOT / "atmega" / "build" / "routeur_pv.elf"  # what `make -C atmega` builds
SCENARIO_COLUMNS = ("t_s", "pv_w", "house_w", "ch1_w", "ch2_w", "mains_v")


def load_scenario(path: Path) -> list[tuple]:
    """The simulator's own reading of a scenario CSV (sim/pvsim's load_scenario): rows of
    (t, pv, house, ch1, ch2, mains_v), sorted by time, the channel ratings' defaults filled in."""
    loader = importlib.machinery.SourceFileLoader("pvsim", str(PVSIM))  # a script: no .py suffix
    pvsim = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(pvsim)
    return pvsim.load_scenario(str(path), 230.0)


def write_scenario(path: Path, rows) -> Path:
    """rows: list of dicts with keys from SCENARIO_COLUMNS (t_s, pv_w, house_w required)."""
    columns = [c for c in SCENARIO_COLUMNS if any(c in r for r in rows)]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def run_simulation(elf, scenario, seconds=None, summary=None, **options) -> dict:
    """Runs the simulator; options map to `--option-name value` (True -> bare flag)."""
    summary = Path(summary or Path(scenario).with_suffix(".summary.json"))
    cmd = [str(PVSIM), "--elf", str(elf), "--scenario", str(scenario), "--summary", str(summary)]
    if seconds is not None:
        cmd += ["--seconds", str(seconds)]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            cmd.append(flag)
        elif value is not None and value is not False:
            cmd += [flag, str(value)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads(summary.read_text())


def cycles_per_second(summary: dict) -> float:
    """Mains cycles per second of the run (from the per-cycle series)."""
    return len(summary["grid_w_per_cycle"]) / summary["seconds"]


def samples_to_settle(values, band: float, final_count: int) -> int:
    """How many of `values` (a series starting at a step) pass before it stays within `band` of the
    mean of its last `final_count` values."""
    final = values[-final_count:]
    target = sum(final) / len(final)
    settled = 0
    for i, value in enumerate(values):
        if abs(value - target) > band:
            settled = i + 1
    return settled


def settling_time_s(summary: dict, step_t: float, band_w: float = 50.0, final_s: float = 3.0) -> float:
    """Seconds after step_t until the per-cycle grid power stays within band_w of its final mean."""
    hz = cycles_per_second(summary)
    after_step = summary["grid_w_per_cycle"][int(round(step_t * hz)):]
    return samples_to_settle(after_step, band_w, int(final_s * hz)) / hz


def frame_series(summary: dict, key: str):
    """Values of one frame field, in order, from the frames received with a good CRC."""
    return [f["fields"][key] for f in summary["frames"] if f["crc_ok"] and key in f["fields"]]


def energy_at(summary: dict, t: float) -> dict:
    """The simulator's own accounts up to time t (s): grid import/export (Wh) per mains cycle, as the
    summary's totals count them, and channel 1's energy (Wh) from its per-second means."""
    hz = cycles_per_second(summary)
    imported = exported = 0.0
    for k, watts in enumerate(summary["grid_w_per_cycle"]):
        share = min(max(t * hz - k, 0.0), 1.0)  # of cycle k, [k/f, (k+1)/f), before t
        if share <= 0.0:
            break
        joules = watts * share / hz
        if joules >= 0:
            imported += joules
        else:
            exported -= joules
    ch1 = 0.0
    for second in summary["per_second"]:
        ch1 += second["ch1_w"] * min(max(t - second["t"], 0.0), 1.0)
    return {"import_wh": imported / 3600.0, "export_wh": exported / 3600.0, "ch1_wh": ch1 / 3600.0}


def is_channel2_frame(frame: dict) -> bool:
    """A frame of channel 2 alone (VO2 and PO2: a large move of VO2 sent at once between the regular
    frames, docs/interfaces.md)."""
    return frame["raw"].startswith("VO2>")


def good_frames(summary: dict, channel2_too: bool = False) -> list[dict]:
    """The whole frames received with a good CRC: {t, raw, crc_ok, fields}; with channel2_too, the
    frames of channel 2 alone among them."""
    return [f for f in summary["frames"] if f["crc_ok"] and (channel2_too or not is_channel2_frame(f))]


RATED_HEATER_W = 2000.0  # the ATmega's kCh1HeaterWatts, the scenarios' ch1_w and the gateway's heater_power


def fired_energy_wh(frames: list[dict], heater_w: float = RATED_HEATER_W) -> float:
    """What POR x rating (the old routed figure) claims between the first and the last frame (Wh)."""
    return sum(b["fields"]["POR"] / 100 * heater_w * (b["t"] - a["t"]) for a, b in zip(frames, frames[1:])) / 3600


SIM_UART_BYTE_S = 1144e-6  # simavr sends a byte in 1144 us at 9600 baud (sim/README.md)


def frame_built_at(frame: dict) -> float:
    """When the ATmega built a frame: its time (its line end) less the time its bytes took."""
    return frame["t"] - (len(frame["raw"]) + 2) * SIM_UART_BYTE_S


def write_rx_script(path: Path, events) -> Path:
    """A `--rx-input` script (sim/README.md): events = [(simulated seconds, payload bytes)], in time
    order; every byte outside printable ASCII (and the backslash) is written as \\xNN."""
    with open(path, "w") as f:
        for t, payload in events:
            text = "".join(chr(b) if 0x21 <= b <= 0x7E and b != 0x5C else f"\\x{b:02X}" for b in payload)
            f.write(f"{t:.6f} {text}\n")
    return path
