"""The gateway's commands on the real ATmega firmware's RX, in the simulated house (sim/pvsim
--rx-input, --eeprom): boosts and stops as leases, persistent settings, and RX garbage that must
disturb neither sampling nor firing (issue 11). Every figure is simulated, hence deterministic."""
import random

import pytest
from testbed.gateway_harness import make_frame
from testbed.simrun import RATED_HEATER_W, good_frames, write_rx_script

pytestmark = pytest.mark.slow

SETTINGS_DEFAULT = 32  # STA bit: the EEPROM held no valid settings (docs/interfaces.md)
MODE_AUTO, MODE_BOOST, MODE_STOP = 0, 1, 2


def command(*fields) -> bytes:
    """A command line: the frames' own codec (KEY>value;...;$crc CR LF)."""
    return make_frame([(k, str(v)) for k, v in fields])


def steady_rows(pv, house):
    return [{"t_s": 0, "pv_w": pv, "house_w": house, "ch1_w": RATED_HEATER_W, "ch2_w": 1000}]


def second(summary, t):
    return summary["per_second"][t]


def frames_between(summary, start, end):
    return [f for f in good_frames(summary) if start <= f["t"] < end]


@pytest.fixture(scope="module")
def boost_while_importing(simulate, tmp_path_factory):
    """House importing 300 W; the gateway boosts at 60 % from t = 3 s, renewing its 5-s lease every
    2 s until t = 9 s, then falls silent."""
    script = write_rx_script(tmp_path_factory.mktemp("rx") / "boost.txt",
                             [(t, command(("BST", 60), ("LSE", 5))) for t in (3, 5, 7, 9)])
    return simulate(steady_rows(0, 300), seconds=20, rx_input=script)


def test_boost_fires_channel_1_at_the_asked_power_while_importing(boost_while_importing):
    s = boost_while_importing
    for t in range(4, 13):
        assert second(s, t)["ch1_w"] == pytest.approx(0.60 * RATED_HEATER_W, rel=0.03), second(s, t)
        assert second(s, t)["grid_w"] > 1000  # importing: the boost, not a surplus, fires it
    for frame in frames_between(s, 4, 13):
        assert frame["fields"]["MOD"] == MODE_BOOST and 1 <= frame["fields"]["LSR"] <= 5, frame
    assert s["gate_error_us"]["max_abs"] <= 20.0 and s["straddles"] == 0
    assert s["rx_bytes_pending"] == 0


def test_boost_lease_ends_and_the_router_is_back_to_solar_routing(boost_while_importing):
    s = boost_while_importing
    assert second(s, 3 + 5 + 5)["ch1_w"] > 1000  # t = 13..14 s: the last lease (from 9 s) holds
    for t in range(15, 19):  # the lease bound passed: importing, so nothing fires
        assert second(s, t)["ch1_w"] < 5.0, second(s, t)
    for frame in frames_between(s, 15, 20):
        assert frame["fields"]["MOD"] == MODE_AUTO and frame["fields"]["LSR"] == 0, frame
        assert frame["fields"]["CAC"] == 4 and frame["fields"]["CRJ"] == 0, frame


def test_stop_holds_channel_1_at_zero_while_the_surplus_goes_to_channel_2(simulate, tmp_path_factory):
    script = write_rx_script(tmp_path_factory.mktemp("rx") / "stop.txt",
                             [(t, command(("STP", 1), ("LSE", 5))) for t in range(2, 19, 2)])
    s = simulate(steady_rows(1300, 500), seconds=30, rx_input=script)  # 800 W surplus
    for t in range(3, 22):
        assert second(s, t)["ch1_w"] < 1.0, second(s, t)
    for t in range(10, 22):
        assert second(s, t)["ch2_w"] >= 700, second(s, t)  # channel 2 (1000 W) takes the surplus
        assert second(s, t)["grid_w"] < 20, second(s, t)  # and nothing is imported for it
    assert all(f["fields"]["MOD"] == MODE_STOP for f in frames_between(s, 3, 22))
    assert all(f["fields"]["MOD"] == MODE_AUTO for f in frames_between(s, 25, 30))


def settings_fields(frames):
    """The settings each frame carried (one per frame, in turn), merged."""
    seen = {}
    for frame in frames:
        for key in ("HTR", "DIM", "EXT", "VCL", "ICL"):
            if key in frame["fields"]:
                seen[key] = frame["fields"][key]
    return seen


