"""End to end: the command line of the host firmware (host/gateway-host.yaml with
common/gateway-commands.yaml). Home Assistant's client (aioesphomeapi) works the select, the numbers
and the API actions that run the routeur_pv actions; the test reads what the gateway writes on its
pty (the ATmega's RX), and plays the ATmega's frames back."""
import asyncio
import math
import re
import time

import pytest

from testbed.gateway_harness import OUR_FIELDS, ApiWatcher, crc8_maxim, make_frame

pytestmark = pytest.mark.slow

COMMAND = re.compile(rb"^((?:[A-Z]{3}>-?\d+;)+)\$(\d{1,3})\r\n$")


def parse_command(raw: bytes) -> list[tuple[str, int]]:
    """The (key, value) pairs of a command line, after checking its shape and its CRC-8."""
    m = COMMAND.match(raw)
    assert m, f"not a command line: {raw!r}"
    assert crc8_maxim(m.group(1)) == int(m.group(2)), f"bad CRC: {raw!r}"
    return [(k.decode(), int(v)) for k, v in re.findall(rb"([A-Z]{3})>(-?\d+);", m.group(1))]


def atmega_frame(mod=0, lsr=0, cac=1, crj=0, scs=17, **setting) -> bytes:
    """Our ATmega's frame once it has received a command line: the commands' state and a setting."""
    fields = [*OUR_FIELDS, ("MOD", mod), ("LSR", lsr), ("CAC", cac), ("CRJ", crj), ("SCS", scs)]
    fields += [(key.upper(), value) for key, value in setting.items()]
    return make_frame(fields)


async def lines_for(gw, seconds: float) -> list[tuple[float, list[tuple[str, int]]]]:
    """Every command line the gateway sends over `seconds`, parsed, with its arrival time."""
    out = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        for t, raw in await asyncio.to_thread(gw.read_lines, min(left, 0.5)):
            out.append((t, parse_command(raw)))
    return out


async def next_line(gw, timeout: float = 4.0) -> list[tuple[str, int]]:
    got = await asyncio.to_thread(gw.read_lines, timeout)
    assert got, "no command line"
    return parse_command(got[0][1])


def key_of(w: ApiWatcher, object_id: str) -> int:
    return w.infos[object_id].key


def run(coro):
    return asyncio.run(coro)


def test_the_commands_entities_as_home_assistant_reads_them(gateway):
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        await w.quiet(0.3)
        await w.disconnect()
        return w

    w = run(body())
    from aioesphomeapi import EntityCategory

    assert w.infos["channel_1_mode"].options == ["Auto", "Boost", "Off"]
    assert w.states["channel_1_mode"] == "Auto"  # a restarted gateway requests nothing
    power, duration = w.infos["boost_power"], w.infos["boost_duration"]
    assert (power.min_value, power.max_value, power.unit_of_measurement) == (1, 100, "%")
    assert (duration.min_value, duration.max_value, duration.unit_of_measurement) == (0, 720, "min")
    assert w.states["boost_power"] == 100 and w.states["boost_duration"] == 60  # defaults
    for object_id, low, high, step, unit in [("heater_rating", 300, 8000, 1, "W"),
                                             ("channel_2_rating", 50, 8000, 1, "W"),
                                             ("export_target", 0, 79, 1, "W"),
                                             ("voltage_calibration", 2.5, 10.0, 0.01, "mV/V"),
                                             ("current_calibration", 10.0, 160.0, 0.1, "mV/A")]:
        info = w.infos[object_id]
        assert (info.min_value, info.max_value) == pytest.approx((low, high)), object_id
        assert info.unit_of_measurement == unit, object_id
        assert info.step == pytest.approx(step), object_id
        assert info.entity_category == EntityCategory.CONFIG, object_id
        assert math.isnan(w.states[object_id]), f"{object_id} known before any frame"  # unknown
    for object_id in ("channel_1_lease", "commands_accepted", "commands_refused", "settings_checksum",
                      "channel_1_mode_in_force", "atmega_settings_defaults"):
        assert w.infos[object_id].entity_category == EntityCategory.DIAGNOSTIC, object_id
    assert w.infos["atmega_settings_defaults"].device_class == "problem"
    assert w.infos["commands_accepted"].disabled_by_default
    assert set(w.services) >= {"boost", "stop", "auto", "set_heater_and_export", "set_calibrations"}


