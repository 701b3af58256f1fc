"""Channel 2 shared by several loads (pv_loads) in the whole chain, in real time: the simulator (the
real ATmega ELF), the host gateway of tests/loads/gateway-two-loads-host.yaml and its two host
clients (load A 1000 W priority 1, load B 1500 W priority 2); the house draws what both clients
deliver. Used by tests/loads/ (and the C++ allotter's unit tests build here too)."""
from __future__ import annotations

import contextlib
from pathlib import Path

from testbed.esphome_host import REPO, ApiWatcher, compile_host
from testbed.system import StreamRecords, System, build_all

LOADS_DIR = REPO / "tests" / "loads"
GATEWAY = (LOADS_DIR / "gateway-two-loads-host.yaml", "routeur-pv-loads-host")
CLIENTS = ((LOADS_DIR / "client-load-a-host.yaml", "routeur-pv-load-a-host"),
           (LOADS_DIR / "client-load-b-host.yaml", "routeur-pv-load-b-host"))
# What the host client's dimmer runtime delivers (host/client-host.yaml), fed to the house.
DELIVERED = "simulated_heater_power"


def build_loads_chain(log=print) -> tuple[Path, list[Path]]:
    build_all(log=log)
    return compile_host(*GATEWAY), [compile_host(*client) for client in CLIENTS]


@contextlib.asynccontextmanager
async def loads_chain(workdir: Path, scenario: Path, seconds: float, programs=None):
    """The chain running: yields (system, stream, gateway watcher, [client watchers]). Each client's
    delivered power is fed to the house as it comes."""
    gateway_program, client_programs = programs or build_loads_chain(log=lambda _m: None)
    system = System(workdir, scenario, seconds=seconds, mains_hz=50)
    watchers: list[ApiWatcher] = []
    try:
        system.start(gateway_program, client_programs[0], more_clients=client_programs[1:])
        stream = StreamRecords(system.sim)
        gateway = await ApiWatcher(system.gateway.api_port).connect()
        watchers.append(gateway)
        clients = []
        for k, firmware in enumerate(system.clients):
            watcher = await ApiWatcher(firmware.api_port).connect()
            watcher.listeners.append(lambda name, value, k=k: name == DELIVERED and value == value
                                     and system.feed_channel_2(value, k))
            watchers.append(watcher)
            clients.append(watcher)
        yield system, stream, gateway, clients
    finally:
        for watcher in watchers:
            with contextlib.suppress(Exception):
                await watcher.disconnect()
        system.stop()