def test_settings_are_stored_and_survive_a_reset(simulate, tmp_path_factory):
    work = tmp_path_factory.mktemp("settings")
    eeprom = work / "eeprom.bin"  # absent: a new chip's blank EEPROM
    script = write_rx_script(work / "set.txt", [(2, command(("HTR", 2500), ("EXT", 10)))])
    first = simulate(steady_rows(1300, 500), seconds=12, rx_input=script, eeprom=eeprom)
    assert not first["eeprom_loaded"]
    before = frames_between(first, 0, 2)
    assert before and all(f["fields"]["STA"] & SETTINGS_DEFAULT for f in before)
    assert all(f["fields"]["MPC"] == 20.0 for f in before)
    after = frames_between(first, 3, 12)
    assert all(not f["fields"]["STA"] & SETTINGS_DEFAULT for f in after), after
    assert all(f["fields"]["MPC"] == 25.0 and f["fields"]["CAC"] == 1 for f in after)  # 1 % of 2500 W
    assert settings_fields(after) == {"HTR": 2500, "DIM": 1000, "EXT": 10, "VCL": 500, "ICL": 400}
    assert len({f["fields"]["SCS"] for f in after}) == 1
    # A reset: the same EEPROM, no command at all.
    again = simulate(steady_rows(1300, 500), seconds=6, eeprom=eeprom)
    assert again["eeprom_loaded"]
    frames = good_frames(again)
    assert frames and all(f["fields"]["MPC"] == 25.0 and not f["fields"]["STA"] & SETTINGS_DEFAULT
                          for f in frames)


def test_corrupt_eeprom_boots_on_the_defaults_and_says_so(simulate, tmp_path_factory):
    eeprom = tmp_path_factory.mktemp("corrupt") / "eeprom.bin"
    eeprom.write_bytes(random.Random(11).randbytes(1024))
    s = simulate(steady_rows(1300, 500), seconds=6, eeprom=eeprom)
    frames = good_frames(s)
    assert frames and all(f["fields"]["STA"] & SETTINGS_DEFAULT and f["fields"]["MPC"] == 20.0 for f in frames)
    assert second(s, 4)["ch1_w"] == pytest.approx(800, abs=40)  # and routes on them


def test_bad_commands_are_counted_and_change_nothing(simulate, tmp_path_factory):
    good = command(("BST", 60), ("LSE", 5))
    bad = [good.replace(b"$", b"$1"),            # wrong CRC
           command(("BST", 150), ("LSE", 5)),    # above the heater's rating
           command(("BST", 60), ("LSE", 60)),    # lease longer than 30 s
           command(("HTR", 100)),                # heater below the range
           command(("EXT", -5)),                 # an import target
           command(("XYZ", 1)),                  # unknown key
           b"\x00\xffgarbage\r\n"]
    script = write_rx_script(tmp_path_factory.mktemp("rx") / "bad.txt",
                             [(2 + 0.2 * k, line) for k, line in enumerate(bad)])
    s = simulate(steady_rows(1300, 500), seconds=10, rx_input=script)
    last = good_frames(s)[-1]["fields"]
    assert last["CRJ"] == len(bad) and last["CAC"] == 0 and last["MOD"] == MODE_AUTO, last
    assert last["MPC"] == 20.0 and last["STA"] & SETTINGS_DEFAULT
    for t in range(4, 9):
        assert second(s, t)["ch1_w"] == pytest.approx(800, abs=40), second(s, t)  # still solar routing


def test_rx_flooded_with_random_bytes_for_a_minute(simulate, tmp_path_factory):
    """Random bytes back to back at 9600 baud for 60 s: sampling, firing and the frames go on."""
    flood = random.Random(7).randbytes(960 * 60)
    script = write_rx_script(tmp_path_factory.mktemp("rx") / "flood.txt", [(1.0, flood)])
    s = simulate(steady_rows(1300, 500), seconds=64, rx_input=script)
    assert s["rx_bytes_delivered"] == len(flood) and s["rx_bytes_pending"] == 0
    assert s["sample_pairs_per_cycle"]["min"] >= 150, s["sample_pairs_per_cycle"]
    assert s["gate_error_us"]["max_abs"] <= 20.0 and s["straddles"] == 0, s["gate_error_us"]
    frames = good_frames(s)
    assert s["frames_bad_crc"] == 0
    gaps = [b["t"] - a["t"] for a, b in zip(frames, frames[1:])]
    assert len(frames) >= 62 and max(gaps) < 1.1, (len(frames), max(gaps))
    assert frames[-1]["fields"]["CRJ"] > 100 and frames[-1]["fields"]["CAC"] == 0
    for t in range(5, 62):
        assert second(s, t)["ch1_w"] == pytest.approx(800, abs=40), second(s, t)
