"""Helpers for the pv_client tests and bench: builds (offline, under build/), running host firmwares
and the unit-test binary. Reuses the gateway's harness (frames, HostGateway, ApiWatcher)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from testbed import gateway_harness as gh
from testbed.esphome_host import (BUILD, REPO, HostFirmware, compile_host, esphome, free_udp_port,  # noqa: F401
                                  stage_project)

CLIENT_BUILD = BUILD / "client"
COMPONENT = REPO / "components" / "pv_client"
TESTS = REPO / "tests" / "client"
CPP_DIR = TESTS / "cpp"
PURE_SOURCES = ["power_curve.cpp", "gate_scheduler.cpp", "mains_sim.cpp", "follow_logic.cpp", "legacy_api.cpp",
                "gateway_poll.cpp"]

CLIENT_YAML = REPO / "host" / "client-host.yaml"
CLIENT_NAME = "routeur-pv-client-host"
# The dimmer's load (W) in the shipped configuration: routed power = level x LOAD_POWER_W.
LOAD_POWER_W = float(re.search(r"^\s*load_power:\s*(\d+)\s*W", (REPO / "common" / "client-base.yaml").read_text(),
                               re.M).group(1))

SENDER_DATA = CLIENT_BUILD / "sender"
# the client for an old gateway (gateway_url polling), ESP8266 only
GATEWAY_URL_YAML = TESTS / "client-gateway-url.yaml"

free_port = gh.free_port
ApiWatcher = gh.ApiWatcher


def build_cpp(name: str, main_source: Path, gtest: bool = True) -> Path:
    """g++ the pure component code with `main_source` (GoogleTest or bench)."""
    CLIENT_BUILD.mkdir(parents=True, exist_ok=True)
    out = CLIENT_BUILD / name
    srcs = [str(main_source)] + [str(COMPONENT / s) for s in PURE_SOURCES]
    cmd = ["g++", "-std=gnu++20", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{COMPONENT}", f"-I{CPP_DIR}",
           *srcs, *(["-lgtest", "-lgtest_main", "-pthread"] if gtest else []), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("compile failed:\n" + r.stderr[-4000:])
    return out


def staged_config_dir() -> Path:
    """The configs as a user has them (secrets.yaml from secrets.yaml.example, with a valid api
    key), for `esphome config` / `--only-generate`."""
    return stage_project(CLIENT_BUILD / "config", valid_api_key=True)


def build_client_host() -> Path:
    return compile_host(CLIENT_YAML, CLIENT_NAME, gh.ESPHOME_DATA,
                        CLIENT_BUILD / "client-host-build.log")


def build_sender_host() -> Path:
    return compile_host(TESTS / "sender-host.yaml", "routeur-pv-host", SENDER_DATA,
                        CLIENT_BUILD / "sender-build.log")


def start_client(program: Path, workdir: Path, udp_port: int) -> HostFirmware:
    return HostFirmware(program, workdir, "client", env={"PV_CLIENT_UDP_PORT": str(udp_port)},
                        env_prefix="PV_CLIENT").start()


def start_sender(program: Path, workdir: Path, udp_port: int) -> HostFirmware:
    return HostFirmware(program, workdir, "sender", env={"SENDER_UDP_PORT": str(udp_port)},
                        env_prefix="SENDER").start()


def start_gateway(program: Path, workdir: Path, udp_port: int) -> "gh.HostGateway":
    """The host gateway broadcasting the channel-2 ratio on udp_port (a free one per test, so that
    another gateway-host on the machine cannot interfere)."""
    return gh.HostGateway(program, workdir, extra_env={"ROUTEUR_PV_UDP_PORT": str(udp_port)})
