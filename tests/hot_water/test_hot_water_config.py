"""Schema and code generation of the hot_water component, its packages (common/gateway-hot-water.yaml,
common/tank-dallas.yaml) and the documented change to the gateway YAML files."""
import re

import pytest

# The gateway's config helpers: the staged project (the `project` fixture), `esphome config` on a
# text, the host and ESP8266 hub configs.
from tests.gateway.test_gateway_config import (  # noqa: F401  (project: a fixture)
    check, esp_config, hub_config, project, run_esphome,
)

COMPONENTS = ("components: [routeur_pv]", "components: [routeur_pv, hot_water]")

HOT_WATER = """
time:
  - platform: {time}
    id: the_time
sensor:
  - platform: template
    id: tank
hot_water:
  time_id: the_time
  temperature: tank
  heater_power: 2000W
"""


def with_hot_water(head: str, options: str = "", time: str = "host") -> str:
    """A hub config (host or ESP8266) with hot_water (options: more of its lines, indented by 2)."""
    assert COMPONENTS[0] in head
    text = head.replace(*COMPONENTS) + HOT_WATER.format(time=time)
    return text + "".join(f"  {line}\n" for line in options.strip("\n").splitlines())


def host_config(options: str = "", more: str = "") -> str:
    """hot_water on the host: its uart (a pty) always sends, so the command line is there."""
    return with_hot_water(hub_config("heater_power: 2000W"), options) + more


def esp_hot_water(options: str = "", more: str = "", tx_pin: bool = False) -> str:
    return with_hot_water(esp_config(tx_pin=tx_pin), options, time="sntp") + more


# ---------------------------------------------------------------------------- the documented change
def documented(text: str, tx_pin: bool = True) -> str:
    """gateway.yaml or gateway-esp32.yaml with their commented hot-water lines enabled (and tx_pin)."""
    for package in ("tank", "hot_water"):
        text, n = re.subn(rf"^  # ({package}: !include \S+)$", r"  \1", text, flags=re.M)
        assert n == 1, f"no commented '{package}:' package line"
    if tx_pin:
        text, n = re.subn(r"^  # (tx_pin: \S+).*$", r"  \1", text, flags=re.M)
        assert n == 1, "no commented tx_pin line"
    return text


EXPECTED = [
    "water->set_hub(routeur);", "water->set_use_link(true);", "routeur->set_command_line(true);",
    "water->set_time(ha_time);", "water->set_temperature_sensor(tank_temperature);",
    "water->set_temperature_timeout(180000);", "water->set_heater_power(2000.0f);",
    "water->set_tank(200.0f, 1.6f, 18.0f);", "water->set_max_temperature(65.0f);",
    "water->set_hysteresis(3.0f);", "water->set_boost_duration(3600);", "water->set_deadline_enabled(true);",
    "water->set_deadline_time_entity(hot_water_deadline_time);", "water->set_deadline_temperature(55.0f);",
    "water->set_legionella(60.0f, 1800, 7);", "water->set_update_interval(5000);",
    "water->set_energy_needed_sensor(", "water->set_solar_expected_sensor(", "water->set_forcing_starts_sensor(",
    "water->set_last_legionella_sensor(", "water->set_solar_energy_today_sensor(",
    "water->set_grid_energy_today_sensor(", "water->set_boost_remaining_sensor(",
    "water->set_forcing_binary_sensor(", "water->set_temperature_problem_binary_sensor(",
    "water->set_legionella_overdue_binary_sensor(", "water->set_state_text_sensor(",
    "->set_kind(hot_water::HotWaterNumber::MAX_TEMPERATURE);",
    "->set_kind(hot_water::HotWaterNumber::BOOST_TARGET);",
    "->set_kind(hot_water::HotWaterButton::CANCEL_BOOST);", "hot_water::DeadlineSwitch();",
    "dallas_temp::DallasTemperatureSensor();",
]


@pytest.mark.parametrize("yaml_name,node", [("gateway.yaml", "routeur-pv"),
                                            ("gateway-esp32.yaml", "routeur-pv-esp32")])
