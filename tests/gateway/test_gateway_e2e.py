"""End to end: the real host firmware (host/gateway-host.yaml) reads frames from a pty; the native API
client Home Assistant uses (aioesphomeapi) checks what it publishes."""
import asyncio
import json
import math
import subprocess
import sys

import pytest

from testbed.gateway_harness import (
    FRAME_SENSORS, GATEWAY_LINK_TIMEOUT_S, OUR_FIELDS, REPO, SEED_FIELDS, ApiWatcher, DATA_DIR, capture_pvsim,
    crc8_maxim, expected_states, make_frame, sim_available, values_match,
)

pytestmark = pytest.mark.slow


def run(coro):
    return asyncio.run(coro)


async def send_and_wait(gw, w, data: bytes, frames_received: int, timeout=3.0):
    gw.write(data)
    ok = await w.wait_for(lambda s: s.get("frames_received") == frames_received, timeout)
    await w.quiet(0.25)
    return ok


def test_values_published(gateway):
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        await w.quiet(0.3)
        # before the first frame: nothing known, link off
        assert w.states["atmega_link"] is False
        assert all(math.isnan(w.states[k]) for k in FRAME_SENSORS)
        # our firmware's frame (STA 8: channel 1 saturated)
        assert await send_and_wait(gateway, w, make_frame(OUR_FIELDS), 1), gateway.log()[-3000:]
        assert values_match(w.states, expected_states(OUR_FIELDS)) == []
        assert w.states["grid_power"] == pytest.approx(-3.21, abs=1e-3)  # REE 3.21 export -> -3.21
        assert w.states["atmega_link"] is True
        assert w.states["router_status"] == "CH1_SATURATED"
        assert w.states["channel_1_saturated"] is True and w.states["no_mains"] is False
        # the seed's frame: no FRQ/VRM/STA -> those unavailable
        assert await send_and_wait(gateway, w, make_frame(SEED_FIELDS), 2)
        assert values_match(w.states, expected_states(SEED_FIELDS)) == []
        assert w.states["grid_power"] == pytest.approx(90.43, abs=1e-3)  # importing 90.43 W
        assert w.states["router_status"] == "n/a"
        assert w.states["channel_1_saturated"] is None
        # negative POR: routed power and ratio clamped at 0
        neg = dict(SEED_FIELDS, POR="-4.50")
        assert await send_and_wait(gateway, w, make_frame(neg), 3)
        assert w.states["routed_power"] == 0.0 and w.states["routed_ratio"] == 0.0
        assert w.states["frames_rejected"] == 0
        await w.disconnect()

    run(body())


def test_channel_2_frames_move_only_channel_2(gateway):
    """Our ATmega sends a large move of VO2 at once in a frame of its own (VO2 and PO2): it moves the
    channel-2 ratio the clients follow and nothing else; while the link is down (no regular frame
    yet) it is dropped, counted as received."""
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        await w.quiet(0.3)
        ch2 = make_frame([("VO2", "53"), ("PO2", "530")])
        assert await send_and_wait(gateway, w, ch2, 1)
        assert math.isnan(w.states["channel_2_ratio"]) and w.states["atmega_link"] is False
        assert await send_and_wait(gateway, w, make_frame(OUR_FIELDS), 2)
        assert await send_and_wait(gateway, w, ch2, 3)
        assert values_match(w.states, dict(expected_states(OUR_FIELDS), channel_2_ratio=53.0)) == []
        assert w.states["atmega_link"] is True and w.states["router_status"] == "CH1_SATURATED"
        assert w.states["frames_rejected"] == 0
        await w.disconnect()

    run(body())


