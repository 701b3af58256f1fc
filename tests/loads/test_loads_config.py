"""Schema and code generation of pv_loads (the gateway's channel-2 loads) and of a client following
watts (`power_sensor:`, `offered_power:`): the code they generate, bad options named, and
docs/loads.md's examples valid in gateway.yaml and as a second client."""
import re

import pytest
from testbed.esphome_host import REPO

# The staged project (the `project` fixture: the device configs with secrets.yaml.example).
from tests.gateway.test_gateway_config import check, hub_config, project, run_esphome  # noqa: F401

LOADS = """
sensor:
  - platform: template
    id: offer_1
  - platform: template
    id: offer_2
pv_loads:
  loads:
    - offered_power: offer_1
      allotted_power: {id: share_1, name: "Share 1"}
      priority_number: {name: "Priority 1"}
    - offered_power: offer_2
      priority: 2
      allotted_power: {id: share_2}
"""


def loads_config(options: str = "", loads: str = LOADS) -> str:
    text = hub_config().replace("components: [routeur_pv]", "components: [routeur_pv, pv_loads]") + loads
    return text.replace("pv_loads:\n", "pv_loads:\n" + "".join(f"  {line}\n" for line in options.strip("\n").splitlines()))


def test_minimal_config_ok(tmp_path):
    rc, out = check(tmp_path, loads_config())
    assert rc == 0, out[-3000:]


def test_generated_code(tmp_path):
    (tmp_path / "t.yaml").write_text(loads_config("full_scale: 1500W\ntimeout: 3s\nfollow_capacity: false"))
    r = run_esphome("compile", "--only-generate", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    main = (tmp_path / "data" / "build" / "cfgtest" / "src" / "main.cpp").read_text()
    for expected in ["->set_full_scale(1500.0f)", "->set_load_timeout(3000)", "->set_follow_capacity(false)",
                     "->add_load(offer_1, share_1, 1, ", "->add_load(offer_2, share_2, 2, nullptr)"]:
        assert expected in main, expected


@pytest.mark.parametrize("options,named", [
    ("full_scal: 1000W", "full_scal"),
    ("full_scale: 20W", "full_scale"),
    ("timeout: 1s", "timeout"),
])
def test_bad_options_are_named(tmp_path, options, named):
    rc, out = check(tmp_path, loads_config(options))
    assert rc != 0
    assert named in out, out[-3000:]


@pytest.mark.parametrize("change,named", [
    (("priority: 2", "priority: 10"), "priority"),
    (("offered_power: offer_2", "offered_power: offer_1"), "offer_1"),   # one report, two loads
    (("      allotted_power: {id: share_2}\n", ""), "allotted_power"),
    (("offered_power: offer_2", "offered_power: nothing"), "nothing"),
])
def test_bad_loads_are_named(tmp_path, change, named):
    rc, out = check(tmp_path, loads_config(loads=LOADS.replace(*change)))
    assert rc != 0
    assert named in out, out[-3000:]


def test_a_client_follows_one_source_only(project, tmp_path):
    """client-load.yaml replaces the ratio by the watts; both at once is an error that names them."""
    text = (project / "client.yaml").read_text().replace(
        "  base: !include common/client-base.yaml\n",
        "  base: !include common/client-base.yaml\n  load: !include common/client-load.yaml\n")
    (project / "client-load.yaml").write_text(text)
    r = run_esphome("config", "client-load.yaml", cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "power_sensor: allotted_power" in r.stdout and "ratio_sensor" not in r.stdout.split("pv_client:")[1][:400]
    (project / "client-both.yaml").write_text(text.replace("pv_client:\n", "pv_client:\n  ratio_sensor: gateway_ratio\n"))
    r = run_esphome("config", "client-both.yaml", cwd=project, data_dir=tmp_path)
    assert r.returncode != 0 and "power_sensor" in r.stdout + r.stderr and "ratio_sensor" in r.stdout + r.stderr


def doc_examples() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (REPO / "docs" / "loads.md").read_text(), re.S)


def test_the_docs_examples_are_valid_as_a_user_adds_them(project, tmp_path):
    """docs/loads.md: the gateway's part added to gateway.yaml, the second client as client-2.yaml."""
    gateway_part, client_2 = doc_examples()
    (project / "loads-gateway.yaml").write_text((project / "gateway.yaml").read_text() + "\n" + gateway_part)
    r = run_esphome("config", "loads-gateway.yaml", cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "pv_loads:" in r.stdout
    (project / "client-2.yaml").write_text(client_2)
    r = run_esphome("config", "client-2.yaml", cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "remote_id: load_power_2" in r.stdout and "load_power: 1500.0" in r.stdout
