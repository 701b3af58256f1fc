"""components/sim_sensor: a host firmware's sensor reading a file the simulator rewrites (sim/pvsim
--tank-out). Built as a tiny host yaml, run, and watched through aioesphomeapi as Home Assistant does:
the file's value, its changes, unknown when the file is missing, holds no number or is older than
max_age, and back again; fed by the simulator itself; and refused on ESP targets."""
import asyncio
import math
import os
import subprocess
import time

import pytest

from testbed.esphome_host import REPO, ApiWatcher, HostFirmware, compile_host, esphome
from testbed.simrun import PVSIM, ROOT, write_scenario

NODE = "sim-sensor-test"
ENV_PREFIX = "SIM_SENSOR_TEST"  # <prefix>_API_PORT, _OTA_PORT (HostFirmware), _PATH (below)
MAX_AGE_S = 10
SENSOR = """
sensor:
  - platform: sim_sensor
    id: tank_temperature
    name: "Tank temperature"
    path: {path}
    max_age: {max_age}s
    update_interval: {interval}
    unit_of_measurement: "°C"
    device_class: temperature
    state_class: measurement
    accuracy_decimals: 2
"""
COMPONENTS = f"""
external_components:
  - source:
      type: local
      path: {REPO / 'components'}
    components: [sim_sensor]
"""
# The path comes from the environment at boot (set_path), so one build serves every test's tmp_path.
HOST_YAML = f"""
esphome:
  name: {NODE}
  on_boot:
    priority: 1100
    then:
      - lambda: |-
          const char *api_port = getenv("{ENV_PREFIX}_API_PORT");
          if (api_port != nullptr && atoi(api_port) > 0)
            id(api_server).set_port(atoi(api_port));
          const char *path = getenv("{ENV_PREFIX}_PATH");
          if (path != nullptr && path[0] != '\\0')
            id(tank_temperature).set_path(path);

host:
  mac_address: "02:52:50:00:00:09"

logger:
  level: DEBUG

api:
  id: api_server
  port: 6070
  reboot_timeout: 0s
""" + COMPONENTS + SENSOR.format(path="/nonexistent/sim-sensor-test.txt", max_age=MAX_AGE_S, interval="0.25s")