CORRUPTED = [
    make_frame(OUR_FIELDS, crc=(crc8_maxim(make_frame(OUR_FIELDS).split(b"$")[0]) + 1) % 256),  # bad CRC
    make_frame(OUR_FIELDS)[:40] + b"\r\n",                                       # truncated
    make_frame(dict(OUR_FIELDS, REE="nan")),                                    # non-numeric
    make_frame(dict(OUR_FIELDS, VO2="250")),                                    # out of range
    make_frame(dict(OUR_FIELDS, FRQ="1e2")),                                    # not plain decimal
    make_frame([f for f in OUR_FIELDS if f[0] != "REE"]),                        # missing field
    b"\x00\xff garbage \x13\r\n",                                               # garbage
    b"A" * 3000 + b"\r\n",                                                      # overlong
    make_frame(OUR_FIELDS).replace(b"REE>3.21", b"REE>9.21"),                   # value changed
]


def test_corrupted_frames_publish_nothing(gateway):
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        assert await send_and_wait(gateway, w, make_frame(SEED_FIELDS), 1)
        before = dict(w.states)
        n_events = len(w.events)
        for bad in CORRUPTED:
            gateway.write(bad)
            await asyncio.sleep(0.05)
        assert await w.wait_for(lambda s: s.get("frames_rejected") == len(CORRUPTED), 3.0), \
            (w.states.get("frames_rejected"), gateway.log()[-3000:])
        await w.quiet(0.5)
        changed = {name for _, name, _ in w.events[n_events:]} - {"frames_rejected"}
        assert changed == set(), f"corrupted frames published {changed}"
        assert values_match(w.states, expected_states(SEED_FIELDS)) == []
        assert w.states["atmega_link"] is True and before["atmega_link"] is True
        # the next good frame goes through
        assert await send_and_wait(gateway, w, make_frame(OUR_FIELDS), 2)
        assert values_match(w.states, expected_states(OUR_FIELDS)) == []
        await w.disconnect()

    run(body())


def test_timeout_makes_values_unavailable(gateway):
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        gateway.write(make_frame(OUR_FIELDS))
        assert await w.wait_for(lambda s: s.get("frames_received") == 1, 3.0)
        # from the frame's arrival as the API shows it (other entities, e.g. the hot-water
        # manager's, may publish just after it: a wait for quiet would start the clock late)
        t_last = asyncio.get_running_loop().time()
        # corrupted frames do not keep the link alive
        for _ in range(3):
            await asyncio.sleep(1.0)
            gateway.write(CORRUPTED[0])
        ok = await w.wait_for(lambda s: s.get("atmega_link") is False, GATEWAY_LINK_TIMEOUT_S + 3)
        elapsed = asyncio.get_running_loop().time() - t_last
        assert ok, gateway.log()[-3000:]
        assert GATEWAY_LINK_TIMEOUT_S - 0.5 <= elapsed <= GATEWAY_LINK_TIMEOUT_S + 2.0, elapsed
        await w.quiet(0.3)
        for k in FRAME_SENSORS:
            assert math.isnan(w.states[k]), f"{k} still {w.states[k]} after the timeout"
        assert w.states["router_status"] == "NO_LINK"
        assert w.states["channel_1_saturated"] is None
        assert w.states["frames_received"] == 1  # counters stay valid
        # the next valid frame restores everything
        assert await send_and_wait(gateway, w, make_frame(SEED_FIELDS), 2)
        assert values_match(w.states, expected_states(SEED_FIELDS)) == []
        assert w.states["atmega_link"] is True
        await w.disconnect()

    run(body())


def test_packet_transport_broadcasts_encrypted(host_program, tmp_path):
    """channel2_ratio and grid_power go out over UDP, encrypted (names not in clear)."""
    import socket
    import time

    from testbed.gateway_harness import HostGateway, free_port

    port = free_port()
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    rx.bind(("", port))
    rx.settimeout(0.5)
    packets = []
    with HostGateway(host_program, tmp_path / "gw", extra_env={"ROUTEUR_PV_UDP_PORT": str(port)}) as gw:
        gw.write(make_frame(OUR_FIELDS))
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and len(packets) < 2:
            try:
                packets.append(rx.recv(2048))
            except socket.timeout:
                pass
    rx.close()
    assert packets, "no packet_transport datagram received"
    assert all(b"routeur-pv-host" in p for p in packets)  # the provider name is sent in clear
    assert not any(b"channel2_ratio" in p or b"grid_power" in p for p in packets), "not encrypted"


