"""The Python that the tests, the benchmarks, the demo and scripts/ share (importable from the
project's .venv, where `make setup` puts the repository on the path):

- esphome_host: offline host builds of our firmwares (PlatformIO core from tools/pio_offline.py),
  running them, watching them with aioesphomeapi
- simrun: the ATmega ELF in the simulator (sim/pvsim), its frames and energy accounts
- gateway_harness, client_harness: frames, the host gateway on a pty, the client's builds
- day_report, avr_usage, readme_figures: figures of a run, of the ATmega build, of the README
"""
