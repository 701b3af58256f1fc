"""Helpers for the pv_client tests and bench: builds (offline, under build/), running host firmwares
and the unit-test binary. Reuses the gateway's harness (frames, HostGateway, ApiWatcher)."""
from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "gateway"))
sys.path.insert(0, str(REPO / "tools"))

import gateway_harness as gh  # noqa: E402
from esphome_host import HostFirmware, compile_host, esphome, free_udp_port  # noqa: E402,F401

BUILD = REPO / "build"
CLIENT_BUILD = BUILD / "client"
COMPONENT = REPO / "components" / "pv_client"
CPP_DIR = Path(__file__).resolve().parent / "cpp"
PURE_SOURCES = ["power_curve.cpp", "gate_scheduler.cpp", "mains_sim.cpp", "follow_logic.cpp", "legacy_api.cpp",
                "gateway_poll.cpp"]

CLIENT_NAME = "routeur-pv-client-host"
# The dimmer's load (W) in the shipped configuration: routed power = level x LOAD_POWER_W.
LOAD_POWER_W = float(re.search(r"^\s*load_power:\s*(\d+)\s*W", (REPO / "common" / "client-base.yaml").read_text(),
                               re.M).group(1))

SENDER_DATA = CLIENT_BUILD / "sender"
# the client for an old gateway (gateway_url polling), ESP8266 only
GATEWAY_URL_YAML = Path(__file__).resolve().parent / "client-gateway-url.yaml"

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
    """A folder holding the client yamls, common/, components/ and a secrets.yaml made from
    secrets.example.yaml (with a valid api key), for `esphome config` / `--only-generate`."""
    d = CLIENT_BUILD / "config"
    d.mkdir(parents=True, exist_ok=True)
    for link in ("common", "components"):
        p = d / link
        if not p.exists():
            p.symlink_to(REPO / link)
    for y in ("client.yaml", "client-esp32.yaml", "client-host.yaml"):
        shutil.copy(REPO / y, d / y)
    # the old-gateway variant keeps its path, so that its ../../components resolves here too
    (d / "tests" / "client").mkdir(parents=True, exist_ok=True)
    shutil.copy(GATEWAY_URL_YAML, d / "tests" / "client" / GATEWAY_URL_YAML.name)
    secrets = (REPO / "secrets.example.yaml").read_text()
    key = base64.b64encode(bytes(range(32))).decode()
    secrets = re.sub(r"^api_encryption_key:.*$", f'api_encryption_key: "{key}"', secrets, flags=re.M)
    (d / "secrets.yaml").write_text(secrets)
    return d


def build_client_host() -> Path:
    return compile_host(REPO / "client-host.yaml", CLIENT_NAME, gh.ESPHOME_DATA, CLIENT_BUILD / "client-host-build.log")


def build_sender_host() -> Path:
    return compile_host(Path(__file__).resolve().parent / "sender-host.yaml", "routeur-pv-host", SENDER_DATA,
                    CLIENT_BUILD / "sender-build.log")


def start_client(program: Path, workdir: Path, udp_port: int) -> HostFirmware:
    port = free_port()
    return HostFirmware(program, workdir, "client", port,
                        {"PV_CLIENT_API_PORT": str(port), "PV_CLIENT_UDP_PORT": str(udp_port)}).start()


def start_sender(program: Path, workdir: Path, udp_port: int) -> HostFirmware:
    port = free_port()
    return HostFirmware(program, workdir, "sender", port,
                        {"SENDER_API_PORT": str(port), "SENDER_UDP_PORT": str(udp_port)}).start()


def start_gateway(program: Path, workdir: Path, udp_port: int) -> "gh.HostGateway":
    """The host gateway broadcasting the channel-2 ratio on udp_port (a free one per test, so that
    another gateway-host on the machine cannot interfere)."""
    return gh.HostGateway(program, workdir, extra_env={"ROUTEUR_PV_UDP_PORT": str(udp_port)})
