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