def test_replay_frames_script(host_program):
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "replay-frames"),
                          str(DATA_DIR / "seed_frames.txt")],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(rows) == 5, out.stdout
    assert rows[0]["grid_power"] == pytest.approx(90.43, abs=1e-3)
    assert rows[0]["routed_power"] == pytest.approx(840.0, abs=1e-2)
    assert rows[1]["channel_2_ratio"] == 20
    assert rows[3]["grid_power"] == pytest.approx(1534.2, abs=1e-2)
    assert rows[4]["channel_2_ratio"] is None  # an older frame without VO2
    assert [r["frames_received"] for r in rows] == [1, 2, 3, 4, 5]


def test_replay_pvsim_capture(host_program):
    """The committed capture of our ATmega firmware's serial output, through the real gateway."""
    capture = DATA_DIR / "pvsim_steady_800.bin"
    n_frames = capture.read_bytes().count(b"\n")
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "replay-frames"), "--no-build",
                          str(capture)], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(rows) == n_frames >= 3, out.stdout + out.stderr
    for r in rows:
        assert r["mains_frequency"] == pytest.approx(50.0, abs=0.5)
        assert r["mains_voltage"] == pytest.approx(230.0, abs=10)
        assert r["router_status"] is not None and r["atmega_link"] is True
        assert r["frames_rejected"] == 0


def test_pvsim_frames_reach_the_api(gateway, tmp_path):
    ok, why = sim_available()
    if not ok:
        pytest.skip(f"real ATmega frames unavailable: {why}")
    raw = capture_pvsim(tmp_path / "uart.bin", seconds=6)
    n_lines = raw.count(b"\n")
    if n_lines == 0:
        pytest.fail("the ATmega firmware sent no frame in 6 simulated seconds")

    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        gateway.write(raw)
        await w.wait_for(lambda s: s.get("frames_received") == n_lines, 5.0)
        await w.quiet(1.2)
        assert w.states["frames_received"] == n_lines, (n_lines, w.states, raw[:300])
        assert w.states["frames_rejected"] == 0
        assert w.states["atmega_link"] is True
        assert w.states["mains_frequency"] == pytest.approx(50.0, abs=0.5)
        assert w.states["mains_voltage"] == pytest.approx(230.0, abs=10)
        # steady 800 W surplus: the router settles near zero grid power, routing about 800 W
        assert abs(w.states["grid_power"]) < 200
        assert 400 < w.states["routed_power"] < 1200
        await w.disconnect()

    run(body())


def test_entities_as_home_assistant_reads_them(gateway):
    """Classes, units and what is enabled by default, from the entity list HA's client receives."""
    async def body():
        w = await ApiWatcher(gateway.api_port).connect()
        await w.disconnect()
        return w.infos

    infos = run(body())
    from aioesphomeapi import SensorStateClass

    for energy in ("routed_energy", "routed_energy_today", "grid_import_energy", "grid_export_energy"):
        info = infos[energy]
        assert (info.unit_of_measurement, info.device_class) == ("kWh", "energy"), energy
        assert info.state_class == SensorStateClass.TOTAL_INCREASING, energy
        assert not info.disabled_by_default, energy
    assert infos["firing_delay"].device_class == "duration"
    assert infos["firing_delay"].unit_of_measurement == "\u03bcs"  # HA's UnitOfTime.MICROSECONDS
    assert infos["channel_1_saturated"].device_class == "running"
    disabled = {k for k, i in infos.items() if i.disabled_by_default}
    assert disabled == {"energy_in_bucket", "firing_delay", "min_routable_power", "sample_pairs_per_cycle",
                        "frames_received", "frames_rejected",
                        "commands_accepted"}, disabled  # common/gateway-commands.yaml: grows every renewal
    for live in ("grid_power", "routed_power", "routed_ratio", "channel_2_ratio", "mains_frequency", "mains_voltage"):
        assert infos[live].state_class == SensorStateClass.MEASUREMENT, live
