"""pv_client: the YAML schema. Bad options fail `esphome config` naming the option; the shipped
client.yaml / client-esp32.yaml / host/client-host.yaml pass `config`, and the ESP variants (plus the
gateway_url variant) pass `compile --only-generate` (the only check possible offline for ESP)."""
import textwrap
from pathlib import Path

import pytest

from testbed import client_harness as ch

HOST_HEAD = """
esphome:
  name: schema-test
host:
external_components:
  - source: {type: local, path: components}
    components: [pv_client]
"""
ESP_HEAD = """
esphome:
  name: schema-test
esp8266:
  board: d1_mini
wifi:
  ssid: x
  password: xxxxxxxx
external_components:
  - source: {type: local, path: components}
    components: [pv_client]
"""
HOST_OUTPUT = """
output:
  - platform: pv_client
    id: dimmer
    load_power: 2000W
"""
ESP_OUTPUT = """
output:
  - platform: pv_client
    id: dimmer
    load_power: 2000W
    gate_pin: GPIO16
    zero_cross_pin: GPIO5
"""
FOLLOW = """
sensor:
  - platform: template
    id: ratio
    lambda: return 0;
pv_client:
  output: dimmer
  ratio_sensor: ratio
"""


def run_config(text: str, name: str):
    d = ch.staged_config_dir()
    path = d / f"schema-{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return ch.esphome("config", path.name, cwd=d, timeout=120)


BAD = [
    ("method", HOST_HEAD + HOST_OUTPUT.replace("load_power: 2000W", "load_power: 2000W\n    method: leading") + FOLLOW),
    ("load_power", HOST_HEAD + HOST_OUTPUT.replace("    load_power: 2000W\n", "") + FOLLOW),
    ("load_power", HOST_HEAD + HOST_OUTPUT.replace("2000W", "-5W") + FOLLOW),
    ("mains_frequency", HOST_HEAD + HOST_OUTPUT + "    mains_frequency: 55\n" + FOLLOW),
    ("gate_pin", HOST_HEAD + HOST_OUTPUT + "    gate_pin: 4\n" + FOLLOW),
    ("zero_cross_pin", ESP_HEAD + ESP_OUTPUT.replace("    zero_cross_pin: GPIO5\n", "") + FOLLOW),
    ("mains_frequency", ESP_HEAD + ESP_OUTPUT + "    mains_frequency: 50\n" + FOLLOW),
    ("zero_cross_offset", HOST_HEAD + HOST_OUTPUT + "    zero_cross_offset: 9000us\n" + FOLLOW),
    ("timeout", HOST_HEAD + HOST_OUTPUT + FOLLOW + "  timeout: 100ms\n"),
    ("gateway_url", HOST_HEAD + HOST_OUTPUT + FOLLOW.replace("ratio_sensor: ratio", "gateway_url: http://192.168.1.10/api/routeur")),
    ("gateway_url", ESP_HEAD + ESP_OUTPUT + FOLLOW.replace("ratio_sensor: ratio", "gateway_url: http://192.168.1.10/api/routeur")),
    ("gateway_timeout", ESP_HEAD + ESP_OUTPUT + FOLLOW + "  gateway_timeout: 1s\n"),
    ("gateway_timeout", ESP_HEAD + "http_request:\n  verify_ssl: false\n" + ESP_OUTPUT + FOLLOW.replace(
        "ratio_sensor: ratio", "gateway_url: http://192.168.1.10/api/routeur\n  gateway_timeout: 50ms")),
    ("legacy_http", HOST_HEAD + HOST_OUTPUT + FOLLOW + "  legacy_http: true\n"),
    ("ratio_sensor", HOST_HEAD + HOST_OUTPUT + FOLLOW + "  gateway_url: http://x/api/routeur\n"),
    ("output", HOST_HEAD + HOST_OUTPUT + FOLLOW.replace("output: dimmer", "output: nothing")),
]


@pytest.mark.parametrize("option,text", BAD, ids=[f"{i}-{b[0]}" for i, b in enumerate(BAD)])
def test_bad_option_is_named(option, text):
    r = run_config(text, f"bad{BAD.index((option, text))}")
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-2000:]
    assert option in out, f"error does not name '{option}':\n{out[-2000:]}"


def test_minimal_host_config_passes():
    r = run_config(HOST_HEAD + HOST_OUTPUT + FOLLOW, "good-host")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> Path:
    """The configs as a user has them after `cp secrets.yaml.example secrets.yaml`, so the example
    itself is what is checked."""
    return ch.stage_project(tmp_path_factory.mktemp("client-shipped"))


@pytest.mark.parametrize("yaml", ["host/client-host.yaml", "client.yaml", "client-esp32.yaml"])
def test_shipped_configs_pass(yaml, shipped):
    r = ch.esphome("config", yaml, cwd=shipped, timeout=120)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("yaml", ["client.yaml", "client-esp32.yaml"])
def test_esp_variants_generate(yaml, shipped):
    r = ch.esphome("compile", "--only-generate", yaml, cwd=shipped, data_dir=ch.CLIENT_BUILD / "esphome-gen",
                   timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    name = "routeur-pv-client" if yaml == "client.yaml" else "routeur-pv-client-esp32"
    src = ch.CLIENT_BUILD / "esphome-gen" / "build" / name / "src"
    main = (src / "main.cpp").read_text()
    assert "pv_client::PvClientOutput" in main and "PvClientLegacyHttp" in main
    comp = src / "esphome" / "components" / "pv_client"
    files = {p.name for p in comp.iterdir()}
    # per-platform sources: only this platform's timer glue, no host simulation
    assert "pv_client_output_host.cpp" not in files and "mains_sim.cpp" not in files
    own = "pv_client_output_esp8266.cpp" if yaml == "client.yaml" else "pv_client_output_esp32.cpp"
    other = "pv_client_output_esp32.cpp" if yaml == "client.yaml" else "pv_client_output_esp8266.cpp"
    assert own in files and other not in files


def test_gateway_url_variant_passes():
    d = ch.staged_config_dir()
    r = ch.esphome("config", f"tests/client/{ch.GATEWAY_URL_YAML.name}", cwd=d, timeout=120)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]


@pytest.mark.slow
def test_gateway_url_variant_generates():
    """Old gateway without packet_transport: poll /api/routeur with http_request (ESP only)."""
    d = ch.staged_config_dir()
    r = ch.esphome("compile", "--only-generate", f"tests/client/{ch.GATEWAY_URL_YAML.name}", cwd=d,
                   data_dir=ch.CLIENT_BUILD / "esphome-gen", timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    build = ch.CLIENT_BUILD / "esphome-gen" / "build" / "routeur-pv-client-gwurl"
    main = (build / "src" / "main.cpp").read_text()
    assert "set_gateway_url" in main and "set_http_request" in main
    assert "set_gateway_timeout(1500)" in main
    # plain http to the gateway: the ESP8266 HTTPS client (BearSSL, ~108 KB of flash) is left out
    assert "USE_HTTP_REQUEST_ESP8266_HTTPS" not in (build / "src" / "esphome" / "core" / "defines.h").read_text()
