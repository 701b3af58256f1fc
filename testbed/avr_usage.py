"""Flash and RAM use of an AVR ELF, from avr-size (ATmega328P: 32 KiB flash, 2 KiB SRAM)."""
import subprocess
import sys

FLASH_BYTES = 32768
RAM_BYTES = 2048


def avr_usage(elf) -> dict:
    out = subprocess.run(["avr-size", "-A", str(elf)], check=True, capture_output=True, text=True).stdout
    sections = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sections[parts[0]] = int(parts[1])
    flash = sections.get(".text", 0) + sections.get(".data", 0)
    ram = sections.get(".data", 0) + sections.get(".bss", 0) + sections.get(".noinit", 0)
    return {"flash_bytes": flash, "flash_pct": round(100.0 * flash / FLASH_BYTES, 1),
            "ram_bytes": ram, "ram_pct": round(100.0 * ram / RAM_BYTES, 1)}


if __name__ == "__main__":
    print(avr_usage(sys.argv[1]))
