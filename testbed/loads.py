"""Channel 2 shared by several loads (pv_loads) in the whole chain, in real time: the simulator (the
real ATmega ELF), the host gateway of tests/loads/gateway-two-loads-host.yaml and its two host
clients (load A 1000 W priority 1, load B 1500 W priority 2); the house draws what both clients
deliver, and the draw of its relay stage (an 800-W pool pump) while it is on. Used by tests/loads/."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from testbed.day_report import scenario_capacity
from testbed.esphome_host import REPO, ApiWatcher, compile_host
from testbed.simrun import write_scenario
from testbed.system import StreamRecords, System, build_all

LOADS_DIR = REPO / "tests" / "loads"
GATEWAY = (LOADS_DIR / "gateway-two-loads-host.yaml", "routeur-pv-loads-host")
CLIENTS = ((LOADS_DIR / "client-load-a-host.yaml", "routeur-pv-load-a-host"),
           (LOADS_DIR / "client-load-b-host.yaml", "routeur-pv-load-b-host"))
# What the host client's dimmer runtime delivers (host/client-host.yaml), fed to the house.
DELIVERED = "simulated_heater_power"
# The gateway's relay stage: its switch, and what the load behind it draws while on.
RELAY, RELAY_W = "pool_pump", 800.0
# What the dimmers can absorb beside channel 1: both ratings.
DIMMERS_W = 1000.0 + 1500.0
# The house of the loads' stories: a 2-kW heater on channel 1 and a steady 500-W load.
HEATER_W, HOUSE_W = 2000, 500


def phase_scenario(path: Path, phases, end_s: float) -> Path:
    """A story's scenario: phases = [(start s, what channel 2 can take once the heater is full, W)],
    each held until the next one starts, the last until end_s."""
    rows = []
    for k, (start, ch2) in enumerate(phases):
        end = phases[k + 1][0] - 1 if k + 1 < len(phases) else end_s
        for t in (start, end):
            rows.append({"t_s": t, "pv_w": HOUSE_W + HEATER_W + ch2, "house_w": HOUSE_W, "ch1_w": HEATER_W,
                         "ch2_w": 1000})
    return write_scenario(path, rows)


def build_loads_chain(log=print) -> tuple[Path, list[Path]]:
    build_all(log=log)
    return compile_host(*GATEWAY), [compile_host(*client) for client in CLIENTS]


@contextlib.asynccontextmanager
async def loads_chain(workdir: Path, scenario: Path, seconds: float, programs=None):
    """The chain running: yields (system, stream, gateway watcher, [client watchers]). Each client's
    delivered power is fed to the house as it comes."""
    gateway_program, client_programs = programs or build_loads_chain(log=lambda _m: None)
    system = System(workdir, scenario, seconds=seconds, mains_hz=50)
    gateway, clients = None, []
    try:
        system.start(gateway_program, client_programs[0], more_clients=client_programs[1:])
        stream = StreamRecords(system.sim)
        gateway = await ApiWatcher(system.gateway.api_port).connect()
        gateway.listeners.append(lambda name, value: name == RELAY
                                 and system.feed_channel_2(RELAY_W if value else 0.0, RELAY))
        for k in range(len(system.clients)):
            clients.append(await watch_client(system, k))
        yield system, stream, gateway, clients
    finally:
        # `clients` as it is now: a reflashed client's watcher replaced the old one (reflash_client)
        for watcher in (gateway, *clients):
            with contextlib.suppress(Exception):
                await watcher.disconnect()
        system.stop()


async def watch_client(system: System, k: int) -> ApiWatcher:
    """A watcher on client k whose delivered power the house draws as it comes."""
    watcher = await ApiWatcher(system.clients[k].api_port).connect()
    watcher.listeners.append(lambda name, value: name == DELIVERED and value == value
                             and system.feed_channel_2(value, k))
    return watcher


async def reflash_client(system: System, clients: list[ApiWatcher], k: int, program: Path) -> ApiWatcher:
    """Client k of loads_chain reflashed with `program` (System.reflash_client); clients[k] becomes a
    watcher on the new firmware. The old watcher stops feeding the house first: its firmware is gone."""
    old = clients[k]
    old.listeners.clear()
    with contextlib.suppress(Exception):
        await old.disconnect()
    # on a thread: the other watchers keep feeding the house while the new firmware starts
    await asyncio.to_thread(system.reflash_client, k, program)
    clients[k] = await watch_client(system, k)
    return clients[k]


# What a story samples of the gateway beside the simulator's record: its key -> the entity.
SHARES = {"a_w": "load_a_allotted_power", "b_w": "load_b_allotted_power", "relay": RELAY}


async def sample_story(stream, gateway, end_s: float, actions=None, entities=SHARES) -> list[dict]:
    """The simulator's record of every simulated second up to end_s, with the gateway's `entities`
    as they stood then. actions(t), every 0.25 s: what the story does at simulated time t."""
    samples = []
    while stream.now() < end_s:
        await asyncio.sleep(0.25)
        if actions is not None:
            actions(stream.now())
        if stream.records and (not samples or samples[-1]["t"] < stream.now()):
            record = dict(stream.records[-1])
            record.update({key: gateway.states.get(entity) for key, entity in entities.items()})
            samples.append(record)
    return samples


async def record_run(workdir: Path, scenario: Path, seconds: float, programs=None) -> dict:
    """The chain on a scenario, for the benchmark: {records: the simulator's (one a second), each
    with capacity_w, what the loads could absorb (channel 1's rating in the scenario, both dimmers,
    and the relay when the surplus beyond them covers its rating); relay_switchings: the pool pump's
    changes of state}."""
    channel_1 = scenario_capacity(scenario, with_ch2=False)
    async with loads_chain(workdir, scenario, seconds, programs) as (_system, stream, gateway, _clients):
        while stream.now() < seconds - 1:
            await asyncio.sleep(0.5)
        states = [v for _at, name, v in gateway.events if name == RELAY and v is not None]
    records = list(stream.records)
    for r in records:
        # the dimmers take any part of their ratings, the relay all of its rating or nothing
        dimmers = channel_1(r["t"]) + DIMMERS_W
        r["capacity_w"] = dimmers + (RELAY_W if r["pv_w"] - r["house_w"] - dimmers >= RELAY_W else 0.0)
    return {"records": records, "relay_switchings": sum(1 for a, b in zip(states, states[1:]) if a != b)}
