"""Over-the-air updates as users run them: `esphome upload ... --device 127.0.0.1`, ESPHome's own
uploader, against the running host firmwares. ESPHome's host OTA backend replaces the program and
restarts it in place, as an ESP does after an OTA. Version A is the program built from the
repository; B is the same project with another version in common/project.yaml, built from a copy.
The device comes back running B with its saved state; every bad upload leaves A running."""
import asyncio
import hashlib
import math
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml

from testbed import client_harness as ch

from testbed.esphome_host import ApiWatcher, compile_host, esphome, stage_project

gh = ch.gh
pytestmark = pytest.mark.slow

# Relative: the uploads run in a staged copy of the project.
GATEWAY_YAML, GATEWAY_NODE = str(gh.HOST_YAML.relative_to(ch.REPO)), gh.HOST_NAME
CLIENT_YAML, CLIENT_NODE = str(ch.CLIENT_YAML.relative_to(ch.REPO)), ch.CLIENT_NAME


@pytest.fixture(scope="module")
def version_b(tmp_path_factory):
    """(folder, version A, version B): a copy of the project whose version was bumped, as a user
    who changed something and runs `esphome upload` has it."""
    stage = stage_project(tmp_path_factory.mktemp("ota-b"))
    project = stage / "common" / "project.yaml"
    text = project.read_text()
    version_a = yaml.safe_load(text)["esphome"]["project"]["version"]
    version_b = version_a + "-ota-b"
    project.write_text(text.replace(f'version: "{version_a}"', f'version: "{version_b}"'))
    assert yaml.safe_load(project.read_text())["esphome"]["project"]["version"] == version_b
    return stage, version_a, version_b


def build_b(stage: Path, config: str, node: str) -> Path:
    return compile_host(stage / config, node, data_dir=stage / "esphome-data", log=stage / f"{node}-build.log")


def upload(stage: Path, config: str, ota_port: int, password: str | None = None, file: Path | None = None):
    """`esphome upload` of the B build (or of `file`) to the device listening on ota_port."""
    args = ["-s", "ota_port", str(ota_port)]
    if password is not None:
        args += ["-s", "ota_password", password]
    args += ["upload", config, "--device", "127.0.0.1"]
    if file is not None:
        args += ["--file", str(file)]
    return esphome(*args, cwd=stage, data_dir=stage / "esphome-data", timeout=180)


def runnable_copy(program: Path, folder: Path) -> Path:
    """An OTA replaces the file the device runs from: never let it overwrite the shared build."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / "program"
    shutil.copy2(program, copy)
    return copy


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def read_device(api_port: int, until=None, timeout: float = 120.0):
    """(device_info, states) once `until(info)` holds. The API is down while the device restarts,
    and while ESPHome's OTA handler waits for the rest of a cut upload (its ~30-s read timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            w = await ApiWatcher(api_port).connect(timeout=2.0)
            try:
                info = await w.client.device_info()
                await w.quiet(0.5)
                if until is None or until(info):
                    return info, dict(w.states)
            finally:
                await w.disconnect()
        except Exception:  # noqa: BLE001 - the device is restarting; retried until the deadline
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the device did not come back as expected")
        await asyncio.sleep(0.5)


class CuttingProxy:
    """Forwards one TCP connection to the device and cuts it after `limit` bytes towards it: an
    upload that stops half-way (Wi-Fi lost, laptop closed)."""

    def __init__(self, target_port: int, limit: int):
        self.target_port, self.limit, self.forwarded = target_port, limit, 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        client, _ = self.server.accept()
        self.server.close()
        device = socket.create_connection(("127.0.0.1", self.target_port))

        def answers() -> None:
            try:
                while data := device.recv(4096):
                    client.sendall(data)
            except OSError:
                pass
        threading.Thread(target=answers, daemon=True).start()
        try:
            while self.forwarded < self.limit and (data := client.recv(4096)):
                part = data[:self.limit - self.forwarded]
                device.sendall(part)
                self.forwarded += len(part)
        finally:
            for s in (device, client):  # shutdown: FIN now, even while answers() is in recv()
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


