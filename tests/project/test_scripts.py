"""scripts/ as a user runs them: from a shell whose python3 is the system one, not the project's venv."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.routeur_pv.sensor import MIN_CHANGE  # the gateway's publish thresholds

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
CAPTURE = ROOT / "tests" / "gateway" / "data" / "pvsim_steady_800.bin"


def user_env() -> dict:
    """The environment of a user's shell: no venv activated, the system python3 first on PATH."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYTHONEXECUTABLE")}
    venv_bin = (VENV / "bin").resolve()
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != venv_bin]
    system = Path("/usr/bin/python3")
    if not system.exists():
        found = shutil.which("python3", path=os.pathsep.join(path))
        assert found, "no python3 on PATH outside the venv"
        system = Path(found)
    env["PATH"] = os.pathsep.join([str(system.parent), *path])
    return env


def fields(line: bytes) -> dict:
    """KEY>value pairs of one frame, as the ATmega sent them."""
    body = line.split(b"$")[0].decode()
    return dict(item.split(">", 1) for item in body.split(";") if item)


def test_user_env_is_not_the_venv():
    env = user_env()
    prefix = subprocess.run(["python3", "-c", "import sys; print(sys.prefix)"], env=env, capture_output=True,
                            text=True, check=True).stdout.strip()
    assert Path(prefix).resolve() != VENV.resolve(), prefix


@pytest.mark.slow
def test_replay_frames_from_a_user_shell():
    """`scripts/replay-frames capture.bin` as the README says: it finds the project's venv itself
    (the system python3 has no esphome), builds the host gateway (offline, up to date if the
    gateway tests built it) and prints what Home Assistant receives for each frame."""
    lines = CAPTURE.read_bytes().splitlines(keepends=True)
    frames = [fields(line) for line in lines]
    out = subprocess.run(["scripts/replay-frames", str(CAPTURE.relative_to(ROOT))], cwd=ROOT, env=user_env(),
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "No module named" not in out.stderr, out.stderr[-3000:]
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(rows) == len(frames) >= 3, out.stdout + out.stderr[-3000:]
    # What Home Assistant receives: each value as published under the gateway's rule, i.e. within
    # its min_change of the frame (a smaller move is not published: docs/gateway.md).
    for row in rows:
        frame = frames[row["line"] - 1]
        for entity, key, value in (("grid_power", "grid_power", -float(frame["REE"])),
                                   ("mains_frequency", "mains_frequency", float(frame["FRQ"])),
                                   ("mains_voltage", "mains_voltage", float(frame["VRM"]))):
            assert abs(row[entity] - value) < max(MIN_CHANGE[key], 1e-3), (entity, row, frame)
        assert row["atmega_link"] is True
    first = frames[rows[0]["line"] - 1]
    assert rows[0]["mains_voltage"] == pytest.approx(float(first["VRM"]), abs=1e-3)  # the first goes out as is
    assert [r["frames_received"] for r in rows] == list(range(1, len(frames) + 1))
    assert f"{len(lines)} lines, {len(frames)} frames published" in out.stderr