def test_documented_change_generates(project, yaml_name, node, tmp_path):
    """Uncomment the tank and hot_water packages and tx_pin: config and code generation pass."""
    name = f"hw-{yaml_name}"
    (project / name).write_text(documented((project / yaml_name).read_text()))
    r = run_esphome("config", name, cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    r = run_esphome("compile", "--only-generate", name, cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    src = tmp_path / "build" / node / "src"
    main = (src / "main.cpp").read_text()
    for expected in EXPECTED:
        assert expected in main, f"{expected!r} missing from {name}'s main.cpp"
    assert "set_bypass_relay" not in main
    component = src / "esphome" / "components" / "hot_water"
    assert (component / "water_manager.cpp").exists() and (component / "hot_water.cpp").exists()


# The off-peak signals docs/hot_water.md shows: the Linky meter's tariff through ESPHome's own
# teleinfo (historical mode, PTEC "HC.."/"HP.."; its TIC output through an optocoupler to D6), or a
# Home Assistant binary sensor.
TARIFF_SIGNALS = {
    "teleinfo": ("""
uart:
  - id: tic_uart
    rx_pin: GPIO12
    baud_rate: 1200
    data_bits: 7
    parity: EVEN
teleinfo:
  id: linky
  uart_id: tic_uart
  historical_mode: true
text_sensor:
  - platform: teleinfo
    id: tariff
    tag_name: PTEC
    name: "Tariff period"
hot_water:
  off_peak:
    text_sensor: tariff
""", "water->set_off_peak_text_sensor(tariff);"),
    "homeassistant": ("""
binary_sensor:
  - platform: homeassistant
    id: hc
    entity_id: binary_sensor.off_peak
hot_water:
  off_peak:
    binary_sensor: hc
    windows: ["22:00-06:00"]
""", "water->set_off_peak_binary_sensor(hc);"),
}


def uart_as_list(text: str) -> str:
    """`uart:` with one bus as a mapping -> the same bus as the first item of a list."""
    lines, out, inside, first = text.splitlines(), [], False, True
    for line in lines:
        if line == "uart:":
            inside = True
        elif inside and line.startswith("  "):
            line = ("  - " if first else "    ") + line[2:]
            first = False
        elif inside and line.strip():
            inside = False
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("signal", list(TARIFF_SIGNALS))
def test_documented_change_with_a_tariff_signal_generates(project, signal, tmp_path):
    more, expected = TARIFF_SIGNALS[signal]
    name = f"hw-{signal}.yaml"
    text = documented((project / "gateway.yaml").read_text())
    if signal == "teleinfo":  # the gateway's uart becomes the first of two
        text = uart_as_list(text)
        more = more.replace("uart:\n", "")
        text = text.replace("\nlogger:", more.split("teleinfo:")[0].rstrip() + "\n\nlogger:", 1)
        more = "teleinfo:" + more.split("teleinfo:", 1)[1]
    (project / name).write_text(text + more)
    r = run_esphome("compile", "--only-generate", name, cwd=project, data_dir=tmp_path)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    main = (tmp_path / "build" / "routeur-pv" / "src" / "main.cpp").read_text()
    assert expected in main


@pytest.mark.parametrize("yaml_name", ["gateway.yaml", "gateway-esp32.yaml"])
def test_documented_change_without_tx_pin_names_it(project, yaml_name, tmp_path):
    name = f"hw-notx-{yaml_name}"
    (project / name).write_text(documented((project / yaml_name).read_text(), tx_pin=False))
    r = run_esphome("config", name, cwd=project, data_dir=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "needs 'tx_pin:' in uart 'atmega_uart'" in out and "'bypass_relay:'" in out, out[-3000:]


RELAY = """
switch:
  - platform: gpio
    id: heater_relay
    pin: GPIO13
    restore_mode: ALWAYS_OFF
"""


def test_bypass_relay_without_tx_pin_passes(tmp_path):
    """Forcing through the relay only: allowed (a stop can only open the relay, docs/hot_water.md)."""
    (tmp_path / "t.yaml").write_text(esp_hot_water("bypass_relay: heater_relay", RELAY))
    r = run_esphome("compile", "--only-generate", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    main = (tmp_path / "data" / "build" / "cfgtest" / "src" / "main.cpp").read_text()
    assert "->set_bypass_relay(heater_relay);" in main
    assert "set_use_link" not in main and "set_command_line(true)" not in main


def test_neither_link_nor_relay_names_both(tmp_path):
    rc, out = check(tmp_path, esp_hot_water())
    assert rc != 0
    assert "'tx_pin:' in uart 'bus'" in out and "bypass_relay" in out, out[-3000:]
    rc, out = check(tmp_path, esp_hot_water(tx_pin=True))
    assert rc == 0, out[-3000:]


# ---------------------------------------------------------------------------- options
FULL = """
temperature_timeout: 2min
tank: {volume: 300 L, loss: 2.1 W/K, ambient: 15}
max_temperature: 70
hysteresis: 4
boost: {duration: 45min, target_temperature: 62}
deadline:
  time: "07:30"
  energy: 3kWh
off_peak:
  windows: ["22:00-06:00", "13:00-15:00"]
  binary_sensor: hc
legionella: {temperature: 62, hold: 45min, every: 14days}
update_interval: 10s
"""
SIGNAL = """
binary_sensor:
  - platform: template
    id: hc
text_sensor:
  - platform: template
    id: tariff
"""


def test_every_option_generates(tmp_path):
    (tmp_path / "t.yaml").write_text(host_config(FULL, SIGNAL + """
interval:
  - interval: 1h
    then:
      - hot_water.boost:
      - hot_water.boost:
          duration: 20min
          target_temperature: 58
      - hot_water.cancel_boost:
"""))
    r = run_esphome("compile", "--only-generate", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    flat = re.sub(r"\s+", " ", (tmp_path / "data" / "build" / "cfgtest" / "src" / "main.cpp").read_text())
    for expected in ["->set_temperature_timeout(120000);", "->set_tank(300.0f, 2.1f, 15.0f);",
                     "->set_max_temperature(70.0f);", "->set_hysteresis(4.0f);", "->set_boost_duration(2700);",
                     "->set_boost_target(62.0f);", "->set_deadline_minute(450);", "->set_deadline_energy(3.0f);",
                     "->add_off_peak_window(1320, 360);", "->add_off_peak_window(780, 900);",
                     "->set_off_peak_binary_sensor(hc);", "->set_legionella(62.0f, 2700, 14);",
                     "->set_update_interval(10000);", "hot_water::BoostAction<>()", "hot_water::CancelBoostAction<>()",
                     "set_duration([]() -> uint32_t { return 1200000; })",
                     "set_target_temperature([]() -> float { return 58.0f; })"]:
        assert expected in flat, f"{expected!r} missing from main.cpp"


def test_text_sensor_tariff_defaults(tmp_path):
    (tmp_path / "t.yaml").write_text(host_config("off_peak: {text_sensor: tariff}", SIGNAL))
    r = run_esphome("compile", "--only-generate", "t.yaml", cwd=tmp_path, data_dir=tmp_path / "data")
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    main = (tmp_path / "data" / "build" / "cfgtest" / "src" / "main.cpp").read_text()
    for expected in ['->set_off_peak_text_sensor(tariff);', '->add_off_peak_text("HC");',
                     '->add_off_peak_text("CREUSE");']:
        assert expected in main


@pytest.mark.parametrize("options,names", [
    # the maximum's stop must not keep the anti-legionella cycle from holding its temperature
    ("max_temperature: 58", ["legionella temperature", "max_temperature"]),
    ("hysteresis: 8", ["legionella temperature", "hysteresis"]),
    ("max_temperature: 120", ["max_temperature"]),
    ("deadline: {time: '18:00', temperature: 66}", ["deadline temperature", "max_temperature"]),
    ("boost: {target_temperature: 70}", ["target_temperature", "max_temperature"]),
    ("off_peak: {windows: ['22:00-06:00', '22h-6h']}", ["'22h-6h'", "HH:MM-HH:MM"]),
    ("off_peak: {windows: ['25:00-06:00']}", ["'25:00-06:00'"]),
    ("off_peak: {windows: ['06:00-06:00']}", ["'06:00-06:00'", "empty"]),
    ("off_peak: {binary_sensor: hc, text_sensor: tariff}", ["binary_sensor", "text_sensor"]),
    ("off_peak: {windows: ['22:00-06:00'], contains: [HC]}", ["contains", "text_sensor"]),
    ("off_peak: {}", ["windows", "binary_sensor", "text_sensor"]),
    ("deadline: {time: '18:00', datetime_id: dl, temperature: 55}", ["time", "datetime_id"]),
    ("deadline: {temperature: 55}", ["time", "datetime_id"]),
    ("deadline: {time: '18:00', temperature: 55, energy: 3kWh}", ["temperature", "energy"]),
    ("deadline: {time: '18:00'}", ["temperature", "energy"]),
    ("deadline: {time: '18:00', energy: 3}", ["energy", "3kWh"]),
    ("deadline: {time: '25:00', temperature: 55}", ["time"]),
    ("legionella: {every: 36h}", ["every", "whole days"]),
    ("update_interval: 5min", ["update_interval"]),
    ("heater_powr: 2000", ["heater_powr"]),
])
def test_invalid_option_named(tmp_path, options, names):
    more = SIGNAL + """
datetime:
  - platform: template
    id: dl
    type: time
    optimistic: true
"""
    rc, out = check(tmp_path, host_config(options, more))
    assert rc != 0, out[-3000:]
    for name in names:
        assert name in out, f"{name!r} not in:\n{out[-3000:]}"


def test_time_id_required(tmp_path):
    rc, out = check(tmp_path, host_config().replace("  time_id: the_time\n", ""))
    assert rc != 0
    assert "time_id" in out, out[-3000:]


NUMBER = """
number:
  - platform: hot_water
    deadline_temperature: {name: Deadline temperature}
"""
SWITCH = """
switch:
  - platform: hot_water
    deadline_enabled: {name: Deadline}
"""


@pytest.mark.parametrize("deadline,entity,ok", [
    ("", NUMBER, False), ("", SWITCH, False),
    ("deadline: {time: '18:00', energy: 2kWh}", NUMBER, False),
    ("deadline: {time: '18:00', energy: 2kWh}", SWITCH, True),
    ("deadline: {time: '18:00', temperature: 50}", NUMBER + SWITCH, True),
])
def test_deadline_entities_need_their_deadline(tmp_path, deadline, entity, ok):
    rc, out = check(tmp_path, host_config(deadline, entity))
    assert (rc == 0) == ok, out[-3000:]
    if not ok:
        name = "deadline_temperature" if entity == NUMBER else "deadline_enabled"
        assert f"'{name}'" in out and "needs 'deadline:" in out, out[-3000:]


def test_action_options_checked(tmp_path):
    for action, name in [("hot_water.boost:\n          duration: 13h", "duration"),
                         ("hot_water.boost:\n          target_temperature: 120", "target_temperature")]:
        rc, out = check(tmp_path, host_config("", f"""
interval:
  - interval: 1h
    then:
      - {action}
"""))
        assert rc != 0 and name in out, out[-3000:]