def assert_a_still_runs(firmware, program: Path, program_sha: str, version_a: str) -> None:
    info, _ = asyncio.run(read_device(firmware.api_port))
    assert firmware.alive() and info.project_version == version_a, firmware.log()[-3000:]
    assert sha256(program) == program_sha, "the program file was replaced"


ENERGY_FRAMES = [{"raw": gh.make_frame([*gh.OUR_FIELDS, ("PW1", "800.0"), ("WHI", str(1000 + 50 * i)),
                                        ("WHE", str(2000 + 30 * i)), ("WH1", str(500 + 40 * i))],
                                       eol=b"").decode()} for i in range(20)]


def test_ota_gateway_bad_uploads_then_update_keeps_energy(version_b, atmega_elf, tmp_path):
    stage, version_a, version_b_ = version_b
    program_b = build_b(stage, GATEWAY_YAML, GATEWAY_NODE)
    program = runnable_copy(gh.build_host_firmware(), tmp_path / "a")
    program_sha = sha256(program)
    with gh.HostGateway(program, tmp_path / "gw") as gw:
        fw = gw.firmware
        totals, _ = gh.feed_and_read(gw, ENERGY_FRAMES)
        assert all(v > 0 for v in totals.values()), totals
        info, _ = asyncio.run(read_device(gw.api_port))
        assert info.project_version == version_a

        wrong = upload(stage, GATEWAY_YAML, fw.ota_port, password="not-the-password")
        assert wrong.returncode != 0 and "password" in (wrong.stdout + wrong.stderr).lower(), wrong.stdout[-2000:]
        assert_a_still_runs(fw, program, program_sha, version_a)

        proxy = CuttingProxy(fw.ota_port, program_b.stat().st_size // 2)
        cut = upload(stage, GATEWAY_YAML, proxy.port)
        proxy.thread.join(30)
        assert cut.returncode != 0, cut.stdout[-2000:]
        assert proxy.forwarded == proxy.limit, "the upload did not get half-way"
        assert_a_still_runs(fw, program, program_sha, version_a)

        not_firmware = tmp_path / "notes.txt"
        not_firmware.write_text("not a firmware\n" * 1000)
        for file in (not_firmware, atmega_elf):  # text; an ELF for another machine (the ATmega's)
            bad = upload(stage, GATEWAY_YAML, fw.ota_port, file=file)
            assert bad.returncode != 0, (file, bad.stdout[-2000:])
            assert_a_still_runs(fw, program, program_sha, version_a)
        assert not list(program.parent.glob("*.ota.new")), "a refused upload left its staging file"

        good = upload(stage, GATEWAY_YAML, fw.ota_port)
        assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
        info, states = asyncio.run(read_device(gw.api_port, until=lambda i: i.project_version == version_b_))
        assert fw.alive() and sha256(program) == sha256(program_b)
        after = {k: states[k] * 1000.0 for k in gh.ENERGY_SENSORS}
        for k, before in totals.items():
            assert not math.isnan(after[k]) and after[k] == pytest.approx(before, rel=1e-6), (k, before, after)


def test_ota_client_update_keeps_mode_and_manual_ratio(version_b, tmp_path):
    stage, version_a, version_b_ = version_b
    build_b(stage, CLIENT_YAML, CLIENT_NODE)
    program = runnable_copy(ch.build_client_host(), tmp_path / "a")
    client = ch.start_client(program, tmp_path / "client", ch.free_udp_port())
    try:
        async def set_forced_37():
            w = await ApiWatcher(client.api_port).connect()
            try:
                w.client.select_command(w.infos["mode"].key, "forced")
                w.client.number_command(w.infos["manual_ratio"].key, 37)
                assert await w.wait_for(lambda s: s.get("mode") == "forced" and s.get("manual_ratio") == 37)
            finally:
                await w.disconnect()
        asyncio.run(set_forced_37())
        info, _ = asyncio.run(read_device(client.api_port))
        assert info.project_version == version_a

        good = upload(stage, CLIENT_YAML, client.ota_port)
        assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
        info, states = asyncio.run(read_device(client.api_port, until=lambda i: i.project_version == version_b_))
        assert client.alive()
        assert (states["mode"], states["manual_ratio"]) == ("forced", 37), states
    finally:
        client.stop()