def test_boost_from_the_select_is_renewed_then_auto_said_once(gateway):
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        gateway.write(atmega_frame(htr=2000))  # an ATmega that already listens, in auto: nothing to say
        assert await w.wait_for(lambda s: s.get("frames_received") == 1, 3.0)
        assert await lines_for(gateway, 2.0) == []
        w.client.number_command(key_of(w, "boost_power"), 60)
        assert await w.wait_for(lambda s: s.get("boost_power") == 60, 3.0)
        w.client.select_command(key_of(w, "channel_1_mode"), "Boost")
        assert await w.wait_for(lambda s: s.get("channel_1_mode") == "Boost", 3.0)
        sent = await lines_for(gateway, 7.5)
        assert [fields for _, fields in sent][:1] == [[("BST", 60), ("LSE", 5)]], sent
        assert all(fields == [("BST", 60), ("LSE", 5)] for _, fields in sent), sent
        gaps = [b[0] - a[0] for a, b in zip(sent, sent[1:])]
        assert len(sent) >= 3 and all(1.5 <= g <= 3.2 for g in gaps), gaps  # every ~2 s, 5-s leases
        # the Boost power follows at once during a boost
        w.client.number_command(key_of(w, "boost_power"), 100)
        assert await next_line(gateway) == [("BST", 100), ("LSE", 5)]
        w.client.select_command(key_of(w, "channel_1_mode"), "Auto")
        assert await w.wait_for(lambda s: s.get("channel_1_mode") == "Auto", 3.0)
        sent = await lines_for(gateway, 4.5)
        assert [fields for _, fields in sent if fields != [("BST", 100), ("LSE", 5)]] == [[("AUT", 1)]], sent
        assert sent[-1][1] == [("AUT", 1)]  # said once, and nothing after it
        # Off: a stop lease, renewed likewise
        w.client.select_command(key_of(w, "channel_1_mode"), "Off")
        assert await next_line(gateway) == [("STP", 1), ("LSE", 5)]
        await w.disconnect()

    run(body())


def test_a_timed_boost_from_an_automation_goes_back_to_auto(gateway):
    """routeur_pv.boost with a duration (an API action of the host config runs it)."""
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        gateway.write(atmega_frame())
        assert await w.wait_for(lambda s: s.get("frames_received") == 1, 3.0)
        await w.client.execute_service(w.services["boost"], {"power": 70.0, "duration_ms": 4000})
        assert await w.wait_for(lambda s: s.get("channel_1_mode") == "Boost", 3.0)
        sent = await lines_for(gateway, 6.5)
        fields = [f for _, f in sent]
        assert fields[0] == [("BST", 70), ("LSE", 5)] and fields[-1] == [("AUT", 1)], fields
        assert fields.count([("AUT", 1)]) == 1
        assert 3.5 <= sent[-1][0] - sent[0][0] <= 5.0, sent  # 4 s, then at the next allowed moment
        assert w.states["channel_1_mode"] == "Auto"
        # routeur_pv.stop, then routeur_pv.auto
        await w.client.execute_service(w.services["stop"], {"duration_ms": 0})
        assert await next_line(gateway) == [("STP", 1), ("LSE", 5)]
        assert await w.wait_for(lambda s: s.get("channel_1_mode") == "Off", 3.0)
        await w.client.execute_service(w.services["auto"], {})
        assert (await lines_for(gateway, 2.0))[-1][1] == [("AUT", 1)]
        assert await w.wait_for(lambda s: s.get("channel_1_mode") == "Auto", 3.0)
        await w.disconnect()

    run(body())


def test_an_atmega_not_yet_addressed_is_told_auto(gateway):
    """Frames without MOD (no command line since the ATmega's reset): `AUT>1;`, which also makes
    it report its settings; once it says auto, nothing more."""
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        gateway.write(make_frame(OUR_FIELDS))
        assert await next_line(gateway) == [("AUT", 1)]
        gateway.write(atmega_frame(htr=2000))
        assert await lines_for(gateway, 2.0) == []
        await w.disconnect()

    run(body())


