#!/usr/bin/env python3
"""Lay down an offline PlatformIO core dir able to build ESPHome `host:` firmwares.

PlatformIO's registry cannot be reached from the project's machines, and a host build
needs two packages from it: the dev-platform `platformio/native` and the core tool
`platformio/tool-scons`.  This script writes a minimal `native` platform and unpacks
PyPI's SCons 4.8.1 wheel as `tool-scons` (see docs TOOLCHAIN.md section 1).

Usage:  tools/pio_offline.py [CORE_DIR]      (default: <repo>/build/pio-core)
Then:   PLATFORMIO_CORE_DIR=CORE_DIR esphome compile host/gateway-host.yaml

Idempotent: a second run with everything in place does nothing (no network).
It never touches ~/.platformio: the core dir is always the one given.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORE_DIR = REPO / "build" / "pio-core"
SCONS_VERSION = "4.8.1"
SCONS_PKG_VERSION = "4.40801.0"
NATIVE_VERSION = "1.2.1"

PLATFORM_PY = '''from platformio.public import PlatformBase


class NativePlatform(PlatformBase):
    pass
'''

BUILDER_MAIN_PY = '''from SCons.Script import Default, DefaultEnvironment

env = DefaultEnvironment()
target_bin = env.BuildProgram()
Default([target_bin])
'''

SCONS_LAUNCHER = '''import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import SCons.Script
SCons.Script.main()
'''


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def make_native_platform(core: Path) -> None:
    root = core / "platforms" / "native"
    _write(root / "platform.json", json.dumps({
        "name": "native", "title": "Native (offline stub)", "version": NATIVE_VERSION,
        "description": "Offline stand-in for platformio/native (host builds)",
        "packages": {},
    }, indent=2) + "\n")
    _write(root / "platform.py", PLATFORM_PY)
    _write(root / "builder" / "main.py", BUILDER_MAIN_PY)
    _write(root / ".piopm", json.dumps({
        "type": "platform", "name": "native", "version": NATIVE_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "native",
                 "requirements": None, "uri": None},
    }) + "\n")


def make_tool_scons(core: Path) -> None:
    root = core / "packages" / "tool-scons"
    if not (root / "SCons" / "Script" / "__init__.py").exists():
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "-d", tmp, f"SCons=={SCONS_VERSION}"],
                check=True,
            )
            wheels = list(Path(tmp).glob("*.whl"))
            if not wheels:
                raise SystemExit("pip download produced no SCons wheel")
            with zipfile.ZipFile(wheels[0]) as zf:
                zf.extractall(root)
    _write(root / "scons.py", SCONS_LAUNCHER)
    _write(root / "package.json",
           json.dumps({"name": "tool-scons", "version": SCONS_PKG_VERSION}) + "\n")
    _write(root / ".piopm", json.dumps({
        "type": "tool", "name": "tool-scons", "version": SCONS_PKG_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons",
                 "requirements": f"~{SCONS_PKG_VERSION}", "uri": None},
    }) + "\n")


def ensure(core_dir: Path | str = DEFAULT_CORE_DIR) -> Path:
    core = Path(core_dir).resolve()
    home = Path.home().resolve() / ".platformio"
    if core == home:
        raise SystemExit(f"refusing to write into the user's own {home}")
    core.mkdir(parents=True, exist_ok=True)
    make_native_platform(core)
    make_tool_scons(core)
    return core


def main(argv: list[str]) -> int:
    core = ensure(argv[1] if len(argv) > 1 else DEFAULT_CORE_DIR)
    print(core)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
