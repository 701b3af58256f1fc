#!/usr/bin/env python3
"""Harness self-test on the test firmware (make -C sim check): the ADC lag model, S/H
instant, gate-edge timing, UART/CRC capture, channel-2 client and energy accounts, and
the UART RX feed (--rx-input: script, FIFO, pty) and EEPROM persistence (--eeprom)."""
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
BYTE_US = 1e6 * 10 / 9600          # one 8N1 character at 9600 baud
# testfw's Timer1 (RXF/RXL) starts after the C runtime's start-up, ~0.2 ms after reset:
# its times run that much behind simulated time
CLOCK_LAG_US = 400


def pvsim_cmd(elf, scenario, out, *extra):
    return [os.path.join(HERE, "pvsim"), "--elf", os.path.join(HERE, "build", elf),
            "--scenario", os.path.join(HERE, "scenarios", scenario), "--summary", out, *extra]


def run(elf, scenario, *extra):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "s.json")
        subprocess.run(pvsim_cmd(elf, scenario, out, *extra), check=True, stdout=subprocess.DEVNULL, timeout=120)
        with open(out) as f:
            return json.load(f)


def crc8(data):
    """CRC-8 Dallas/Maxim (reflected 0x8C), as testfw's RXC."""
    crc = 0
    for b in data:
        for _ in range(8):
            mix = (crc ^ b) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            b >>= 1
    return crc


def escape(data):
    """Bytes as a --rx-input payload: printable as is (a leading space escaped), C escapes."""
    named = {0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t", 0x5C: "\\\\"}
    return "".join(named[b] if b in named else chr(b) if 0x21 <= b < 0x7F or (b == 0x20 and i)
                   else "\\x%02x" % b for i, b in enumerate(data))


def check_rx_script():
    """Payloads at known times: exactly those bytes, none before its time, paced at 9600 baud."""
    good = True
    payloads = [(1.5, b"BST>50;LSE>5;$123\r\n"), (2.5, b"hello \x00\xff\\ world"), (4.5, b"abc\n")]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "rx.txt")
        with open(path, "w") as f:
            f.write("# t payload\n\n" + "".join(f"{t} {escape(p)}\n" for t, p in payloads))
        s = run("testfw.elf", "steady_800.csv", "--seconds", "6", "--rx-input", path)
    allb = b"".join(p for _, p in payloads)
    last = s["last_frame"]
    good &= check("rx script: every byte delivered, none left",
                  s["rx_bytes_delivered"] == len(allb) and s["rx_bytes_pending"] == 0
                  and last.get("RXN") == len(allb),
                  (s["rx_bytes_delivered"], s["rx_bytes_pending"], last.get("RXN"), len(allb)))
    good &= check("rx script: the firmware got exactly those bytes (CRC-8)", last.get("RXC") == crc8(allb),
                  (last.get("RXC"), crc8(allb)))
    # a frame is built < 0.3 s before its newline; payloads sit mid-way between frames
    seen = [(round(f["t"], 2), f["fields"].get("RXN", 0)) for f in s["frames"] if f["crc_ok"]]
    want = [(t, sum(len(p) for pt, p in payloads if pt < t)) for t, _ in seen]
    good &= check("rx script: no byte counted before its time", seen == want, seen)
    first_us = payloads[0][0] * 1e6 + BYTE_US   # the first byte's stop bit ends
    good &= check("rx script: first byte when its stop bit ends",
                  first_us - CLOCK_LAG_US <= last["RXF"] <= first_us + 100, (last["RXF"], round(first_us)))
    f2 = s["frames"][1]["fields"]
    span = f2["RXL"] - f2["RXF"]
    good &= check("rx script: 19 bytes take 18 character times", abs(span - 18 * BYTE_US) < 30,
                  (span, round(18 * BYTE_US)))
    return good


def check_rx_pacing():
    """960 bytes at t = 1.0 s: all of them, and not sooner than 1.0 s at 9600 baud."""
    good = True
    data = bytes(random.Random(3).randrange(256) for _ in range(960))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "rx.txt")
        with open(path, "w") as f:
            f.write("1.0 " + escape(data) + "\n")
        s = run("testfw.elf", "steady_800.csv", "--seconds", "3.5", "--rx-input", path)
    last = s["last_frame"]
    good &= check("rx pacing: 960 bytes, none dropped", last.get("RXN") == 960 and last.get("RXC") == crc8(data)
                  and s["rx_bytes_pending"] == 0, (last.get("RXN"), last.get("RXC"), crc8(data)))
    span = last["RXL"] - last["RXF"]
    good &= check("rx pacing: 1041.7 us per byte (9600 baud 8N1)", 959 * BYTE_US - 1 <= span < 959 * BYTE_US * 1.01,
                  (span / 959, "us/byte"))
    good &= check("rx pacing: the last byte no sooner than 1.0 s after t = 1.0",
                  last["RXL"] >= 2.0e6 - CLOCK_LAG_US, last["RXL"])
    return good


