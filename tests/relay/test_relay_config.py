"""Schema and code generation of the pv_relay component: a minimal config on its own (it needs no
routeur_pv hub, so it runs on a client as well), the code it generates, and bad options named."""
import re

import pytest
from testbed.esphome_host import REPO

# The staged project (the `project` fixture: the device configs with secrets.yaml.example).
from tests.gateway.test_gateway_config import check, project, run_esphome  # noqa: F401

HEAD = f"""
esphome:
  name: relaytest
host:
external_components:
  - source:
      type: local
      path: {REPO / 'components'}
    components: [pv_relay]
logger:
time:
  - platform: host
    id: the_time
sensor:
  - platform: template
    id: grid
  - platform: template
    id: dimmer_power
switch:
  - platform: template
    id: pump
    optimistic: true
"""
RELAY = """
pv_relay:
  - switch_id: pump
    power: 800W
    grid_power: grid
"""


def relay_config(options: str = "") -> str:
    return HEAD + RELAY + "".join(f"    {line}\n" for line in options.strip("\n").splitlines())


def test_minimal_config_ok(tmp_path):
    rc, out = check(tmp_path, relay_config())
    assert rc == 0, out[-3000:]


def test_generated_code(tmp_path):
    (tmp_path / "t.yaml").write_text(relay_config("""
gives_way: [dimmer_power]
min_on: 15min
daily_runtime: 2h
runtime_by: "21:30"
time_id: the_time
mode:
  name: Pump mode
runtime_today:
  name: Pump runtime today
"""))
    r = run_esphome("compile", "--only-generate", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    main = (tmp_path / "data" / "build" / "relaytest" / "src" / "main.cpp").read_text()
    for expected in [".rating_w = 800.0f", ".on_delay_s = 60", ".off_import_w = 100.0f", ".off_delay_s = 10",
                     ".min_on_s = 900", ".min_off_s = 600", ".daily_runtime_s = 7200", ".runtime_by_min = 1290",
                     "->set_switch(pump)", "->set_grid_sensor(grid)", "->add_gives_way_sensor(dimmer_power)",
                     "->set_data_timeout(70000)", "->set_clock(the_time)", "->set_mode_select(",
                     "->set_runtime_sensor("]:
        assert expected in main, expected


@pytest.mark.parametrize("options,named", [
    ("powr: 800W", "powr"),
    ("min_on: -5s", "min_on"),
    ("daily_runtime: 2h", "time_id"),
    ('runtime_by: "21:00"', "daily_runtime"),
    ("off_import: 20000W", "off_import"),
    ("data_timeout: 1s", "data_timeout"),
])
def test_bad_options_are_named(tmp_path, options, named):
    text = relay_config(options)
    if options.startswith("powr"):
        text = text.replace("    power: 800W\n", "")
    rc, out = check(tmp_path, text)
    assert rc != 0
    assert named in out, out[-3000:]


def test_power_is_required_and_ranged(tmp_path):
    rc, out = check(tmp_path, relay_config().replace("power: 800W", "power: 5W"))
    assert rc != 0 and "power" in out


def doc_examples() -> list[str]:
    text = (REPO / "docs" / "relay.md").read_text()
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


@pytest.mark.parametrize("device,index", [("gateway.yaml", 0), ("client.yaml", 1)])
def test_the_docs_examples_are_valid_in_the_device_configs(project, tmp_path, device, index):
    """docs/relay.md's examples, added to gateway.yaml and client.yaml as a user would."""
    examples = doc_examples()
    assert len(examples) == 2
    (project / f"relay-{device}").write_text((project / device).read_text() + "\n" + examples[index])
    r = run_esphome("config", f"relay-{device}", cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "pv_relay:" in r.stdout
