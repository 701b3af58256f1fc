"""pv_client end to end on the host: the client firmware (host/client-host.yaml) receives the channel-2
ratio over encrypted UDP packet_transport, from a stand-in sender (tests/client/sender-host.yaml)
and from the real host gateway (host/gateway-host.yaml) fed frames through a pty. Observed and
commanded through aioesphomeapi, as Home Assistant does."""
import asyncio
import math
import time

import pytest

from testbed import client_harness as ch

gh = ch.gh
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def client_program():
    return ch.build_client_host()


@pytest.fixture(scope="session")
def sender_program():
    return ch.build_sender_host()


def run(coro):
    return asyncio.run(coro)


def close(a, b, tol=0.5):
    return isinstance(a, float) and not math.isnan(a) and abs(a - b) <= tol


async def set_number(w, object_id, value):
    w.client.number_command(w.infos[object_id].key, value)


async def set_select(w, object_id, option):
    w.client.select_command(w.infos[object_id].key, option)


def test_client_follows_sender_manual_modes_timeout(client_program, sender_program, tmp_path):
    udp = ch.free_udp_port()
    client = ch.start_client(client_program, tmp_path / "client", udp)
    sender = ch.start_sender(sender_program, tmp_path / "sender", udp)
    try:
        async def scenario():
            c = await ch.ApiWatcher(client.api_port).connect()
            s = await ch.ApiWatcher(sender.api_port).connect()
            try:
                # the ratio follows the sender
                await set_number(s, "ratio", 30)
                # level and routed power are published together, but without API batching they
                # arrive as separate messages: wait for both rather than read one after the other
                assert await c.wait_for(lambda st: close(st.get("level"), 30)
                                        and close(st.get("routed_power"), 0.30 * ch.LOAD_POWER_W, 1), 5), c.states
                assert await c.wait_for(lambda st: st.get("ratio_stale") is False, 3), c.states
                # the simulated heater takes what the gate timing delivers (published every mains cycle)
                assert await c.wait_for(lambda st: close(st.get("simulated_heater_power"), 0.30 * ch.LOAD_POWER_W, 0.006 * ch.LOAD_POWER_W), 4), c.states
                # manual ratio: max(router, manual) in auto
                await set_number(c, "manual_ratio", 50)
                assert await c.wait_for(lambda st: close(st.get("level"), 50), 3), c.states
                await set_number(s, "ratio", 70)
                assert await c.wait_for(lambda st: close(st.get("level"), 70), 5), c.states
                # forced: the manual ratio whatever the router says; off: 0
                await set_select(c, "mode", "forced")
                assert await c.wait_for(lambda st: close(st.get("level"), 50) and st.get("mode") == "forced", 3)
                await set_select(c, "mode", "off")
                assert await c.wait_for(lambda st: close(st.get("level"), 0), 3), c.states
                assert await c.wait_for(lambda st: close(st.get("simulated_heater_power"), 0, 1), 4), c.states
                await set_select(c, "mode", "auto")
                assert await c.wait_for(lambda st: close(st.get("level"), 70), 3), c.states
                # the gateway stops: level 0 after the 5 s timeout, and the binary sensor says so
                sender.pause()
                t0 = time.monotonic()
                assert await c.wait_for(lambda st: close(st.get("level"), 0) and st.get("ratio_stale") is True, 9)
                dt = time.monotonic() - t0
                assert 4.0 <= dt <= 7.5, f"dropped after {dt:.1f} s (timeout 5 s)"
                # ... and recovers
                sender.resume()
                assert await c.wait_for(lambda st: close(st.get("level"), 70) and st.get("ratio_stale") is False, 5)
            finally:
                await c.disconnect()
                await s.disconnect()

        run(scenario())
    finally:
        sender.stop()
        client.stop()
    assert "pv_client" in client.log()


