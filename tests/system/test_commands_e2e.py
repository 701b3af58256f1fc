"""Home Assistant's commands end to end, in real time: aioesphomeapi -> the host gateway -> its
command lines on the pty -> the real ATmega ELF's RX in the simulated house -> its frames back to
the gateway (issue 11). What takes effect is read from the simulator's house (channel 1's power)
and from the frames, as Home Assistant sees them."""
import asyncio
import time

import pytest
from testbed.esphome_host import ApiWatcher
from testbed.simrun import write_scenario
from testbed.system import build_all, command_latencies, gateway_chain, wait_records

pytestmark = pytest.mark.slow

HEATER_W = 2000  # the simulated heater (the scenario's ch1_w)


def mean(records, key):
    return sum(r[key] for r in records) / len(records)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    work = tmp_path_factory.mktemp("commands")
    scenario = write_scenario(work / "import.csv", [  # importing 300 W: solar routing fires nothing
        {"t_s": 0, "pv_w": 0, "house_w": 300, "ch1_w": HEATER_W, "ch2_w": 1000}])
    gateway_program, _ = build_all(log=lambda _message: None)
    with gateway_chain(work, scenario, gateway_program, seconds=600) as chain:  # stopped at the end
        yield chain


def test_settings_and_boost_from_the_api_take_effect_in_the_atmega(chain):
    system, stream = chain

    async def body():
        w = await ApiWatcher(system.gateway.api_port).connect()
        # The ATmega reports its settings (one a frame), the blank EEPROM's defaults flagged.
        assert await w.wait_for(lambda s: s.get("heater_rating") == 2000.0, 15), w.states
        assert w.states["atmega_settings_defaults"] is True
        assert w.states["min_routable_power"] == pytest.approx(20.0)
        # A heater rating set from Home Assistant: stored by the ATmega, in its frames.
        w.client.number_command(w.infos["heater_rating"].key, 2500.0)
        assert await w.wait_for(lambda s: s.get("min_routable_power") == pytest.approx(25.0), 8), w.states
        assert await w.wait_for(lambda s: s.get("heater_rating") == 2500.0, 8), w.states
        assert await w.wait_for(lambda s: s.get("atmega_settings_defaults") is False, 3), w.states
        # Boost at 60 % of that rating: the simulated heater (2000 W) takes 60 % of its power,
        # while the house imports.
        w.client.number_command(w.infos["boost_power"].key, 60.0)
        await asyncio.sleep(0.3)
        w.client.select_command(w.infos["channel_1_mode"].key, "Boost")
        assert await w.wait_for(lambda s: s.get("channel_1_mode_in_force") == "boost", 3), w.states
        boosted = await wait_records(stream, stream.now() + 2, 6)  # records lag a second behind
        assert mean(boosted, "ch1_w") == pytest.approx(0.60 * HEATER_W, rel=0.03), boosted
        assert all(r["grid_w"] > 1000 for r in boosted)
        assert 1 <= w.states["channel_1_lease"] <= 5  # renewed: never runs out while wanted
        # Back to solar routing from the API: nothing fires while importing.
        w.client.select_command(w.infos["channel_1_mode"].key, "Auto")
        assert await w.wait_for(lambda s: s.get("channel_1_mode_in_force") == "auto", 3), w.states
        after = await wait_records(stream, stream.now() + 2, 3)
        assert all(r["ch1_w"] < 5 for r in after), after
        assert w.states["commands_refused"] == 0
        await command_latencies(w, count=4)  # round trips complete (their times: make bench, link)
        await w.disconnect()

    asyncio.run(body())


def test_the_atmega_falls_back_to_solar_routing_when_the_gateway_dies(chain):
    system, stream = chain

    async def body():
        w = await ApiWatcher(system.gateway.api_port).connect()
        w.client.select_command(w.infos["channel_1_mode"].key, "Boost")
        assert await w.wait_for(lambda s: s.get("channel_1_mode_in_force") == "boost", 3), w.states
        await w.disconnect()

    asyncio.run(body())
    time.sleep(1.5)
    killed_at = stream.now()
    system.gateway.stop()  # no more renewals
    # The lease (5 s, renewed every 2 s) runs out by itself: channel 1 off again within 5 s + 1 s.
    records = asyncio.run(wait_records(stream, killed_at, 12))
    assert any(r["ch1_w"] > 500 for r in records[:2]), records
    assert all(r["ch1_w"] < 5 for r in records if r["t"] >= killed_at + 6), records
