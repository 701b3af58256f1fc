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


def test_no_start_up_code_builds_the_static_objects(atmega_elf):
    """The controller and the ISR state are constant-initialized (constexpr constructors): their
    values are data in flash, not start-up code storing each one (that code cost ~480 B)."""
    symbols = subprocess.run(["avr-nm", "-C", str(atmega_elf)], capture_output=True, text=True,
                             check=True).stdout
    dynamic_init = [line for line in symbols.splitlines() if "_GLOBAL__sub_I" in line]
    assert not dynamic_init, dynamic_init
