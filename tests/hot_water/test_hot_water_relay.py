"""Forcing through a bypass relay across the SSR (docs/hot_water.md, set-up 2), on the host gateway
(tests/hot_water/gateway-relay-host.yaml: a template switch stands in for the relay's GPIO) with the
real ATmega ELF and the simulator's tank: a boost closes the relay and leaves the ATmega in solar
routing; the maximum temperature opens it and stops channel 1 over the command line."""
import asyncio
from pathlib import Path

import pytest
from testbed.esphome_host import ApiWatcher, compile_host
from testbed.simrun import write_scenario
from testbed.system import build_all, gateway_chain, wait_records

pytestmark = pytest.mark.slow

RELAY_YAML = Path(__file__).parent / "gateway-relay-host.yaml"
SURPLUS_W = 600


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    work = tmp_path_factory.mktemp("relay")
    scenario = write_scenario(work / "sunny.csv", [
        {"t_s": 0, "pv_w": 500 + SURPLUS_W, "house_w": 500, "ch1_w": 2000, "ch2_w": 1000}])
    build_all(log=lambda _message: None)  # the ATmega ELF and the simulator
    program = compile_host(RELAY_YAML, "routeur-pv-relay-host")
    with gateway_chain(work, scenario, program, seconds=400,
                       sim_args=["--tank-litres", "5", "--tank-c", "50", "--tank-loss-w-per-k", "0.3"]) as chain:
        yield chain


def test_the_relay_forces_and_the_maximum_opens_it_and_stops_channel_1(chain):
    system, stream = chain

    async def body():
        w = await ApiWatcher(system.gateway.api_port).connect()
        assert await w.wait_for(lambda s: s.get("hot_water_state") == "solar routing", 20), w.states
        assert w.states["heater_relay"] is False
        w.client.number_command(w.infos["hot_water_boost_target"].key, 0.0)
        w.client.number_command(w.infos["maximum_tank_temperature"].key, 52.0)
        await asyncio.sleep(0.5)
        w.client.button_command(w.infos["hot_water_boost"].key)
        assert await w.wait_for(lambda s: s.get("heater_relay") is True, 3), w.states
        assert w.states["hot_water_forcing"] is True
        # The ATmega is not asked to boost: it goes on routing the surplus through the SSR.
        await asyncio.sleep(3)
        assert w.states["channel_1_mode_in_force"] == "auto"
        routed = await wait_records(stream, stream.now() + 1, 4)
        assert sum(r["ch1_w"] for r in routed) / 4 == pytest.approx(SURPLUS_W, rel=0.1), routed
        # The surplus alone heats the 5 L to the maximum (~0.03 K/s): the relay opens and channel 1
        # stops, the surplus going to channel 2.
        assert await w.wait_for(lambda s: s.get("hot_water_state") == "maximum temperature", 120), w.states
        assert await w.wait_for(lambda s: s.get("heater_relay") is False, 3), w.states
        assert await w.wait_for(lambda s: s.get("channel_1_mode_in_force") == "off", 4), w.states
        after = await wait_records(stream, stream.now() + 2, 5)
        assert all(r["ch1_w"] < 5 for r in after), after
        # Someone closes the relay by hand meanwhile: the maximum opens it again at the next
        # update (which may come before Home Assistant even sees it closed).
        w.client.switch_command(w.infos["heater_relay"].key, True)
        await asyncio.sleep(2.5)
        assert w.states["heater_relay"] is False, w.states
        await w.disconnect()

    asyncio.run(body())
