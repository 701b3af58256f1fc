"""The project in ESPHome's dashboard, as a user opens it: `esphome dashboard .` lists the ESP devices
(and nothing else), `esphome dashboard host/` the host builds; in a browser, Validate passes on the
gateway, and the dashboard's compile builds the host gateway."""
import asyncio
import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from testbed.esphome_host import (BUILD, REPO, ensure_pio_core, esphome_cmd, esphome_env, free_port, host_program,
                                  stage_project, stop_process, wait_until_ready)

# What a user flashes: the device configs at the repository root. Host builds and test configs
# live in their own folders, the shared files (common/, secrets) are not devices.
ESP_DEVICES = {"gateway.yaml", "gateway-esp32.yaml", "client.yaml", "client-esp32.yaml"}
HOST_DEVICES = {"gateway-host.yaml", "client-host.yaml"}
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
OUT = REPO / "out"
# build/ is kept between runs, so the dashboard's host build is incremental after the first.
COMPILE_DATA = BUILD / "dashboard-esphome"


def platforms(config: Path) -> set[str]:
    """The target platforms a config declares at top level (esp8266:, esp32:, host:)."""
    return set(re.findall(r"^(esp8266|esp32|host):", config.read_text(), flags=re.M))


class Dashboard:
    """`esphome dashboard <folder>` on a free port; what it runs (esphome config/compile) inherits
    its environment, so esphome_env() sends every build folder to data_dir."""

    def __init__(self, folder: Path, data_dir: Path, log: Path):
        self.folder, self.data_dir, self.log_path = Path(folder), Path(data_dir), Path(log)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, timeout: float = 60) -> "Dashboard":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            esphome_cmd("dashboard", "--address", "127.0.0.1", "--port", str(self.port), str(self.folder)),
            env=esphome_env(self.data_dir), stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until_ready(self.proc, lambda: self.get("version"), f"dashboard on {self.url}", self.log, timeout,
                         period=0.1)
        return self

    def get(self, path: str):
        with urllib.request.urlopen(f"{self.url}/{path}", timeout=10) as reply:
            return json.load(reply)

    def devices(self, expected=(), timeout: float = 30) -> dict:
        """The dashboard's configured devices (what the frontend draws cards from), by file name;
        first waits until `expected` are listed (the dashboard scans its folder in the background
        after it starts answering: on a busy machine the first answers may list none)."""
        deadline = time.monotonic() + timeout
        while True:
            devices = {d["configuration"]: d for d in self.get("devices")["configured"]}
            if set(expected) <= set(devices) or time.monotonic() > deadline:
                return devices
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text()[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        stop_process(self.proc, group=True, timeout=10)  # a compile it spawned must not outlive it


@pytest.fixture
def dashboard(tmp_path):
    """dashboard(folder, data_dir=None) -> a started Dashboard, stopped after the test whatever happens."""
    started = []

    def start(folder: Path, data_dir: Path | None = None) -> Dashboard:
        board = Dashboard(folder, data_dir or tmp_path / f"data{len(started)}",
                          tmp_path / f"dashboard{len(started)}.log")
        started.append(board)
        return board.start()

    yield start
    for board in started:
        board.stop()


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    """The project as a user has it, secrets.yaml included (Validate reads it)."""
    return stage_project(tmp_path_factory.mktemp("dashboard-stage"))


def test_dashboard_lists_only_the_esp_devices(dashboard, tmp_path):
    """The repository itself, as cloned: the root lists the four ESP devices (no card for common/,
    the secrets template, host/ or test configs), host/ lists the host builds, and the dashboard
    leaves no file behind in either folder (its data goes to ESPHOME_DATA_DIR)."""
    folders = {REPO: ({"esp8266", "esp32"}, ESP_DEVICES), REPO / "host": ({"host"}, HOST_DEVICES)}
    # The folders' listings, not git status: .esphome/ (ESPHome's default data dir) is gitignored.
    before = {folder: sorted(os.listdir(folder)) for folder in folders}
    for folder, (kinds, expected) in folders.items():
        board = dashboard(folder, tmp_path / f"data-{folder.name}")
        devices = board.devices(expected)
        assert set(devices) == expected, (folder, sorted(devices))
        for name, device in devices.items():
            assert Path(device["path"]).resolve() == (folder / name).resolve(), device
            assert len(platforms(folder / name)) == 1 and platforms(folder / name) <= kinds, name
        board.stop()
    assert {folder: sorted(os.listdir(folder)) for folder in folders} == before


def chrome():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("chromium/chromium-driver missing: `make setup` installs them (tools/debian-packages.txt)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    # The system driver, given explicitly: Selenium Manager would try to download one.
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def device_cards(driver) -> dict:
    """The page's device cards (Lit components, each in its shadow DOM), by config file name."""
    from selenium.webdriver.common.by import By

    listing = driver.find_element(By.CSS_SELECTOR, "esphome-devices-list").shadow_root
    cards = {}
    for card in listing.find_elements(By.CSS_SELECTOR, "esphome-configured-device-card"):
        root = card.shadow_root
        cards[root.find_element(By.CSS_SELECTOR, ".device-config-path code").text] = root
    return cards


@pytest.mark.slow
def test_dashboard_in_a_browser(dashboard, staged):
    """Headless Chromium on `esphome dashboard .`: a card per ESP device, each showing the name the
    dashboard read from its config; then Validate on the gateway through its card's menu, as a
    user does it, ends with the configuration valid. Screenshots to out/ for the README."""
    from selenium.common.exceptions import (NoSuchElementException, NoSuchShadowRootException,
                                            StaleElementReferenceException, TimeoutException)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    board = dashboard(staged)
    OUT.mkdir(exist_ok=True)
    driver = chrome()
    # An element may be found before its shadow root is attached (the Lit component upgrading).
    flaky = (NoSuchElementException, NoSuchShadowRootException, StaleElementReferenceException)
    try:
        driver.get(board.url + "/")
        cards = WebDriverWait(driver, 30, ignored_exceptions=flaky).until(
            lambda d: (c := device_cards(d)) and set(c) >= ESP_DEVICES and c)
        assert set(cards) == ESP_DEVICES, sorted(cards)

        # The page asks the dashboard to read each new config (compile --only-generate): a config
        # that does not load would keep no platform, and its card would show the file name only.
        try:
            devices = WebDriverWait(driver, 120).until(
                lambda d: (ds := board.devices()) and all(x["target_platform"] for x in ds.values()) and ds)
        except TimeoutException:
            unread = sorted(n for n, x in board.devices().items() if not x["target_platform"])
            pytest.fail(f"configs the dashboard could not read: {unread}\n{board.log()}")
        for name, device in devices.items():
            assert {device["target_platform"].lower()} == platforms(staged / name), device
        # The open page keeps its first cards; reloaded, as a user comes back to it, they show the devices.
        driver.refresh()
        WebDriverWait(driver, 30, ignored_exceptions=flaky).until(
            lambda d: {n: c.find_element(By.CSS_SELECTOR, ".card-header").text for n, c in device_cards(d).items()}
            == {n: x["friendly_name"] for n, x in devices.items()})
        driver.save_screenshot(str(OUT / "dashboard.png"))

        menu = device_cards(driver)["gateway.yaml"].find_element(By.CSS_SELECTOR, "esphome-button-menu")
        menu.find_element(By.CSS_SELECTOR, "mwc-icon-button").click()
        validate = WebDriverWait(driver, 10).until(
            lambda d: [i for i in menu.find_elements(By.CSS_SELECTOR, "mwc-list-item")
                       if i.is_displayed() and i.text.strip() == "Validate"])
        validate[0].click()

        def process_dialog(d):
            return (d.find_element(By.CSS_SELECTOR, "esphome-validate-dialog").shadow_root
                    .find_element(By.CSS_SELECTOR, "esphome-process-dialog").shadow_root)

        def log(d):
            return (process_dialog(d).find_element(By.CSS_SELECTOR, "esphome-remote-process").shadow_root
                    .find_element(By.CSS_SELECTOR, ".log").text)

        def heading(d):
            return process_dialog(d).find_element(By.CSS_SELECTOR, "mwc-dialog").get_attribute("heading")

        # The dialog's verdict: its title ends with ✅ when the command exits with 0, ❌ otherwise.
        try:
            WebDriverWait(driver, 180, ignored_exceptions=flaky).until(
                lambda d: (heading(d) or "").endswith(("✅", "❌")))
        finally:
            driver.save_screenshot(str(OUT / "dashboard-validate.png"))
        text = log(driver)
        assert heading(driver) == "Validate gateway.yaml ✅", text[-3000:]
        assert "Configuration is valid!" in text, text[-3000:]
    finally:
        driver.quit()


async def dashboard_compile(url: str, configuration: str, timeout: float) -> tuple[int | None, str]:
    """The dashboard's Install/compile websocket, as its frontend uses it: one "spawn", then "line"
    events with the output, and an "exit" event with the return code."""
    from tornado.websocket import websocket_connect

    ws = await websocket_connect(url.replace("http://", "ws://") + "/compile")
    try:
        await ws.write_message(json.dumps({"type": "spawn", "configuration": configuration}))
        lines = []
        deadline = time.monotonic() + timeout
        while True:
            message = await asyncio.wait_for(ws.read_message(), max(deadline - time.monotonic(), 0.1))
            if message is None:
                return None, "".join(lines) + "\n(websocket closed before the exit event)"
            event = json.loads(message)
            if event["event"] == "line":
                lines.append(event["data"])
            elif event["event"] == "exit":
                return event["code"], "".join(lines)
    finally:
        ws.close()


@pytest.mark.slow
def test_dashboard_compiles_the_host_gateway(dashboard, staged):
    """`esphome dashboard host/` compiles the host gateway offline (the dashboard's compile runs with
    its environment, our offline PlatformIO core): exit code 0 and the program is there."""
    ensure_pio_core()
    board = dashboard(staged / "host", COMPILE_DATA)
    name = "gateway-host.yaml"
    assert name in board.devices({name})
    # This data dir holds only the dashboard's host builds: their programs go first, so that an
    # up-to-date build from an earlier run cannot stand in for this one.
    for stale in COMPILE_DATA.glob("build/*/.pioenvs/*/program"):
        stale.unlink()
    code, output = asyncio.run(dashboard_compile(board.url, name, timeout=900))
    assert code == 0, output[-4000:] + board.log()
    # The build told the dashboard what it built: the host platform, and the node name (its build folder).
    device = board.devices()[name]
    assert {(device["target_platform"] or "").lower()} == platforms(staged / "host" / name), device
    assert host_program(device["name"], COMPILE_DATA).exists(), output[-3000:]
