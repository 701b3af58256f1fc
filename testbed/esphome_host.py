"""Host (Linux) builds of our ESPHome firmwares, running them, and watching them through
aioesphomeapi, the client library Home Assistant uses. Tests, benchmarks, replay-frames and the
demo all go through here.

Builds are offline: PlatformIO's core lives in build/pio-core (tools/pio_offline.py), never in
~/.platformio, and ESPHome's data (build folders) in build/esphome.
"""
from __future__ import annotations

import asyncio
import base64
import functools
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build"
# host/gateway-host.yaml's link_timeout: no valid frame for this long and the gateway says the link is lost.
GATEWAY_LINK_TIMEOUT_S = 5.0
PIO_CORE = BUILD / "pio-core"
ESPHOME_DATA = BUILD / "esphome"


def esphome_env(data_dir: Path = ESPHOME_DATA) -> dict:
    env = dict(os.environ)
    env["PLATFORMIO_CORE_DIR"] = str(PIO_CORE)
    env["ESPHOME_DATA_DIR"] = str(data_dir)
    env.setdefault("PLATFORMIO_NO_ANSI", "1")
    return env


def esphome_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "esphome", *args]


def esphome(*args: str, cwd: Path = REPO, data_dir: Path = ESPHOME_DATA, timeout: float = 900):
    """Runs the esphome command line; returns the CompletedProcess (output captured)."""
    return subprocess.run(esphome_cmd(*args), cwd=cwd, env=esphome_env(data_dir), capture_output=True,
                          text=True, timeout=timeout)


def host_program(node_name: str, data_dir: Path = ESPHOME_DATA) -> Path:
    return data_dir / "build" / node_name / ".pioenvs" / node_name / "program"


@functools.cache
def ensure_pio_core() -> Path:
    """The offline PlatformIO core of host builds, laid down if missing (tools/pio_offline.py: a
    standalone tool, also used by make setup and ../shared/esp8266-check). Once per process."""
    subprocess.run([sys.executable, str(REPO / "tools" / "pio_offline.py"), str(PIO_CORE)], check=True,
                   stdout=subprocess.DEVNULL)
    return PIO_CORE


def compile_host(yaml: Path, node_name: str, data_dir: Path = ESPHOME_DATA, log: Path | None = None) -> Path:
    """Builds a host yaml offline (about 25 s clean, 3 s when up to date); returns the program."""
    ensure_pio_core()
    program = host_program(node_name, data_dir)
    log = log or BUILD / f"{Path(yaml).stem}-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    result = esphome("compile", str(yaml), data_dir=data_dir)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0 or not program.exists():
        raise RuntimeError(f"build of {Path(yaml).name} failed, see {log}:\n"
                           + (result.stdout + result.stderr)[-3000:])
    return program


SECRETS_EXAMPLE = REPO / "secrets.yaml.example"
# Every config folder of the project, relative to the repository: the ESP device configs at the top
# (what the ESPHome dashboard lists), the host builds in host/, the test-only configs in tests/client/.
CONFIG_FOLDERS = (".", "host", "tests/client")


def device_configs(folder: Path = REPO) -> list[Path]:
    """The device configs of a config folder, as ESPHome's dashboard and `esphome config DIR` take
    them: every top-level *.yaml except secrets.yaml."""
    from esphome.util import list_yaml_files

    return list_yaml_files([folder])


def stage_project(dest: Path, valid_api_key: bool = False) -> Path:
    """The project's configs as a user has them after `cp secrets.yaml.example secrets.yaml` (never
    a developer's own secrets.yaml): every config and common/ copied (same folders, so their relative
    includes resolve, and a test may edit its copy), components/ linked. valid_api_key replaces the
    placeholder key by a valid one where a build needs it. Returns dest."""
    dest = Path(dest)
    for folder in CONFIG_FOLDERS:
        (dest / folder).mkdir(parents=True, exist_ok=True)
        for config in device_configs(REPO / folder):
            shutil.copy(config, dest / folder / config.name)
    if (dest / "common").is_symlink():  # a stage made when common/ was linked: never copy into the repo
        (dest / "common").unlink()
    shutil.copytree(REPO / "common", dest / "common", dirs_exist_ok=True)
    if not (dest / "components").exists():
        (dest / "components").symlink_to(REPO / "components")
    secrets = SECRETS_EXAMPLE.read_text()
    if valid_api_key:
        key = base64.b64encode(bytes(range(32))).decode()
        secrets = re.sub(r"^api_encryption_key:.*$", f'api_encryption_key: "{key}"', secrets, flags=re.M)
    (dest / "secrets.yaml").write_text(secrets)
    return dest


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_udp_port() -> int:
    return free_port(socket.SOCK_DGRAM)


