"""C++ unit tests (GoogleTest, g++) of the frame parser, the legacy JSON rendering, the energy totals,
the change gate of published values, the command lines to the ATmega (against its own parser) and
the allotment of channel 2 to several loads by priority."""
import os
import subprocess

import pytest

from testbed.gateway_harness import ATMEGA_SKETCH, COMPONENT, CPP_DIR, DATA_DIR, PURE_SOURCES, build_native


@pytest.fixture(scope="module")
def gtest_binary():
    return build_native("test_frame_parser", [CPP_DIR / "test_frame_parser.cpp", CPP_DIR / "test_energy_total.cpp",
                                              CPP_DIR / "test_change_gate.cpp", CPP_DIR / "test_command_link.cpp",
                                              CPP_DIR / "test_load_allotter.cpp", COMPONENT / "load_allotter.cpp",
                                              *PURE_SOURCES],
                        flags=["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                               "-I", str(ATMEGA_SKETCH)],
                        libs=["-lgtest", "-lgtest_main", "-pthread"])


def test_cpp_unit_tests(gtest_binary):
    env = dict(os.environ, GATEWAY_TEST_DATA=str(DATA_DIR))
    r = subprocess.run([str(gtest_binary), "--gtest_brief=1"], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "FAILED" not in r.stdout
    assert "PASSED" in r.stdout


@pytest.fixture(scope="module")
def bench_binary():
    return build_native("bench_parser", [CPP_DIR / "bench_parser.cpp", *PURE_SOURCES], flags=["-O2"])


def test_random_corruption_never_publishes_wrong_values(bench_binary):
    """10,000 frames, 1 % of the bytes replaced at random (fixed seed): no wrong value delivered,
    and (almost) every untouched frame still delivered despite its damaged neighbours."""
    import json

    r = subprocess.run([str(bench_binary), "corrupt", "10000", "0.01", "4242"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    stats = json.loads(r.stdout)
    assert stats["corrupted_frames"] > 4000
    assert stats["wrong_published"] == 0, stats
    assert stats["intact_delivered"] >= 0.99 * stats["intact_frames"], stats
