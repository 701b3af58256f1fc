"""The ATmega sketch builds, fits, and its Arduino-free logic passes its native unit tests."""
import subprocess

from testbed.avr_usage import avr_usage
from testbed.simrun import ROOT


def test_native_unit_tests_of_the_firmware_logic_pass():
    result = subprocess.run(["make", "-s", "-C", str(ROOT / "atmega"), "test"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_flash_and_ram_use_at_most_half_of_the_atmega328p(atmega_elf):
    usage = avr_usage(atmega_elf)
    assert usage["flash_pct"] <= 50.0, usage
    assert usage["ram_pct"] <= 50.0, usage


def test_hex_file_for_flashing_is_built(atmega_elf):
    hex_file = atmega_elf.with_suffix(".hex")
    assert hex_file.exists()
    assert hex_file.read_text().startswith(":")


def test_static_objects_cost_neither_start_up_code_nor_a_flash_image(atmega_elf):
    """The controller, the ISR state and the frame buffer start as all zeros (.bss): neither start-up
    code storing each value (that cost ~480 B) nor an initial image in flash (a non-zero default
    anywhere in an object puts the whole object, zeros and all, in .data: that cost ~800 B). Their
    non-zero state is set by RouterController::begin() and AdcPipeline::start()."""
    symbols = subprocess.run(["avr-nm", "-C", "-S", str(atmega_elf)], capture_output=True, text=True,
                             check=True).stdout
    dynamic_init = [line for line in symbols.splitlines() if "_GLOBAL__sub_I" in line]
    assert not dynamic_init, dynamic_init
    in_data = {}
    for line in symbols.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and parts[2] in ("d", "D"):
            in_data[parts[3]] = int(parts[1], 16)
    assert in_data and all(size <= 64 for size in in_data.values()), in_data  # tables only
    for name in ("controller", "g_isr", "frame"):
        assert any(name in symbol for symbol in symbols.splitlines() if " b " in symbol or " B " in symbol), name
