"""Shared fixtures: paths, and running the real ATmega firmware in the simulator."""
import json
import subprocess
from pathlib import Path

import pytest

from testbed.simrun import ATMEGA_ELF, ROOT, run_simulation, write_scenario


@pytest.fixture(scope="session")
def atmega_elf() -> Path:
    """The real firmware, built as `make -C atmega` builds it."""
    subprocess.run(["make", "-s", "-C", str(ROOT / "atmega")], check=True)
    subprocess.run(["make", "-s", "-C", str(ROOT / "sim")], check=True)
    assert ATMEGA_ELF.exists()
    return ATMEGA_ELF


@pytest.fixture(scope="session")
def simulate(atmega_elf, tmp_path_factory):
    """simulate(rows, seconds=..., **options) -> summary dict, cached per session."""
    cache: dict = {}
    workdir = tmp_path_factory.mktemp("sim")

    def run(rows, seconds=None, **options):
        key = json.dumps([rows, seconds, options], sort_keys=True, default=str)
        if key not in cache:
            scenario = write_scenario(workdir / f"scenario{len(cache)}.csv", rows)
            cache[key] = run_simulation(atmega_elf, scenario, seconds=seconds,
                                        summary=workdir / f"summary{len(cache)}.json", **options)
        return cache[key]

    return run


@pytest.fixture(scope="session")
def simulate_scenario(atmega_elf, tmp_path_factory):
    """simulate_scenario("day.csv", **options) -> summary of a sim/scenarios file, cached per session
    (the ATmega, gateway and benchmark tests share the standard day's run)."""
    cache: dict = {}
    workdir = tmp_path_factory.mktemp("scenarios")

    def run(name, **options):
        key = json.dumps([name, options], sort_keys=True)
        if key not in cache:
            cache[key] = run_simulation(atmega_elf, ROOT / "sim" / "scenarios" / name,
                                        summary=workdir / f"summary{len(cache)}.json", **options)
        return cache[key]

    return run
