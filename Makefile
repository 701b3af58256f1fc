# Routeur PV: top-level entry points. `make demo` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
# Offline PlatformIO core for host builds in tests and the demo only (never ~/.platformio).
export PLATFORMIO_CORE_DIR := $(CURDIR)/$(BUILD)/pio-core

.PHONY: setup firmware test bench demo clean

setup: $(VENV)/.installed $(BUILD)/.pio-offline
	@bash tools/setup-debian.sh

$(VENV)/.installed: requirements.txt
	@bash tools/setup-debian.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(BUILD)/.pio-offline: tools/pio_offline.py $(VENV)/.installed
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
