"""Helpers shared by the gateway tests, scripts/replay-frames and the gateway benchmark.

- frame building (CRC-8 Dallas/Maxim reflected 0x8C, decimal, as SEED-FACTS.md describes)
- offline host build of host/gateway-host.yaml (tools/pio_offline.py; everything under build/)
- HostGateway: the host firmware reading a socat pty, watched through aioesphomeapi
"""
from __future__ import annotations

import asyncio
import math
import os
import re
import subprocess
from pathlib import Path

from testbed.esphome_host import (BUILD, ESPHOME_DATA, GATEWAY_LINK_TIMEOUT_S, PIO_CORE, REPO,  # noqa: F401
                                  ApiWatcher, HostFirmware, PtyPair, compile_host, esphome_cmd,
                                  esphome_env, free_port, host_program)
from testbed.simrun import ATMEGA_ELF, PVSIM, run_simulation  # noqa: F401

HOST_YAML = REPO / "host" / "gateway-host.yaml"
HOST_NAME = "routeur-pv-host"
HOST_PROGRAM = host_program(HOST_NAME)


# ---------------------------------------------------------------- frames
def crc8_maxim(data: bytes) -> int:
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def make_frame(fields, *, crc: int | None = None, eol: bytes = b"\r\n") -> bytes:
    """fields: list of (key, value-string) pairs or a dict; returns the raw frame bytes."""
    items = fields.items() if isinstance(fields, dict) else fields
    body = "".join(f"{k}>{v};" for k, v in items).encode()
    c = crc8_maxim(body) if crc is None else crc
    return body + b"$" + str(c).encode() + eol


SEED_FIELDS = [("EIB", "1234.56"), ("REE", "-90.43"), ("MPC", "300.00"), ("POR", "42.00"),
               ("FID", "5800"), ("SPL", "57"), ("VO2", "0")]
OUR_FIELDS = [("EIB", "412.50"), ("REE", "3.21"), ("MPC", "20.00"), ("POR", "40.12"),
              ("FID", "5123"), ("SPL", "192"), ("VO2", "7"), ("FRQ", "50.00"), ("VRM", "230.1"),
              ("STA", "8")]


def expected_states(fields, heater_power: float = 2000.0) -> dict:
    """Sensor object_id -> value the gateway must publish for a valid frame."""
    f = dict(fields)
    g = lambda k: float(f[k]) if k in f else math.nan  # noqa: E731
    por = max(g("POR"), 0.0)
    return {
        "grid_power": -g("REE"),
        "routed_power": por * heater_power / 100.0,
        "routed_ratio": por,
        "channel_2_ratio": g("VO2"),
        "mains_frequency": g("FRQ"),
        "mains_voltage": g("VRM"),
        "energy_in_bucket": g("EIB"),
        "firing_delay": g("FID"),
        "min_routable_power": g("MPC"),
        "sample_pairs_per_cycle": g("SPL"),
    }


FRAME_SENSORS = list(expected_states(OUR_FIELDS).keys())


# ---------------------------------------------------------------- build and run
def build_host_firmware(log: Path | None = None) -> Path:
    """Build host/gateway-host.yaml offline (incremental: ~3 s when up to date). Returns the program."""
    return compile_host(HOST_YAML, HOST_NAME, log=log or BUILD / "gateway-host-build.log")


