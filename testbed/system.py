"""The whole chain as it runs in a house, in real time: sim/pvsim --realtime (the real ATmega ELF
in the house model) <-> a pty pair (both directions: frames out of the ATmega's TX, commands into
its RX) <-> the host gateway (routeur_pv) -> UDP packet_transport -> the host client (pv_client).
Used by `make demo` (tools/demo.py), the system tests and the benchmark."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from testbed.client_harness import CLIENT_NAME, CLIENT_YAML
from testbed.esphome_host import REPO, HostFirmware, PtyPair, compile_host, free_udp_port
from testbed.gateway_harness import HOST_NAME, HOST_YAML
from testbed.simrun import ATMEGA_ELF, PVSIM


def build_all(log=print) -> tuple[Path, Path]:
    log("building the ATmega firmware and the simulator ...")
    for folder in ("atmega", "sim"):
        subprocess.run(["make", "-s", "-C", str(REPO / folder)], check=True, stdout=subprocess.DEVNULL)
    programs = []
    for yaml, node in ((HOST_YAML, HOST_NAME), (CLIENT_YAML, CLIENT_NAME)):
        log(f"building the host firmware {yaml.relative_to(REPO)} ...")
        programs.append(compile_host(yaml, node))
    return programs[0], programs[1]


class System:
    """The running chain; stop() ends every process, in reverse order of start."""

    def __init__(self, workdir: Path, scenario: Path, seconds: float | None, mains_hz: int, sim_args=()):
        """sim_args: more pvsim options (the scenario's own `# pvsim:` lines apply too). With a tank
        (--tank-litres), its temperature reaches the gateway's tank sensor (host/gateway-host.yaml)
        through the file ROUTEUR_PV_TANK_FILE names."""
        self.workdir, self.scenario, self.seconds, self.mains_hz = workdir, scenario, seconds, mains_hz
        self.sim_args = list(sim_args)
        self.tank_file = workdir / "tank.txt"
        self.pty = PtyPair(workdir)
        self.gateway = self.client = self.sim = None
        self.clients: list[HostFirmware] = []
        self.fifo_fd = None
        self.udp_port = None
        self._ch2_w: dict = {}

    def start(self, gateway_program: Path, client_program: Path | None, more_clients=()) -> None:
        """client_program None: no client; the simulator's own ideal channel 2 follows the frames' VO2.
        more_clients: the programs of more channel-2 loads (pv_loads); the house draws what they all
        deliver (feed_channel_2 with each one's index). `client` is the first, `clients` all of them."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        programs = [p for p in (client_program, *more_clients) if p is not None]
        homes = ["client" if k == 0 else f"client{k + 1}" for k in range(len(programs))]
        # A new house every run: the firmwares' saved state (energy totals, client mode) of the last
        # run must not carry over into this one's figures.
        for home in ("gateway", *homes):
            shutil.rmtree(self.workdir / home, ignore_errors=True)
        self.pty.start()
        self.udp_port = free_udp_port()
        self.tank_file.unlink(missing_ok=True)
        self.gateway = HostFirmware(gateway_program, self.workdir / "gateway", "gateway", env={
            "ROUTEUR_PV_PORT": str(self.pty.a), "ROUTEUR_PV_UDP_PORT": str(self.udp_port),
            "ROUTEUR_PV_TANK_FILE": str(self.tank_file)}, env_prefix="ROUTEUR_PV")
        self.gateway.start()
        # The same pty both ways: the ATmega's frames out, the gateway's commands into its RX.
        cmd = [sys.executable, str(PVSIM), "--elf", str(ATMEGA_ELF), "--scenario", str(self.scenario), "--realtime",
               "--stream", "--uart-out", str(self.pty.b), "--rx-input", str(self.pty.b),
               "--mains-hz", str(self.mains_hz), "--summary", str(self.workdir / "sim-summary.json"),
               *self.sim_args]
        if self.has_tank():
            cmd += ["--tank-out", str(self.tank_file)]
        for program, home in zip(programs, homes):
            self.clients.append(self._client_firmware(program, home).start())
        self._ch2_w = {}
        if programs:
            self.client = self.clients[0]
            fifo = self.workdir / "ch2.fifo"
            if fifo.exists():
                fifo.unlink()
            os.mkfifo(fifo)
            self.fifo_fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # RDWR: never blocks, never ENXIO
            cmd += ["--ch2-input", str(fifo)]
        if self.seconds:
            cmd += ["--seconds", str(self.seconds)]
        self.sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(self.workdir / "sim.log", "w"),
                                    text=True, bufsize=1, start_new_session=True)

    def has_tank(self) -> bool:
        return "--tank-litres" in self.sim_args or "--tank-litres" in self.scenario.read_text()

    def feed_channel_2(self, watts: float, load=0) -> None:
        """What a load the gateway drives over the network delivers now, W: client `load` (its index),
        or any other key (a relay stage's draw). The house draws the sum of all of them."""
        if self.fifo_fd is None:  # stopping: nothing reads channel 2 any more
            return
        self._ch2_w[load] = watts
        with contextlib.suppress(BlockingIOError):
            os.write(self.fifo_fd, f"{sum(self._ch2_w.values()):.1f}\n".encode())

    def kill_client(self, client: int) -> None:
        """Client `client` dies (power cut, crash): it goes silent and its load draws nothing."""
        self.clients[client].stop()
        self.feed_channel_2(0.0, client)

    def reflash_client(self, client: int, program: Path) -> HostFirmware:
        """Client `client` reflashed with `program` (a new rating, say): it stops, its load draws nothing
        until the new firmware delivers, which starts in the same home, so that its saved state (mode,
        energy) carries over as on an ESP. `clients[client]` is the new one; its log is another file."""
        home = self.clients[client].workdir.name
        self.kill_client(client)
        self.clients[client] = self._client_firmware(program, home, name=f"{home}-reflashed").start()
        if client == 0:
            self.client = self.clients[0]
        return self.clients[client]

    def _client_firmware(self, program: Path, home: str, name: str | None = None) -> HostFirmware:
        """A client on the gateway's UDP port, its preferences in workdir/home."""
        return HostFirmware(program, self.workdir / home, name or home, env={
            "PV_CLIENT_UDP_PORT": str(self.udp_port)}, env_prefix="PV_CLIENT")

    def stop_simulator(self) -> None:
        if self.sim is not None and self.sim.poll() is None:
            self.sim.send_signal(signal.SIGINT)  # lets the simulator write its summary
            try:
                self.sim.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.sim.kill()

    def stop(self) -> None:
        """The simulator first (it writes its summary), then the firmwares; stop feeding before."""
        self.stop_simulator()
        for part in (*self.clients, self.gateway, self.pty):
            if part is not None:
                part.stop()
        if self.fifo_fd is not None:
            os.close(self.fifo_fd)
            self.fifo_fd = None


class StreamRecords:
    """The running simulator's --stream records (one per simulated second), read on a thread:
    {t, pv_w, house_w, grid_w, ch1_w, ch2_w, tank_c, thermostat_open, frame}."""

    def __init__(self, sim: subprocess.Popen):
        self.records: list[dict] = []
        self._thread = threading.Thread(target=self._read, args=(sim,), daemon=True)
        self._thread.start()

    def _read(self, sim: subprocess.Popen) -> None:
        for line in sim.stdout:
            with contextlib.suppress(ValueError):
                self.records.append(json.loads(line))

    def since(self, t: float) -> list[dict]:
        return [r for r in self.records if r["t"] >= t]

    def now(self) -> float:
        return self.records[-1]["t"] if self.records else 0.0


@contextlib.contextmanager
def gateway_chain(workdir: Path, scenario: Path, gateway_program: Path, seconds: float, sim_args=()):
    """The simulator and a host gateway, no client (the simulator's ideal channel 2 follows VO2),
    for a test module's fixture: yields (system, its stream of records), stops them after."""
    system = System(workdir, scenario, seconds=seconds, mains_hz=50, sim_args=sim_args)
    system.start(gateway_program, None)
    try:
        yield system, StreamRecords(system.sim)
    finally:
        system.stop()


async def wait_records(stream: StreamRecords, since: float, seconds: int, timeout: float = 30.0) -> list[dict]:
    """The simulator's records of `seconds` whole simulated seconds from `since`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = [r for r in stream.since(since) if r["t"] < since + seconds]
        if len(records) >= seconds:
            return records
        await asyncio.sleep(0.2)
    raise AssertionError(f"no simulator records for {since}..{since + seconds} s (last at {stream.now()})")


async def command_latencies(gateway, count: int = 10, timeout: float = 5.0) -> list[float]:
    """Seconds from an API call (Channel 1 mode: Boost, then Auto, in turn) to the ATmega's frames
    showing it in force, as Home Assistant sees it ("Channel 1 mode in force")."""
    select = gateway.infos["channel_1_mode"]
    latencies = []
    for k in range(count):
        option, shown = ("Boost", "boost") if k % 2 == 0 else ("Auto", "auto")
        await asyncio.sleep(0.37 * (k % 3))  # calls fall anywhere in the ATmega's frame period
        started = time.monotonic()
        gateway.client.select_command(select.key, option)
        if not await gateway.wait_for(lambda s: s.get("channel_1_mode_in_force") == shown, timeout):
            raise RuntimeError(f"the ATmega never showed {shown} (states: {gateway.states})")
        latencies.append(time.monotonic() - started)
    return latencies
