"""C++ unit tests (GoogleTest, g++) of the hot-water manager's decisions over simulated days
(components/hot_water/water_manager.*) on the house of tests/hot_water/cpp/house.*: tank model,
summer and winter deadlines against the least grid energy, a mixed week, maximum temperature, sensor
loss, boost, no clock, energy deadlines, a tariff signal, anti-legionella. The benchmark program
(`make bench` hot_water) builds and prints valid figures."""
import json
import subprocess

from testbed.hot_water import build_hot_water_bench, build_hot_water_tests


def test_hot_water_manager_unit_tests():
    r = subprocess.run([str(build_hot_water_tests()), "--gtest_brief=1"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "PASSED" in r.stdout and "FAILED" not in r.stdout


def test_hot_water_bench_figures():
    figures = json.loads(subprocess.run([str(build_hot_water_bench())], capture_output=True, text=True,
                                        check=True, timeout=300).stdout)
    for case in ("summer", "winter", "week"):
        r = figures[case]
        assert r["deadlines_met"] == r["deadlines_total"] >= 1, (case, r)
        assert r["grid_outside_off_peak_kwh"] == 0.0, (case, r)
        assert r["max_overshoot_c"] <= 0.15, (case, r)
    assert figures["summer"]["grid_kwh"] == 0.0
    assert figures["winter"]["grid_kwh"] <= 1.05 * figures["winter"]["grid_kwh_minimum"]
    assert figures["week"]["legionella_cycles"] >= 1