def test_client_follows_real_gateway_frames(client_program, tmp_path):
    """host/gateway-host.yaml fed frames through a pty; it broadcasts channel2_ratio over UDP."""
    gateway_program = gh.build_host_firmware()
    udp = ch.free_udp_port()
    client = ch.start_client(client_program, tmp_path / "client", udp)
    try:
        with ch.start_gateway(gateway_program, tmp_path / "gateway", udp) as gw:
            async def scenario():
                c = await ch.ApiWatcher(client.api_port).connect()
                try:
                    for vo2 in (0, 40, 85, 20):
                        fields = [(k, v) for k, v in gh.OUR_FIELDS if k != "VO2"] + [("VO2", str(vo2))]
                        deadline = time.monotonic() + 6
                        ok = False
                        while time.monotonic() < deadline and not ok:
                            gw.write(gh.make_frame(fields))  # one frame a second, as the ATmega
                            ok = await c.wait_for(
                                lambda st: close(st.get("level"), vo2) and st.get("ratio_stale") is False, 1.0)
                        assert ok, f"VO2 {vo2}: client states {c.states}\n{gw.log()[-2000:]}"
                    # frames stop: the gateway's link times out and the client drops to 0
                    assert await c.wait_for(lambda st: close(st.get("level"), 0) and st.get("ratio_stale") is True, 12)
                    # frames resume: recovers
                    fields = [(k, v) for k, v in gh.OUR_FIELDS if k != "VO2"] + [("VO2", "60")]
                    ok = False
                    deadline = time.monotonic() + 8
                    while time.monotonic() < deadline and not ok:
                        gw.write(gh.make_frame(fields))
                        ok = await c.wait_for(lambda st: close(st.get("level"), 60), 1.0)
                    assert ok, c.states
                finally:
                    await c.disconnect()

            run(scenario())
    finally:
        client.stop()


def test_client_entities_for_home_assistant(client_program, tmp_path):
    """What Home Assistant reads from the entity list: the received ratio keeps statistics (unit,
    state class, precision), the routed power and energy have icons."""
    client = ch.start_client(client_program, tmp_path / "client", ch.free_udp_port())
    try:
        async def scenario():
            c = await ch.ApiWatcher(client.api_port).connect()
            try:
                return dict(c.infos)
            finally:
                await c.disconnect()

        infos = run(scenario())
    finally:
        client.stop()
    from aioesphomeapi import SensorStateClass

    ratio = infos["gateway_channel_2_ratio"]
    assert ratio.unit_of_measurement == "%"
    assert ratio.state_class == SensorStateClass.MEASUREMENT
    assert ratio.accuracy_decimals == 0
    assert ratio.icon.startswith("mdi:")
    for object_id in ("routed_power", "routed_energy"):
        assert infos[object_id].icon.startswith("mdi:"), object_id


def _api_frame(msg_type: int, msg) -> bytes:
    """A plaintext native-API frame: 0x00, varint length, varint type, protobuf."""
    def varint(n: int) -> bytes:
        out = b""
        while True:
            b, n = n & 0x7F, n >> 7
            if not n:
                return out + bytes([b])
            out += bytes([b | 0x80])

    data = msg.SerializeToString()
    return b"\0" + varint(len(data)) + varint(msg_type) + data


def test_client_survives_a_peer_dropping_its_socket(client_program, tmp_path):
    """A peer (Home Assistant restarting) closes its API socket while the firmware is about to send:
    writes to a socket the peer has closed raise SIGPIPE, which must not kill the process. Made
    deterministic: the firmware is paused while the peer closes, and on resume its overdue 1 s
    update() sends several states before the API reads the end of the stream."""
    import socket

    from aioesphomeapi import api_pb2 as pb

    client = ch.start_client(client_program, tmp_path / "client", ch.free_udp_port())
    try:
        for attempt in range(3):
            s = socket.create_connection(("127.0.0.1", client.api_port))
            s.sendall(_api_frame(1, pb.HelloRequest(client_info="peer", api_version_major=1, api_version_minor=14)))
            s.sendall(_api_frame(20, pb.SubscribeStatesRequest()))
            time.sleep(0.3)
            client.pause()
            try:
                time.sleep(0.2)
                s.setblocking(False)
                try:
                    while s.recv(65536):
                        pass
                except BlockingIOError:
                    pass
                s.close()  # FIN with nothing unread: the firmware's end sits in CLOSE_WAIT
                time.sleep(1.2)
            finally:
                client.resume()
            time.sleep(0.3)
            assert client.alive(), f"attempt {attempt}: exited {client.proc.returncode}\n{client.log()[-2000:]}"

        # and it still serves a client
        async def scenario():
            c = await ch.ApiWatcher(client.api_port).connect()
            try:
                assert await c.wait_for(lambda st: "level" in st, 5)
            finally:
                await c.disconnect()

        run(scenario())
    finally:
        client.stop()