def check_eeprom():
    """A missing file is a blank chip; the next run (a reset) gets the EEPROM back; wrong size dies."""
    good = True
    with tempfile.TemporaryDirectory() as d:
        ee = os.path.join(d, "ee.bin")
        s1 = run("testfw.elf", "steady_800.csv", "--seconds", "1.5", "--eeprom", ee)
        size = os.path.getsize(ee) if os.path.exists(ee) else None
        s2 = run("testfw.elf", "steady_800.csv", "--seconds", "1.5", "--eeprom", ee)
        good &= check("eeprom: blank first run, boot counter 1, 1024-byte file written",
                      s1["eeprom_loaded"] is False and s1["last_frame"]["EEB"] == 1 and size == 1024
                      and not os.path.exists(ee + ".tmp"), (s1["eeprom_loaded"], s1["last_frame"]["EEB"], size))
        good &= check("eeprom: survives a reset (second run: loaded, boot counter 2)",
                      s2["eeprom_loaded"] is True and s2["last_frame"]["EEB"] == 2,
                      (s2["eeprom_loaded"], s2["last_frame"]["EEB"]))
        bad = os.path.join(d, "bad.bin")
        with open(bad, "wb") as f:
            f.write(b"\xff" * 1000)
        r = subprocess.run(pvsim_cmd("testfw.elf", "steady_800.csv", os.path.join(d, "b.json"), "--seconds", "1",
                                     "--eeprom", bad), capture_output=True, text=True, timeout=60)
        good &= check("eeprom: a file of the wrong size is refused", r.returncode != 0 and "1024" in r.stderr,
                      (r.returncode, r.stderr.strip()))
    return good


def check_rx_fifo():
    """Bytes written into a FIFO while pvsim runs reach the firmware."""
    chunks = [b"BST>50;LSE>5;$123\r\n", bytes(range(256))[:200]]
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "rx.fifo")
        os.mkfifo(fifo)

        def writer():
            with open(fifo, "wb", buffering=0) as f:   # blocks until pvsim opens it
                for c in chunks:
                    f.write(c)
                    time.sleep(0.3)
        threading.Thread(target=writer, daemon=True).start()
        s = run("testfw.elf", "steady_800.csv", "--seconds", "2.5", "--realtime", "--rx-input", fifo)
    allb = b"".join(chunks)
    last = s["last_frame"]
    return check("rx fifo: bytes written while it runs are received",
                 last.get("RXN") == len(allb) and last.get("RXC") == crc8(allb)
                 and s["rx_bytes_delivered"] == len(allb), (last.get("RXN"), s["rx_bytes_delivered"], len(allb)))


def check_rx_pty():
    """One pty both ways (--uart-out and --rx-input): frames come out, commands go in."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    cmd = b"BST>50;LSE>5;$123\r\n"
    got = bytearray()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "s.json")
        name = os.ttyname(slave)
        p = subprocess.Popen(pvsim_cmd("testfw.elf", "steady_800.csv", out, "--seconds", "2.5", "--realtime",
                                       "--uart-out", name, "--rx-input", name), stdout=subprocess.DEVNULL)

        def reader():
            while True:
                try:
                    b = os.read(master, 4096)
                except OSError:
                    return
                if not b:
                    return
                got.extend(b)
        threading.Thread(target=reader, daemon=True).start()
        deadline = time.monotonic() + 30
        while b"\n" not in got and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)             # the first frame: pvsim runs and the pty is raw
        os.write(master, cmd)
        p.wait(timeout=60)
        time.sleep(0.1)
        with open(out) as f:
            s = json.load(f)
    os.close(master)
    os.close(slave)
    last = s["last_frame"]
    return check("rx pty: one pty both ways (frames out, bytes in)",
                 last.get("RXN") == len(cmd) and last.get("RXC") == crc8(cmd)
                 and f"RXN>{len(cmd)};".encode() in got, (last.get("RXN"), len(got), "bytes read"))


def check(name, ok, detail):
    print(("ok   " if ok else "FAIL ") + name + ": " + str(detail))
    return ok


def main():
    good = True
    s = run("testfw.elf", "steady_800.csv", "--seconds", "8")
    last = s["last_frame"]
    good &= check("free-running: channels not swapped (VRM)", abs(last["VRM"] - 230) < 2, last["VRM"])
    good &= check("free-running: 96 pairs/cycle", s["sample_pairs_per_cycle"]["min"] == 96,
                  s["sample_pairs_per_cycle"])
    good &= check("free-running: gate error = ISR latency only", 0 < s["gate_error_us"]["mean"] < 20
                  and s["gate_error_us"]["max_abs"] < 60, s["gate_error_us"])
    good &= check("frames: CRC ok, one a second", s["frames_bad_crc"] == 0 and s["frames_ok"] >= 6,
                  (s["frames_ok"], s["frames_bad_crc"]))
    # 3000 us delay at 50 Hz: the heater takes 85.1 % of 2000 W
    ch1 = s["per_second"][3]["ch1_w"]
    good &= check("heater power from the conduction interval", abs(ch1 - 1702) < 5, ch1)
    # the frame at ~5.1 s covers 4.1..5.1 s; VO2 75 % applied at ~4.6 s, 50 % before
    ree = -s["frames"][4]["fields"]["REE"]
    good &= check("firmware REE ~ simulated grid power (sign, scale)", abs(ree - (900 + 625)) < 40, ree)
    s = run("testfw_single.elf", "steady_800.csv", "--seconds", "6")
    good &= check("single conversion: S/H instant and edge timing", abs(s["gate_error_us"]["mean"]) < 3,
                  s["gate_error_us"])
    s = run("testfw.elf", "clipping.csv", "--seconds", "4")
    good &= check("12 kW clips the current ADC", -s["last_frame"]["REE"] < 0.9 * s["per_second"][2]["grid_w"],
                  (s["last_frame"]["REE"], s["per_second"][2]["grid_w"]))
    good &= check("frames: without rx the RX fields are present and 0",
                  s["last_frame"].get("RXN") == 0 and "RXF" not in s["last_frame"], s["last_frame"].get("RXN"))
    good &= check_rx_script()
    good &= check_rx_pacing()
    good &= check_eeprom()
    good &= check_rx_fifo()
    good &= check_rx_pty()
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
