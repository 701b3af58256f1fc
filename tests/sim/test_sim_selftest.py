"""The simulator's own checks, on its small test firmware (sim/testfw): ADC mux lag, sampling
instant, gate-edge timing, heater power from the conduction interval, UART frames, clipping."""
import subprocess

from testbed.simrun import ROOT


def test_simulator_self_checks_pass():
    result = subprocess.run(["make", "-s", "-C", str(ROOT / "sim"), "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
