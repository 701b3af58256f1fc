# Routeur PV: top-level entry points. `make demo` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
# Offline PlatformIO core for host builds in tests and the demo only (never ~/.platformio).
export PLATFORMIO_CORE_DIR := $(CURDIR)/$(BUILD)/pio-core

.PHONY: setup firmware test bench demo clean

setup: $(VENV)/.on-path $(BUILD)/.pio-offline
	@bash tools/setup-debian.sh

$(VENV)/.installed: requirements.txt
	@bash tools/setup-debian.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

# The repository on the venv's path, so that every script, test and benchmark imports `testbed`
# (the Python they share) and `components` the same way, whatever its working directory.
$(VENV)/.on-path: $(VENV)/.installed
	$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "routeur-pv.pth").write_text("$(CURDIR)\n")'
	@touch $@

$(BUILD)/.pio-offline: tools/pio_offline.py $(VENV)/.on-path
	$(PY) tools/pio_offline.py $(PLATFORMIO_CORE_DIR)
	@mkdir -p $(BUILD) && touch $@

firmware: setup
	$(MAKE) -C atmega
	$(MAKE) -C sim

test: setup firmware
	$(PY) -m pytest -q tests

bench: setup firmware
	$(PY) bench/run_bench.py

demo: setup firmware
	$(PY) tools/demo.py $(if $(SCENARIO),--scenario $(SCENARIO))

clean:
	rm -rf $(BUILD) out atmega/build sim/build
