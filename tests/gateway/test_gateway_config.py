"""Schema and code generation of the routeur_pv component and the gateway YAML files."""
import os
import shutil
import subprocess

import pytest

from gateway_harness import REPO, esphome_cmd, esphome_env

SECRETS = """\
wifi_ssid: "test-ssid"
wifi_password: "test-password"
fallback_ap_password: "fallback-pass"
api_encryption_key: "xZ1ZlxvW2yoCJv9vKIHbzU4kDUxjXRxr7DdjuQ8jUkE="
ota_password: "ota-pass"
transport_key: "transport-key"
"""


def run_esphome(*args, cwd, data_dir):
    env = esphome_env()
    env["ESPHOME_DATA_DIR"] = str(data_dir)
    return subprocess.run(esphome_cmd(*args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the gateway YAML files with a throw-away secrets.yaml next to them."""
    d = tmp_path_factory.mktemp("gwcfg")
    for name in ("gateway.yaml", "gateway-esp32.yaml", "gateway-host.yaml"):
        shutil.copy(REPO / name, d / name)
    os.symlink(REPO / "common", d / "common")
    os.symlink(REPO / "components", d / "components")
    (d / "secrets.yaml").write_text(SECRETS)
    return d


def test_secrets_example_documents_every_secret(project):
    import re

    used = set()
    for name in ("gateway.yaml", "gateway-esp32.yaml", "gateway-host.yaml", "common/gateway-base.yaml"):
        used |= set(re.findall(r"^[^#\n]*!secret\s+(\w+)", (REPO / name).read_text(), re.M))
    documented = set(re.findall(r"^(\w+):", (REPO / "secrets.example.yaml").read_text(), re.M))
    assert used, "no !secret found: did the YAML layout change?"
    assert used <= documented, f"undocumented secrets: {used - documented}"
    assert documented <= set(re.findall(r"^(\w+):", SECRETS, re.M))
    assert not (REPO / "secrets.yaml").exists() or "secrets.yaml" in (REPO / ".gitignore").read_text()


@pytest.mark.parametrize("yaml_name", ["gateway.yaml", "gateway-esp32.yaml", "gateway-host.yaml"])
def test_config_valid(project, yaml_name, tmp_path):
    r = run_esphome("config", yaml_name, cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "Configuration is valid" in r.stdout + r.stderr


@pytest.mark.parametrize("yaml_name,node,esp", [("gateway.yaml", "routeur-pv", True),
                                                ("gateway-esp32.yaml", "routeur-pv-esp32", True),
                                                ("gateway-host.yaml", "routeur-pv-host", False)])
def test_generated_code(project, yaml_name, node, esp, tmp_path):
    r = run_esphome("compile", "--only-generate", yaml_name, cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    src = tmp_path / "build" / node / "src"
    main = (src / "main.cpp").read_text()
    for expected in ["routeur_pv::RouteurPvComponent();", "->set_heater_power(2000.0f)",
                     "->set_link_timeout(5000)", "->set_baud_rate(9600)", "->set_uart_parent(atmega_uart",
                     "->set_grid_power_sensor(", "->set_routed_power_sensor(",
                     "->set_channel2_ratio_sensor(", "->set_mains_frequency_sensor(",
                     "->set_mains_voltage_sensor(", "->set_frames_rejected_sensor(",
                     "->set_link_binary_sensor(", "->set_status_flag_binary_sensor(4, ",
                     "->set_status_text_sensor("]:
        assert expected in main, f"{expected!r} missing from {yaml_name}'s main.cpp"
    comp = src / "esphome" / "components" / "routeur_pv"
    defines = (src / "esphome" / "core" / "defines.h").read_text()
    if esp:
        assert "routeur_pv::RouteurPvLegacyApi(web_server_base" in main
        assert (comp / "legacy_api.cpp").exists()
        assert "USE_ROUTEUR_PV_LEGACY_API" in defines
        assert "USE_API_NOISE" in defines  # api encryption
    else:
        assert "RouteurPvLegacyApi" not in main
        assert not (comp / "legacy_api.cpp").exists()  # FILTER_SOURCE_FILES
        assert "USE_ROUTEUR_PV_LEGACY_API" not in defines
    assert (comp / "frame_parser.cpp").exists()


HOST_HEAD = f"""
esphome:
  name: cfgtest
host:
external_components:
  - source:
      type: local
      path: {REPO / 'components'}
    components: [routeur_pv]
logger:
"""
UART = """
uart:
  id: bus
  port: /dev/ttyUSB0
  baud_rate: {baud}
"""
HUB = """
routeur_pv:
  uart_id: bus
  {extra}
"""


def check(tmp_path, text):
    (tmp_path / "t.yaml").write_text(text)
    r = run_esphome("config", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data")
    return r.returncode, r.stdout + r.stderr


def test_minimal_config_ok(tmp_path):
    rc, out = check(tmp_path, HOST_HEAD + UART.format(baud=9600) + HUB.format(extra="heater_power: 1500 W"))
    assert rc == 0, out[-3000:]


def test_unknown_option_named(tmp_path):
    rc, out = check(tmp_path, HOST_HEAD + UART.format(baud=9600) + HUB.format(extra="heater_powr: 2000"))
    assert rc != 0
    assert "heater_powr" in out


def test_missing_uart_named(tmp_path):
    rc, out = check(tmp_path, HOST_HEAD + "routeur_pv:\n  heater_power: 2000\n")
    assert rc != 0
    assert "uart" in out.lower()


def test_wrong_baud_rate_named(tmp_path):
    rc, out = check(tmp_path, HOST_HEAD + UART.format(baud=115200) + HUB.format(extra=""))
    assert rc != 0
    assert "requires baud rate 9600" in out


def test_custom_baud_rate_follows_option(tmp_path):
    rc, out = check(tmp_path, HOST_HEAD + UART.format(baud=19200) + HUB.format(extra="baud_rate: 19200"))
    assert rc == 0, out[-3000:]


def test_bad_heater_power(tmp_path):
    rc, out = check(tmp_path, HOST_HEAD + UART.format(baud=9600) + HUB.format(extra="heater_power: -5"))
    assert rc != 0
    assert "heater_power" in out


def test_routed_power_needs_heater_power(tmp_path):
    text = HOST_HEAD + UART.format(baud=9600) + HUB.format(extra="") + """
sensor:
  - platform: routeur_pv
    routed_power:
      name: Routed
"""
    rc, out = check(tmp_path, text)
    assert rc != 0
    assert "heater_power" in out and "routed_power" in out


def test_legacy_api_refused_on_host(tmp_path):
    rc, out = check(tmp_path, HOST_HEAD + UART.format(baud=9600) + HUB.format(extra="legacy_api: true"))
    assert rc != 0
    assert "legacy_api" in out


def test_unknown_sensor_key_named(tmp_path):
    text = HOST_HEAD + UART.format(baud=9600) + HUB.format(extra="") + """
sensor:
  - platform: routeur_pv
    grid_powr:
      name: Grid
"""
    rc, out = check(tmp_path, text)
    assert rc != 0
    assert "grid_powr" in out
