"""A relay stage on the host gateway (tests/relay/gateway-relay-stage-host.yaml: a template switch for
the relay, short times) with the real ATmega ELF in the simulator, watched through Home Assistant's
client library: the surplus left once the router's loads are full switches it on, an import
switches it off, and the mode select holds the minimum off-time. (The simulator does not model the
relay's own draw: its decisions on a house that feels it are in tests/relay/cpp.)"""
import asyncio
from pathlib import Path

import pytest
from testbed.esphome_host import ApiWatcher, compile_host
from testbed.simrun import write_scenario
from testbed.system import build_all, gateway_chain

pytestmark = pytest.mark.slow

YAML = Path(__file__).parent / "gateway-relay-stage-host.yaml"
SUNNY_S = 45  # then no sun: the house imports 500 W


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    work = tmp_path_factory.mktemp("relay_stage")
    # 4.5 kW of surplus: 2 kW to the heater, 1 kW to channel 2, 1.5 kW exported.
    scenario = write_scenario(work / "sun_then_night.csv", [
        {"t_s": 0, "pv_w": 5000, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000},
        {"t_s": SUNNY_S - 1, "pv_w": 5000, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000},
        {"t_s": SUNNY_S, "pv_w": 0, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000}])
    build_all(log=lambda _message: None)
    program = compile_host(YAML, "routeur-pv-relay-stage-host")
    with gateway_chain(work, scenario, program, seconds=200) as chain:
        yield chain


def test_the_surplus_switches_it_on_the_import_off_and_the_mode_holds_the_minimum_off_time(chain):
    system, stream = chain

    async def body():
        w = await ApiWatcher(system.gateway.api_port).connect()
        assert await w.wait_for(lambda s: s.get("pool_pump") is False, 5), w.states
        # On once the export has covered its 1 kW for 5 s (after the 5-s minimum off-time from boot).
        assert await w.wait_for(lambda s: s.get("pool_pump") is True, 30), w.states
        on_at = stream.now()
        assert on_at < SUNNY_S, on_at
        assert w.states["pool_pump_reason"] == "surplus"
        exported = [r for r in stream.since(on_at - 5) if r["t"] < on_at]
        assert exported and all(r["grid_w"] < -1000 for r in exported), exported
        # The night: 500 W of import for 2 s switches it off (its 10-s minimum on-time is over).
        assert await w.wait_for(lambda s: s.get("pool_pump") is False, SUNNY_S - on_at + 10), w.states
        off_at = stream.now()
        assert SUNNY_S + 2 <= off_at <= SUNNY_S + 5, (on_at, off_at)
        assert w.states["pool_pump_reason"] == "no surplus"
        # "on" by hand, right after: it waits out its 5-s minimum off-time, then runs on the grid.
        w.client.select_command(w.infos["pool_pump_mode"].key, "on")
        assert await w.wait_for(lambda s: s.get("pool_pump_reason") == "minimum on/off time", 3), w.states
        assert await w.wait_for(lambda s: s.get("pool_pump") is True, 10), w.states
        assert stream.now() - off_at >= 5, (off_at, stream.now())
        assert w.states["pool_pump_mode"] == "on" and w.states["pool_pump_reason"] == "mode"
        w.client.select_command(w.infos["pool_pump_mode"].key, "auto")
        # Back in auto with the import: off again after its minimum on-time and the off-delay.
        assert await w.wait_for(lambda s: s.get("pool_pump") is False, 20), w.states
        assert w.states["pool_pump_runtime_today"] == 0.0  # under a minute so far
        await w.disconnect()

    asyncio.run(body())
