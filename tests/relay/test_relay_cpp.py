"""C++ unit tests (GoogleTest, g++) of the relay stage's decisions over simulated hours and days
(components/pv_relay/relay_stage.*): the on-delay, the import threshold, the minimum on and off
times under a sawtooth surplus, unknown data, the daily minimum runtime and the user's mode."""
import subprocess

from testbed.relay import build_relay_tests


def test_relay_stage_unit_tests():
    r = subprocess.run([str(build_relay_tests()), "--gtest_brief=1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert "PASSED" in r.stdout and "FAILED" not in r.stdout