class HostGateway:
    """The host gateway reading one end of a socat pty pair; write() feeds the 'ATmega' end, and
    read_lines() reads there what the gateway sends the ATmega (its command lines)."""

    def __init__(self, program: Path, workdir: Path, api_port: int | None = None, extra_env: dict | None = None):
        self.workdir = Path(workdir)
        self.pty = PtyPair(self.workdir)
        self.firmware = HostFirmware(program, self.workdir, "gateway", api_port, env_prefix="ROUTEUR_PV")
        self.api_port = self.firmware.api_port
        self.firmware.env.update(ROUTEUR_PV_PORT=str(self.pty.a), **(extra_env or {}))
        self._feed_fd = None
        self._rx = b""

    def start(self, timeout: float = 20.0) -> "HostGateway":
        self.pty.start()
        self._feed_fd = os.open(self.pty.b, os.O_RDWR | os.O_NOCTTY)
        self.firmware.start(timeout)
        return self

    def log(self) -> str:
        return self.firmware.log()

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._feed_fd, view)
            view = view[n:]

    def read_lines(self, timeout: float = 0.0) -> list[tuple[float, bytes]]:
        """The complete lines the gateway sent since the last call, with their arrival time
        (time.monotonic()), waiting up to `timeout` s for at least one."""
        import select
        import time

        deadline = time.monotonic() + timeout
        lines = []
        while True:
            ready, _, _ = select.select([self._feed_fd], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                self._rx += os.read(self._feed_fd, 4096)
                while b"\n" in self._rx:
                    line, self._rx = self._rx.split(b"\n", 1)
                    lines.append((time.monotonic(), line + b"\n"))
            if lines or time.monotonic() >= deadline:
                return lines

    def stop(self) -> None:
        self.firmware.stop()
        if self._feed_fd is not None:
            os.close(self._feed_fd)
            self._feed_fd = None
        self.pty.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


ENERGY_SENSORS = ("routed_energy", "routed_energy_today", "grid_import_energy", "grid_export_energy")


def feed_and_read(gateway, frames) -> tuple[dict, list]:
    """Writes the frames' lines to the gateway's serial line, waits for the link-lost flush of the
    totals, and returns (final values in Wh, every energy state received in order)."""
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        for f in frames:
            gateway.write(f["raw"].encode() + b"\r\n")
            await asyncio.sleep(0.02)  # 50 frames/s: far below what the pty and the parser take
        assert await w.wait_for(lambda s: s.get("atmega_link") is False, GATEWAY_LINK_TIMEOUT_S + 5), gateway.log()[-2000:]
        await w.quiet(0.5)
        await w.disconnect()
        return ({k: w.states[k] * 1000.0 for k in ENERGY_SENSORS},
                [(name, value) for _, name, value in w.events if name in ENERGY_SENSORS])
    return asyncio.run(body())


def values_match(states: dict, expected: dict, rel: float = 1e-4) -> list[str]:
    """Differences between received states and expected values (NaN matches NaN/missing)."""
    bad = []
    for k, v in expected.items():
        got = states.get(k, "<none>")
        if isinstance(v, float) and math.isnan(v):
            if not (got == "<none>" or (isinstance(got, float) and math.isnan(got))):
                bad.append(f"{k}: got {got}, expected unavailable")
        elif not isinstance(got, float) or math.isnan(got) or not math.isclose(got, v, rel_tol=rel, abs_tol=1e-3):
            bad.append(f"{k}: got {got}, expected {v}")
    return bad


def sim_available() -> tuple[bool, str]:
    if not PVSIM.exists():
        return False, f"{PVSIM.relative_to(REPO)} not built (make -C sim)"
    if not ATMEGA_ELF.exists():
        return False, f"{ATMEGA_ELF.relative_to(REPO)} not built (make -C atmega)"
    return True, ""


def capture_pvsim(out: Path, seconds: float = 5.0,
                  scenario: str = "sim/scenarios/steady_800.csv") -> bytes:
    """Real ATmega firmware in the simulator; returns the raw serial bytes it sent."""
    run_simulation(ATMEGA_ELF, REPO / scenario, seconds=seconds, summary=Path(out).with_suffix(".json"),
                   uart_out=str(out))
    return Path(out).read_bytes()


# ---------------------------------------------------------------- native C++ builds
COMPONENT = REPO / "components" / "routeur_pv"
CPP_DIR = REPO / "tests" / "gateway" / "cpp"
DATA_DIR = REPO / "tests" / "gateway" / "data"
NATIVE_BUILD = BUILD / "gateway-native"
PURE_SOURCES = [COMPONENT / "frame_parser.cpp", COMPONENT / "legacy_json.cpp", COMPONENT / "energy_total.cpp",
                COMPONENT / "command_link.cpp"]
# The ATmega's own headers: the command tests check that what the gateway sends, the ATmega reads.
ATMEGA_SKETCH = REPO / "atmega" / "routeur_pv"


def build_native(name: str, sources: list[Path], *, compiler: str = "g++", flags=(), libs=(), deps=()) -> Path:
    """Compile pure C++ (parser, JSON, tests) into build/gateway-native/<name>; rebuilt if stale
    (sources, the headers of routeur_pv and the ATmega sketch, and `deps`)."""
    NATIVE_BUILD.mkdir(parents=True, exist_ok=True)
    out = NATIVE_BUILD / name
    deps = list(sources) + list(COMPONENT.glob("*.h")) + list(ATMEGA_SKETCH.glob("*.h")) + list(deps)
    cmd = [compiler, "-std=c++17", "-Wall", "-Wextra", "-Werror", "-I", str(COMPONENT), *flags,
           *map(str, sources), "-o", str(out), *libs]
    stamp = NATIVE_BUILD / f"{name}.cmd"
    if (not out.exists() or not stamp.exists() or stamp.read_text() != " ".join(cmd)
            or any(d.stat().st_mtime > out.stat().st_mtime for d in deps)):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"build of {name} failed:\n{' '.join(cmd)}\n{r.stderr[-4000:]}")
        stamp.write_text(" ".join(cmd))
    return out


def build_fuzzer() -> Path:
    return build_native(
        "fuzz_frame_parser", [CPP_DIR / "fuzz_frame_parser.cpp", *PURE_SOURCES], compiler="clang++",
        flags=["-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
               "-Wno-unused-parameter"])


def make_fuzz_corpus(path: Path) -> Path:
    """A libFuzzer seed corpus: lines of every capture in tests/gateway/data, and our frames."""
    path.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in sorted(DATA_DIR.iterdir()):
        if f.is_file():
            for line in f.read_bytes().splitlines(keepends=True)[:20]:
                (path / f"seed{n}").write_bytes(line)
                n += 1
    (path / "our").write_bytes(make_frame(OUR_FIELDS))
    (path / "seed").write_bytes(make_frame(SEED_FIELDS))
    (path / "two").write_bytes(make_frame(SEED_FIELDS) + b"garbage" + make_frame(OUR_FIELDS, eol=b"\n"))
    (path / "channel2").write_bytes(make_frame(OUR_FIELDS) + make_frame([("VO2", "53"), ("PO2", "530")]))
    return path


def run_fuzzer(binary: Path, corpus: Path, seconds: int, workdir: Path) -> tuple[int, str, int]:
    """Runs the fuzzer for `seconds`; returns (exit code, its output, executions)."""
    cmd = [str(binary), f"-max_total_time={seconds}", "-max_len=600", "-timeout=10",
           "-rss_limit_mb=2048", f"-dict={CPP_DIR / 'frame.dict'}", "-print_final_stats=1",
           f"-artifact_prefix={workdir}/", str(corpus)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=workdir)
    out = r.stdout + r.stderr
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    return r.returncode, out, int(m.group(1)) if m else 0
