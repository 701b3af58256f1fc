"""pv_client: GoogleTest unit tests of the component's plain C++ (power curve, gate scheduler with
jitter / spurious / missing zero-cross edges, burst distribution, follow logic, legacy JSON)."""
import subprocess

from testbed import client_harness as ch


def test_pv_client_unit_tests():
    binary = ch.build_cpp("test_pv_client", ch.CPP_DIR / "test_pv_client.cpp")
    r = subprocess.run([str(binary), "--gtest_brief=1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "PASSED" in r.stdout
