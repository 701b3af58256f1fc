"""Host builds of the hot-water manager's pure C++ (components/hot_water/water_manager.*) with the
simulated house of tests/hot_water/cpp/house.*: the GoogleTest suite and the benchmark."""
from pathlib import Path

from testbed.esphome_host import REPO
from testbed.gateway_harness import build_native

HOT_WATER = REPO / "components" / "hot_water"
HOUSE_DIR = REPO / "tests" / "hot_water" / "cpp"
MANAGER_SOURCES = [HOT_WATER / "water_manager.cpp", HOUSE_DIR / "house.cpp"]
HEADERS = [HOT_WATER / "water_manager.h", HOUSE_DIR / "house.h"]


def build_hot_water_tests() -> Path:
    return build_native("test_water_manager", [*MANAGER_SOURCES, HOUSE_DIR / "test_water_manager.cpp"],
                        flags=["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                               "-I", str(HOT_WATER)],
                        libs=["-lgtest", "-lgtest_main", "-pthread"], deps=HEADERS)


def build_hot_water_bench() -> Path:
    return build_native("bench_hot_water", [*MANAGER_SOURCES, HOUSE_DIR / "bench_hot_water.cpp"],
                        flags=["-O2", "-I", str(HOT_WATER)], deps=HEADERS)
