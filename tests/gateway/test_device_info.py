"""What Home Assistant shows on the device page: project name, firmware version and the MAC it keys
the device by, from `esphome config` of every device config and from the host firmwares' own
device_info through aioesphomeapi."""
import asyncio
import re

import pytest
import yaml

from testbed.gateway_harness import REPO, ApiWatcher, HostGateway
from testbed.esphome_host import esphome, stage_project


PROJECT = yaml.safe_load((REPO / "common" / "project.yaml").read_text())["esphome"]["project"]
VERSION = PROJECT["version"]
DEVICES = {"gateway.yaml": "gateway", "gateway-esp32.yaml": "gateway", "host/gateway-host.yaml": "gateway",
           "client.yaml": "client", "client-esp32.yaml": "client", "host/client-host.yaml": "client"}


def project_name(device: str) -> str:
    return PROJECT["name"].replace("${device}", device)


def host_mac(yaml_name: str) -> str:
    return re.search(r'^\s*mac_address:\s*"([^"]+)"', (REPO / yaml_name).read_text(), re.M).group(1).upper()


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    """The device configs as a user has them after `cp secrets.yaml.example secrets.yaml`."""
    return stage_project(tmp_path_factory.mktemp("devinfo"))


def test_one_version_for_the_project():
    """The version is in common/project.yaml only: no base or device config declares a project."""
    assert isinstance(VERSION, str) and re.fullmatch(r"\d+\.\d+\.\d+", VERSION), VERSION
    for name in ["common/gateway-base.yaml", "common/client-base.yaml", *DEVICES]:
        text = (REPO / name).read_text()
        assert not re.search(r"^\s*project:\s*$", text, re.M), f"{name} declares its own project"
    for base in ("gateway-base.yaml", "client-base.yaml"):
        assert "!include {file: project.yaml" in (REPO / "common" / base).read_text(), base


@pytest.mark.parametrize("yaml_name", list(DEVICES))
def test_every_device_config_has_the_project(configs, yaml_name, tmp_path):
    r = esphome("config", yaml_name, cwd=configs, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    m = re.search(r"^  project:\n    name: (\S+)\n    version: (\S+)$", r.stdout, re.M)
    assert m, f"no esphome: project: in the validated {yaml_name}"
    assert m.groups() == (project_name(DEVICES[yaml_name]), VERSION)


async def device_info(port: int):
    w = await ApiWatcher(port).connect()
    try:
        return await w.client.device_info()
    finally:
        await w.disconnect()


@pytest.mark.slow
def test_host_gateway_device_info(gateway):
    info = asyncio.run(device_info(gateway.api_port))
    assert info.project_name == project_name("gateway")
    assert info.project_version == VERSION
    assert info.mac_address.upper() == host_mac("host/gateway-host.yaml")


@pytest.mark.slow
def test_host_gateway_and_client_are_two_devices(host_program, tmp_path):
    """Both host firmwares at once, as they were added to a real Home Assistant: a MAC each (with
    ESPHome's default host MAC the client replaced the gateway's device), their own project."""
    from testbed import client_harness as ch

    client_program = ch.build_client_host()
    with HostGateway(host_program, tmp_path / "gw") as gw:
        client = ch.start_client(client_program, tmp_path / "client", ch.free_udp_port())
        try:
            gw_info = asyncio.run(device_info(gw.api_port))
            client_info = asyncio.run(device_info(client.api_port))
        finally:
            client.stop()
    assert gw_info.mac_address != client_info.mac_address, (gw_info.mac_address, client_info.mac_address)
    assert client_info.mac_address.upper() == host_mac("host/client-host.yaml")
    assert (gw_info.project_name, client_info.project_name) == (project_name("gateway"), project_name("client"))
    assert gw_info.project_version == client_info.project_version == VERSION
    assert gw_info.name != client_info.name