def write_atomically(path, text):
    """As the simulator does: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def is_value(x, want, tol=0.005):
    return isinstance(x, float) and not math.isnan(x) and abs(x - want) <= tol


def is_unknown(x):
    return isinstance(x, float) and math.isnan(x)


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    yaml = tmp_path_factory.mktemp("sim_sensor_build") / f"{NODE}.yaml"
    yaml.write_text(HOST_YAML)
    return compile_host(yaml, NODE)


def start_firmware(program, workdir, path):
    firmware = HostFirmware(program, workdir, NODE, env_prefix=ENV_PREFIX)
    firmware.env[f"{ENV_PREFIX}_PATH"] = str(path)
    return firmware.start()


@pytest.mark.slow
def test_sensor_follows_the_file_and_goes_unknown(program, tmp_path):
    path = tmp_path / "tank.txt"
    write_atomically(path, "52.25\n")
    firmware = start_firmware(program, tmp_path / "fw", path)
    try:
        async def scenario():
            w = await ApiWatcher(firmware.api_port).connect()
            try:
                info = w.infos["tank_temperature"]
                assert info.unit_of_measurement == "°C" and info.accuracy_decimals == 2
                assert await w.wait_for(lambda st: is_value(st.get("tank_temperature"), 52.25), 5), w.states
                # a change is followed
                write_atomically(path, "61.5\n")
                assert await w.wait_for(lambda st: is_value(st.get("tank_temperature"), 61.5), 3), w.states
                # the first number is the value, whatever follows it
                write_atomically(path, "  -3.75 C and more\n")
                assert await w.wait_for(lambda st: is_value(st.get("tank_temperature"), -3.75), 3), w.states
                # file gone: unknown, then back
                path.unlink()
                assert await w.wait_for(lambda st: is_unknown(st.get("tank_temperature")), 3), w.states
                write_atomically(path, "48.00\n")
                assert await w.wait_for(lambda st: is_value(st.get("tank_temperature"), 48.0), 3), w.states
                # not a (finite) number: unknown
                for junk in ("abc\n", "", "nan\n", "inf\n"):
                    write_atomically(path, junk)
                    assert await w.wait_for(lambda st: is_unknown(st.get("tank_temperature")), 3), (junk, w.states)
                    write_atomically(path, "47.5\n")
                    assert await w.wait_for(lambda st: is_value(st.get("tank_temperature"), 47.5), 3), w.states
                # written longer ago than max_age (the simulator stopped): unknown; within it: still valid
                now = time.time()
                os.utime(path, (now - MAX_AGE_S + 4, now - MAX_AGE_S + 4))
                await asyncio.sleep(1.0)  # four updates
                assert is_value(w.states.get("tank_temperature"), 47.5), w.states
                os.utime(path, (now - MAX_AGE_S - 2, now - MAX_AGE_S - 2))
                assert await w.wait_for(lambda st: is_unknown(st.get("tank_temperature")), 3), w.states
                # rewritten: fresh again
                write_atomically(path, "47.5\n")
                assert await w.wait_for(lambda st: is_value(st.get("tank_temperature"), 47.5), 3), w.states
            finally:
                await w.disconnect()

        asyncio.run(scenario())
    finally:
        firmware.stop()
    log = firmware.log()
    assert "sim_sensor" in log and "file missing" in log and "file too old" in log, log[-3000:]


@pytest.mark.slow
def test_sensor_reads_the_simulated_tank(program, tmp_path):
    """The real chain: sim/pvsim in real time heats a 5 L tank and writes --tank-out; the sensor shows it."""
    subprocess.run(["make", "-s", "-C", str(ROOT / "sim"), "all", "testfw"], check=True)
    path = tmp_path / "tank.txt"
    scenario = write_scenario(tmp_path / "s.csv", [{"t_s": 0, "pv_w": 2500, "house_w": 500, "ch1_w": 2000}])
    firmware = start_firmware(program, tmp_path / "fw", path)
    sim = None
    try:
        async def scenario_run():
            nonlocal sim
            w = await ApiWatcher(firmware.api_port).connect()
            try:
                assert await w.wait_for(lambda st: is_unknown(st.get("tank_temperature")), 3), w.states
                sim = subprocess.Popen([str(PVSIM), "--elf", str(ROOT / "sim" / "build" / "testfw.elf"),
                                        "--scenario", str(scenario), "--seconds", "6", "--realtime",
                                        "--tank-litres", "5", "--tank-c", "40", "--tank-out", str(path)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                assert await w.wait_for(lambda st: is_value(st.get("tank_temperature"), 40.0), 5), w.states
                # ~1.7 kW into 5 L: +0.08 K a second, shown as the simulator writes it
                assert await w.wait_for(lambda st: is_value(st.get("tank_temperature"), 40.2, 0.1), 6), w.states
                shown = w.states["tank_temperature"]
                assert abs(shown - float(path.read_text())) <= 0.1, (shown, path.read_text())
                assert sim.wait(timeout=20) == 0
            finally:
                await w.disconnect()

        asyncio.run(scenario_run())
    finally:
        if sim is not None and sim.poll() is None:
            sim.kill()
            sim.wait()
        firmware.stop()


def config_check(tmp_path, head, sensor=None):
    text = head + COMPONENTS + (sensor or SENSOR.format(path="/tmp/tank.txt", max_age=10, interval="1s"))
    (tmp_path / "t.yaml").write_text(text)
    r = esphome("config", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data", timeout=300)
    return r.returncode, r.stdout + r.stderr


HOST_HEAD = "esphome:\n  name: cfgtest\nhost:\nlogger:\n"


def test_config_valid_on_host(tmp_path):
    rc, out = config_check(tmp_path, HOST_HEAD)
    assert rc == 0, out[-3000:]
    assert "path: /tmp/tank.txt" in out and "max_age: 10s" in out


def test_config_default_max_age_and_interval(tmp_path):
    sensor = "sensor:\n  - platform: sim_sensor\n    name: Tank\n    path: /tmp/tank.txt\n"
    rc, out = config_check(tmp_path, HOST_HEAD, sensor)
    assert rc == 0, out[-3000:]
    assert "max_age: 10s" in out and "update_interval: 1s" in out, out[-3000:]


def test_config_needs_a_path(tmp_path):
    rc, out = config_check(tmp_path, HOST_HEAD, "sensor:\n  - platform: sim_sensor\n    name: Tank\n")
    assert rc != 0
    assert "path" in out


def test_config_refuses_a_zero_max_age(tmp_path):
    rc, out = config_check(tmp_path, HOST_HEAD, SENSOR.format(path="/tmp/tank.txt", max_age=0, interval="1s"))
    assert rc != 0
    assert "max_age" in out, out[-3000:]


@pytest.mark.parametrize("target", ["esp8266:\n  board: d1_mini\n", "esp32:\n  board: esp32dev\n"])
def test_config_refused_on_esp(tmp_path, target):
    rc, out = config_check(tmp_path, "esphome:\n  name: cfgtest\n" + target + "logger:\n")
    assert rc != 0
    assert "sim_sensor reads a simulator's file: host platform only" in out, out[-3000:]
