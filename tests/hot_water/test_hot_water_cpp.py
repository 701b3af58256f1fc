"""C++ unit tests (GoogleTest, g++) of the hot-water manager's decisions over simulated days
(components/hot_water/water_manager.*): tank model, deadline, maximum temperature, sensor loss,
anti-legionella. Work in progress for issue 12: not wired to ESPHome yet."""
import subprocess

from testbed.esphome_host import REPO
from testbed.gateway_harness import build_native

HOT_WATER = REPO / "components" / "hot_water"


def test_hot_water_manager_unit_tests():
    binary = build_native("test_water_manager", [HOT_WATER / "water_manager.cpp",
                                                 REPO / "tests" / "hot_water" / "cpp" / "test_water_manager.cpp"],
                          flags=["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                                 "-I", str(HOT_WATER)],
                          libs=["-lgtest", "-lgtest_main", "-pthread"])
    r = subprocess.run([str(binary), "--gtest_brief=1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "PASSED" in r.stdout and "FAILED" not in r.stdout