def test_settings_are_sent_and_shown_as_the_atmega_reports_them(gateway):
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        # the ATmega reports one setting a frame, in turn
        for n, setting in enumerate([{"htr": 2000}, {"dim": 1000}, {"ext": 5}, {"vcl": 500}, {"icl": 400}], 1):
            gateway.write(atmega_frame(cac=1, scs=17, **setting))
            assert await w.wait_for(lambda s: s.get("frames_received") == n, 3.0)
        await w.quiet(0.3)
        assert [w.states[k] for k in ("heater_rating", "channel_2_rating", "export_target", "voltage_calibration",
                                      "current_calibration")] == pytest.approx([2000, 1000, 5, 5.0, 40.0])
        assert w.states["settings_checksum"] == 17 and w.states["commands_accepted"] == 1
        assert w.states["commands_refused"] == 0 and w.states["channel_1_lease"] == 0
        assert w.states["channel_1_mode_in_force"] == "auto"
        assert w.states["atmega_settings_defaults"] is False
        # Heater rating 2500 from Home Assistant: one line; the state stays what the ATmega holds
        w.client.number_command(key_of(w, "heater_rating"), 2500)
        assert await next_line(gateway) == [("HTR", 2500)]
        await w.quiet(0.3)
        assert w.states["heater_rating"] == 2000
        # stored: the next frame shows it, with the new checksum and count
        gateway.write(atmega_frame(cac=2, scs=99, htr=2500))
        assert await w.wait_for(lambda s: s.get("heater_rating") == 2500 and s.get("settings_checksum") == 99, 3.0)
        assert w.states["commands_accepted"] == 2
        assert await lines_for(gateway, 1.0) == []  # reported: not sent again
        # routeur_pv.set_settings (an API action): both in one line, valid only together
        set_both = w.services["set_heater_and_export"]
        await w.client.execute_service(set_both, {"heater_power": 400.0, "export_target": 3.0})
        assert await next_line(gateway) == [("HTR", 400), ("EXT", 3)]
        gateway.write(atmega_frame(cac=3, scs=5, htr=400))
        gateway.write(atmega_frame(cac=3, scs=5, ext=3))
        assert await w.wait_for(lambda s: s.get("export_target") == 3 and s.get("heater_rating") == 400, 3.0)
        # what the ATmega would refuse is refused here: nothing sent, states unchanged
        await w.client.execute_service(set_both, {"heater_power": 400.0, "export_target": 10.0})
        w.client.number_command(key_of(w, "export_target"), 4)  # 4 W is 1 % of 400 W: not below
        assert await lines_for(gateway, 1.5) == []
        assert w.states["export_target"] == 3
        assert "export target not below 1 % of the heater rating" in gateway.log()
        # calibrations in their units: mV/V and mV/A
        await w.client.execute_service(w.services["set_calibrations"], {})
        assert await next_line(gateway) == [("VCL", 520), ("ICL", 415)]
        gateway.write(atmega_frame(cac=4, scs=6, vcl=520))
        assert await w.wait_for(lambda s: s.get("voltage_calibration") == pytest.approx(5.2), 3.0)
        # a boost, as the ATmega reports it; a refused line shows
        gateway.write(atmega_frame(mod=1, lsr=5, cac=5, crj=1, scs=6, icl=415))
        assert await w.wait_for(lambda s: s.get("channel_1_mode_in_force") == "boost"
                                and s.get("channel_1_lease") == 5 and s.get("commands_refused") == 1, 3.0)
        assert w.states["current_calibration"] == pytest.approx(41.5)
        # the ATmega on its defaults (STA 32)
        gateway.write(make_frame(dict(dict(OUR_FIELDS), STA="32", MOD="0", LSR="0", CAC="5", CRJ="1", SCS="6")))
        assert await w.wait_for(lambda s: s.get("atmega_settings_defaults") is True
                                and s.get("channel_1_lease") == 0, 3.0)
        # link lost: the settings are unknown until reported again
        assert await w.wait_for(lambda s: s.get("atmega_link") is False, 8.0)
        await w.quiet(0.3)
        assert math.isnan(w.states["heater_rating"]) and math.isnan(w.states["channel_1_lease"])
        assert w.states["channel_1_mode_in_force"] == "unknown"
        await w.disconnect()

    run(body())