def stop_process(proc: subprocess.Popen | None, group: bool = False, timeout: float = 5.0) -> None:
    """SIGCONT (it may be paused), SIGTERM, then SIGKILL after `timeout`. group: its whole session
    (what it spawned must not outlive it; it was started with start_new_session=True)."""
    if proc is None or proc.poll() is not None:
        return

    def send(sig: int) -> None:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    send(signal.SIGCONT)
    send(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait()


def wait_until_ready(proc: subprocess.Popen, ready, what: str, log, timeout: float, period: float = 0.05) -> None:
    """Polls ready() until it returns without an OSError (not listening yet). Raises, with log(),
    if the process exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}):\n{log()}")
        try:
            ready()
            return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout} s:\n{log()}")
        time.sleep(period)


class PtyPair:
    """Two linked pseudo-terminals made by socat: what is written to one is read from the other."""

    def __init__(self, workdir: Path, a: str = "tty-gateway", b: str = "tty-atmega"):
        self.workdir = Path(workdir)
        self.a, self.b = self.workdir / a, self.workdir / b
        self.proc = None

    def start(self) -> "PtyPair":
        if shutil.which("socat") is None:
            raise RuntimeError("socat not installed (make setup installs it)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        for p in (self.a, self.b):
            if p.is_symlink() or p.exists():
                p.unlink()
        self.proc = subprocess.Popen(["socat", "-d", "-d", f"pty,raw,echo=0,link={self.a}",
                                      f"pty,raw,echo=0,link={self.b}"],
                                     stdout=subprocess.DEVNULL, stderr=open(self.workdir / "socat.log", "w"),
                                     start_new_session=True)
        deadline = time.monotonic() + 5
        while not (self.a.exists() and self.b.exists()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("socat did not create the ptys")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        stop_process(self.proc)


class HostFirmware:
    """A host firmware process with its own HOME (preferences), environment, API and OTA ports.
    env_prefix: the firmware reads its ports from <prefix>_API_PORT and <prefix>_OTA_PORT (see
    host/*.yaml), so that several firmwares run side by side on free ports."""

    def __init__(self, program: Path, workdir: Path, name: str, api_port: int | None = None,
                 env: dict | None = None, env_prefix: str | None = None):
        self.program, self.workdir, self.name = Path(program), Path(workdir), name
        self.api_port = api_port or free_port()
        self.ota_port = free_port()
        self.env = env or {}
        if env_prefix:
            self.env.setdefault(f"{env_prefix}_API_PORT", str(self.api_port))
            self.env.setdefault(f"{env_prefix}_OTA_PORT", str(self.ota_port))
        self.proc = None
        self.log_path = self.workdir / f"{name}.log"

    def start(self, timeout: float = 20.0) -> "HostFirmware":
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, HOME=str(self.workdir), **self.env)
        cmd = [str(self.program)]
        if shutil.which("stdbuf"):  # line-buffered log when redirected
            cmd = ["stdbuf", "-oL", "-eL", *cmd]
        self.proc = subprocess.Popen(cmd, env=env, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

        def api_listening() -> None:
            socket.create_connection(("127.0.0.1", self.api_port), timeout=0.2).close()
        wait_until_ready(self.proc, api_listening, f"{self.name} (API port {self.api_port})", self.log, timeout)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.proc)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class ApiWatcher:
    """aioesphomeapi client keeping the latest state of every entity, by object_id.

    `events` records (monotonic time, object_id, value) for every state received; a sensor's
    or a number's value is a float (NaN when unavailable or missing), a binary sensor's a bool or
    None (missing), a text sensor's or a select's a str or None.
    """

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.port = port
        self.host = host
        self.client = None
        self.by_key: dict[int, str] = {}
        self.infos: dict[str, object] = {}
        self.services: dict[str, object] = {}  # API actions (user-defined services), by name
        self.states: dict[str, object] = {}
        self.events: list[tuple[float, str, object]] = []
        self.listeners: list = []
        self._changed: asyncio.Event | None = None

    async def connect(self, timeout: float = 10.0) -> "ApiWatcher":
        from aioesphomeapi import APIClient

        self._changed = asyncio.Event()
        self.client = APIClient(self.host, self.port, None)
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.client.connect(login=True)
                break
            except Exception:  # noqa: BLE001 - retried until the deadline
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        entities, services = await self.client.list_entities_services()
        for e in entities:
            self.by_key[e.key] = e.object_id
            self.infos[e.object_id] = e
        self.services = {s.name: s for s in services}
        self.client.subscribe_states(self._on_state)
        return self

    def _on_state(self, st) -> None:
        from aioesphomeapi import BinarySensorState, NumberState, SelectState, SensorState, TextSensorState

        name = self.by_key.get(st.key)
        if name is None:
            return
        if isinstance(st, (SensorState, NumberState)):
            value = math.nan if st.missing_state else float(st.state)
        elif isinstance(st, (BinarySensorState, TextSensorState, SelectState)):
            value = None if st.missing_state else st.state
        else:
            value = getattr(st, "state", None)
        self.states[name] = value
        self.events.append((time.monotonic(), name, value))
        for listener in self.listeners:
            listener(name, value)
        self._changed.set()

    async def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        """Wait until predicate(states) is true; False on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate(self.states):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return True

    async def quiet(self, period: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no state arrived for `period` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = len(self.events)
            await asyncio.sleep(period)
            if len(self.events) == n:
                return

    async def disconnect(self) -> None:
        if self.client is not None:
            await self.client.disconnect()
