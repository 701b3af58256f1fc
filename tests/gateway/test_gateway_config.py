"""Schema and code generation of the routeur_pv component and the gateway YAML files."""
import re
import subprocess

import pytest

from testbed.gateway_harness import REPO, esphome_cmd, esphome_env
from testbed.esphome_host import SECRETS_EXAMPLE, stage_project

def run_esphome(*args, cwd, data_dir):
    env = esphome_env()
    env["ESPHOME_DATA_DIR"] = str(data_dir)
    return subprocess.run(esphome_cmd(*args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


DEVICE_YAMLS = ["gateway.yaml", "gateway-esp32.yaml", "host/gateway-host.yaml",
                "client.yaml", "client-esp32.yaml", "host/client-host.yaml"]
# every host firmware, the client tests' stand-in for the gateway included
HOST_YAMLS = ["host/gateway-host.yaml", "host/client-host.yaml", "tests/client/sender-host.yaml"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The configs as a user has them after `cp secrets.yaml.example secrets.yaml`."""
    return stage_project(tmp_path_factory.mktemp("gwcfg"))


def test_secrets_example_documents_every_secret(project):
    used = set()
    for name in [*DEVICE_YAMLS, "common/gateway-base.yaml", "common/client-base.yaml"]:
        used |= set(re.findall(r"^[^#\n]*!secret\s+(\w+)", (REPO / name).read_text(), re.M))
    documented = set(re.findall(r"^(\w+):", SECRETS_EXAMPLE.read_text(), re.M))
    assert used, "no !secret found: did the YAML layout change?"
    assert used <= documented, f"undocumented secrets: {used - documented}"
    assert not (REPO / "secrets.yaml").exists() or "secrets.yaml" in (REPO / ".gitignore").read_text()


def test_secrets_example_values_are_obvious_placeholders():
    """Valid for `esphome config`, but plainly not real: REPLACE-ME strings, an all-zero key."""
    import base64

    values = dict(re.findall(r'^(\w+):\s*"([^"]*)"', SECRETS_EXAMPLE.read_text(), re.M))
    assert values
    for key, value in values.items():
        if key.endswith("_encryption_key"):
            assert set(base64.b64decode(value, validate=True)) == {0}, (key, value)
        else:
            assert value.startswith("REPLACE-ME"), (key, value)


def host_macs(cwd, data_dir, yamls) -> dict:
    """`host: mac_address:` of each yaml, as `esphome config` validates it (default included)."""
    macs = {}
    for name in yamls:
        r = run_esphome("config", name, cwd=cwd, data_dir=data_dir)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        m = re.search(r"^host:\n(?:  .*\n)*?  mac_address: (\S+)$", r.stdout, re.M)
        assert m, f"no host: mac_address in the validated {name}:\n{r.stdout[-3000:]}"
        macs[name] = m.group(1).lower()
    return macs


def test_host_firmwares_have_their_own_mac(project, tmp_path):
    """Home Assistant keys ESPHome devices by MAC: with ESPHome's default host MAC, adding the host
    client replaces the host gateway's device. Each host config sets its own, locally administered."""
    (project / "default-mac.yaml").write_text("esphome:\n  name: default-mac\nhost:\n")
    default = host_macs(project, tmp_path, ["default-mac.yaml"])["default-mac.yaml"]
    macs = host_macs(project, tmp_path, HOST_YAMLS)
    assert default not in macs.values(), (default, macs)
    assert len(set(macs.values())) == len(macs), macs
    for name, mac in macs.items():
        first = int(mac.split(":")[0], 16)
        assert first & 0x02 and not first & 0x01, f"{name}: {mac} is not a locally administered unicast MAC"


@pytest.mark.parametrize("yaml_name", DEVICE_YAMLS)
def test_config_valid(project, yaml_name, tmp_path):
    """Every device config passes `esphome config` with the shipped secrets.yaml.example."""
    r = run_esphome("config", yaml_name, cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "Configuration is valid" in r.stdout + r.stderr


@pytest.mark.parametrize("yaml_name,node,esp", [("gateway.yaml", "routeur-pv", True),
                                                ("gateway-esp32.yaml", "routeur-pv-esp32", True),
                                                ("host/gateway-host.yaml", "routeur-pv-host", False)])
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
    # the command line: the host build includes common/gateway-commands.yaml, the ESPs do not (no tx_pin)
    assert ("->set_command_line(true)" in main) == (not esp), yaml_name
    assert ("set_channel1_mode_select(" in main) == (not esp), yaml_name
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


def hub_config(extra: str = "", baud: int = 9600) -> str:
    """A host config with the uart and the routeur_pv hub (extra: more hub options)."""
    return HOST_HEAD + UART.format(baud=baud) + HUB.format(extra=extra)


def check(tmp_path, text):
    (tmp_path / "t.yaml").write_text(text)
    r = run_esphome("config", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data")
    return r.returncode, r.stdout + r.stderr


def test_minimal_config_ok(tmp_path):
    rc, out = check(tmp_path, hub_config("heater_power: 1500 W"))
    assert rc == 0, out[-3000:]


def test_unknown_option_named(tmp_path):
    rc, out = check(tmp_path, hub_config("heater_powr: 2000"))
    assert rc != 0
    assert "heater_powr" in out


def test_missing_uart_named(tmp_path):
    rc, out = check(tmp_path, HOST_HEAD + "routeur_pv:\n  heater_power: 2000\n")
    assert rc != 0
    assert "uart" in out.lower()


def test_wrong_baud_rate_named(tmp_path):
    rc, out = check(tmp_path, hub_config(baud=115200))
    assert rc != 0
    assert "requires baud rate 9600" in out


def test_custom_baud_rate_follows_option(tmp_path):
    rc, out = check(tmp_path, hub_config("baud_rate: 19200", baud=19200))
    assert rc == 0, out[-3000:]


def test_bad_heater_power(tmp_path):
    rc, out = check(tmp_path, hub_config("heater_power: -5"))
    assert rc != 0
    assert "heater_power" in out


def test_routed_power_needs_heater_power(tmp_path):
    text = hub_config() + """
sensor:
  - platform: routeur_pv
    routed_power:
      name: Routed
"""
    rc, out = check(tmp_path, text)
    assert rc != 0
    assert "heater_power" in out and "routed_power" in out


def test_legacy_api_refused_on_host(tmp_path):
    rc, out = check(tmp_path, hub_config("legacy_api: true"))
    assert rc != 0
    assert "legacy_api" in out


def test_unknown_sensor_key_named(tmp_path):
    text = hub_config() + """
sensor:
  - platform: routeur_pv
    grid_powr:
      name: Grid
"""
    rc, out = check(tmp_path, text)
    assert rc != 0
    assert "grid_powr" in out


def test_negative_min_change_named(tmp_path):
    text = hub_config("heater_power: 2000") + """
sensor:
  - platform: routeur_pv
    grid_power:
      name: Grid
      min_change: -3
"""
    rc, out = check(tmp_path, text)
    assert rc != 0
    assert "min_change" in out


def test_routed_energy_today_needs_a_clock(tmp_path):
    text = hub_config() + """
sensor:
  - platform: routeur_pv
    routed_energy_today:
      name: Today
"""
    rc, out = check(tmp_path, text)
    assert rc != 0
    assert "time" in out.lower(), out[-2000:]
    rc, out = check(tmp_path, text + "time:\n  - platform: host\n")
    assert rc == 0, out[-3000:]


def test_energy_update_interval_is_bounded(tmp_path):
    rc, out = check(tmp_path, hub_config("energy_update_interval: 2h"))
    assert rc != 0
    assert "energy_update_interval" in out


# ---------------------------------------------------------------------------- the command line
ESP_HEAD = f"""
esphome:
  name: cfgtest
esp8266:
  board: d1_mini
external_components:
  - source:
      type: local
      path: {REPO / 'components'}
    components: [routeur_pv]
logger:
wifi:                       # the hub loads web_server_base on ESP targets, which needs a network
  ssid: test
  password: "test-password"
uart:
  id: bus
  rx_pin: GPIO5
  baud_rate: 9600
routeur_pv:
  id: hub
  uart_id: bus
  legacy_api: false
"""


def esp_config(extra: str = "", tx_pin: bool = False) -> str:
    """An ESP8266 config with the hub on a software uart (RX on GPIO5, TX on GPIO4 if tx_pin)."""
    head = ESP_HEAD.replace("  rx_pin: GPIO5\n", "  rx_pin: GPIO5\n  tx_pin: GPIO4\n") if tx_pin else ESP_HEAD
    return head + extra


COMMAND_USES = {
    "select": """
select:
  - platform: routeur_pv
    channel1_mode:
      name: Mode
""",
    "number": """
number:
  - platform: routeur_pv
    heater_power:
      name: Heater
""",
    "action": """
interval:
  - interval: 1h
    then:
      - routeur_pv.boost:
          power: 80%
          duration: 30min
""",
}


def with_package(text: str, tx_pin: str | None) -> str:
    """A device config of the project with common/gateway-commands.yaml, and tx_pin if given."""
    base = "  base: !include common/gateway-base.yaml\n"
    text = text.replace(base, base + "  commands: !include common/gateway-commands.yaml\n")
    assert "gateway-commands.yaml" in text
    if tx_pin:
        text = re.sub(r"^  # tx_pin: \S+.*$", f"  tx_pin: {tx_pin}", text, flags=re.M)
        assert f"  tx_pin: {tx_pin}" in text, "no commented tx_pin line to enable"
    return text


@pytest.mark.parametrize("yaml_name,node,tx_pin", [("gateway.yaml", "routeur-pv", "GPIO4"),
                                                   ("gateway-esp32.yaml", "routeur-pv-esp32", "GPIO17")])
def test_commands_package_with_tx_pin_generates(project, yaml_name, node, tx_pin, tmp_path):
    """The documented change: uncomment tx_pin, include the package."""
    (project / f"cmd-{yaml_name}").write_text(with_package((project / yaml_name).read_text(), tx_pin))
    r = run_esphome("compile", "--only-generate", f"cmd-{yaml_name}", cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    main = (tmp_path / "build" / node / "src" / "main.cpp").read_text()
    for expected in ["routeur->set_command_line(true)", "->set_tx_pin(", "routeur->set_channel1_mode_select(",
                     "routeur->set_setting_number(routeur_pv::SETTING_HEATER, ",
                     "routeur->set_setting_number(routeur_pv::SETTING_CURRENT_CAL, ",
                     "routeur->set_channel1_lease_sensor(", "routeur->set_settings_checksum_sensor(",
                     "routeur->set_channel1_mode_text_sensor(", "routeur->set_status_flag_binary_sensor(5, ",
                     "->set_kind(routeur_pv::BoostNumber::POWER)"]:
        assert expected in main, f"{expected!r} missing from {yaml_name}'s main.cpp"


@pytest.mark.parametrize("yaml_name", ["gateway.yaml", "gateway-esp32.yaml"])
def test_commands_package_without_tx_pin_names_it(project, yaml_name, tmp_path):
    (project / f"notx-{yaml_name}").write_text(with_package((project / yaml_name).read_text(), None))
    r = run_esphome("config", f"notx-{yaml_name}", cwd=project, data_dir=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "command line to the ATmega" in out and "needs 'tx_pin:' in uart 'atmega_uart'" in out, out[-3000:]
    assert "select channel1_mode" in out and "number heater_power" in out


@pytest.mark.parametrize("use", list(COMMAND_USES))
def test_each_command_user_needs_tx_pin(tmp_path, use):
    rc, out = check(tmp_path, esp_config(COMMAND_USES[use]))
    assert rc != 0
    assert "needs 'tx_pin:' in uart 'bus'" in out, out[-3000:]
    assert (use if use != "action" else "routeur_pv.boost") in out
    rc, out = check(tmp_path, esp_config(COMMAND_USES[use], tx_pin=True))
    assert rc == 0, out[-3000:]


def test_frames_only_config_needs_no_tx_pin(tmp_path):
    """The diagnostics only read frames: no tx_pin needed (they stay unknown without commands)."""
    text = esp_config("""
sensor:
  - platform: routeur_pv
    channel1_lease: {name: Lease}
    commands_refused: {name: Refused}
    settings_checksum: {name: Checksum}
text_sensor:
  - platform: routeur_pv
    channel1_mode: {name: Mode in force}
binary_sensor:
  - platform: routeur_pv
    settings_defaults: {name: Defaults}
""")
    rc, out = check(tmp_path, text)
    assert rc == 0, out[-3000:]


@pytest.mark.parametrize("action,message", [
    ("routeur_pv.boost:\n          power: 150%", "power"),
    ("routeur_pv.boost:\n          duration: 13h", "duration"),
    ("routeur_pv.set_settings:\n          id: hub", "at least one"),
    ("routeur_pv.set_settings:\n          heater_power: 2000 W\n          export_target: 20 W", "export_target"),
    ("routeur_pv.set_settings:\n          heater_power: 200 W", "heater_power"),
    ("routeur_pv.set_settings:\n          voltage_calibration: 12", "voltage_calibration"),
    ("routeur_pv.set_settings:\n          heater_powr: 2000", "heater_powr"),
])
def test_action_options_checked(tmp_path, action, message):
    rc, out = check(tmp_path, esp_config(f"""
interval:
  - interval: 1h
    then:
      - {action}
""", tx_pin=True))
    assert rc != 0
    assert message in out, out[-3000:]


ACTIONS_YAML = """
interval:
  - interval: 1h
    then:
      - routeur_pv.boost:
          power: 80%
          duration: 30min
      - routeur_pv.boost:
          power: !lambda "return id(level).state;"
      - routeur_pv.boost:
      - routeur_pv.stop:
          duration: 10min
      - routeur_pv.stop: hub
      - routeur_pv.auto:
      - routeur_pv.set_settings:
          heater_power: 2500 W
          export_target: 10
          voltage_calibration: 5.12
      - routeur_pv.set_settings:
          current_calibration: !lambda "return id(level).state;"
sensor:
  - platform: template
    id: level
    lambda: "return 50.0;"
"""


def test_actions_generate_their_code(tmp_path):
    (tmp_path / "t.yaml").write_text(esp_config(ACTIONS_YAML, tx_pin=True))
    r = run_esphome("compile", "--only-generate", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    main = (tmp_path / "data" / "build" / "cfgtest" / "src" / "main.cpp").read_text()
    # constants come as stateless lambdas too: "set_power([]() -> float { return 80.0f; })"
    flat = re.sub(r"\s+", " ", main)
    for expected in ["routeur_pv::BoostAction<>()", "set_power([]() -> float { return 80.0f; })",
                     "set_duration([]() -> uint32_t { return 1800000; })", "routeur_pv::StopAction<>()",
                     "set_duration([]() -> uint32_t { return 600000; })", "routeur_pv::AutoAction<>()",
                     "routeur_pv::SetSettingsAction<>()", "set_heater_power([]() -> float { return 2500.0f; })",
                     "set_export_target([]() -> float { return 10.0f; })",
                     "set_voltage_calibration([]() -> float { return 5.12f; })", "->set_current_calibration(",
                     "return level->state;", "->set_parent(hub)", "hub->set_command_line(true)", "->set_tx_pin("]:
        assert expected in flat, f"{expected!r} missing from main.cpp"
    assert "set_power([]() -> float { return 100.0f; })" in flat  # power absent: 100 %


def test_python_settings_table_is_the_cpp_one():
    """number.py and the actions (SETTINGS) check what command_link.cpp's table says the ATmega takes
    (itself checked against the ATmega's by the C++ tests)."""
    from components.routeur_pv import SETTINGS  # noqa: PLC0415

    cpp = (REPO / "components" / "routeur_pv" / "command_link.cpp").read_text()
    rows = re.findall(r'\{"(\w{3})", FIELD_\w+, (-?\d+), (-?\d+), ([\d.]+)f\}', cpp)
    assert len(rows) == len(SETTINGS) == 5
    for (key, low, high, unit), (name, (setting, py_low, py_high, step, _)) in zip(rows, SETTINGS.items()):
        assert (float(py_low), float(py_high)) == pytest.approx((int(low) * float(unit), int(high) * float(unit))), name
        assert step == pytest.approx(float(unit)), name
