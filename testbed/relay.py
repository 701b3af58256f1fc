"""Host builds of the relay stage's pure C++ (components/pv_relay/relay_stage.*): its GoogleTest
suite over simulated days (tests/relay/cpp/)."""
from pathlib import Path

from testbed.esphome_host import REPO
from testbed.gateway_harness import build_native

PV_RELAY = REPO / "components" / "pv_relay"
RELAY_TESTS = REPO / "tests" / "relay" / "cpp"


def build_relay_tests() -> Path:
    return build_native("test_relay_stage", [PV_RELAY / "relay_stage.cpp", RELAY_TESTS / "test_relay_stage.cpp"],
                        flags=["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                               "-I", str(PV_RELAY)],
                        libs=["-lgtest", "-lgtest_main", "-pthread"], deps=[PV_RELAY / "relay_stage.h"])
