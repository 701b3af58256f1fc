"""Fixtures of the gateway tests: one offline host build per session, a fresh gateway per test."""

import pytest

from testbed.gateway_harness import HostGateway, build_host_firmware


@pytest.fixture(scope="session")
def host_program():
    """host/gateway-host.yaml built once per session (offline PlatformIO core under build/)."""
    return build_host_firmware()


@pytest.fixture
def gateway(host_program, tmp_path):
    gw = HostGateway(host_program, tmp_path / "gw")
    gw.start()
    yield gw
    gw.stop()
