"""hot_water: the hot-water manager (issue 12) in ESPHome. Thin glue around the plain-C++ Manager
(water_manager.h, where every decision is made): each update it reads the local time, the tank's
temperature and the routeur_pv hub's last frame, and drives channel 1 through the hub's command line
(boost / stop leases) or a bypass relay. See docs/hot_water.md."""

import re

from esphome import automation
import esphome.codegen as cg
from esphome.components import binary_sensor, datetime, sensor, switch, text_sensor, time, uart
import esphome.config_validation as cv
from esphome.const import (
    CONF_BINARY_SENSOR,
    CONF_DURATION,
    CONF_ENERGY,
    CONF_HYSTERESIS,
    CONF_ID,
    CONF_MAX_TEMPERATURE,
    CONF_TARGET_TEMPERATURE,
    CONF_TEMPERATURE,
    CONF_TIME,
    CONF_TIME_ID,
    CONF_TX_PIN,
    CONF_UART_ID,
    CONF_UPDATE_INTERVAL,
    CONF_VOLUME,
)
from esphome.core import CORE, TimePeriod
import esphome.final_validate as fv

CODEOWNERS = ["@routeur-pv"]
# The hub brings the frames in and takes the commands out; the tank's temperature is a sensor.
DEPENDENCIES = ["routeur_pv", "sensor", "time"]

CONF_HOT_WATER_ID = "hot_water_id"
CONF_ROUTEUR_PV_ID = "routeur_pv_id"  # the same key as routeur_pv's platforms
CONF_TEMPERATURE_TIMEOUT = "temperature_timeout"
CONF_HEATER_POWER = "heater_power"
CONF_TANK = "tank"
CONF_LOSS = "loss"
CONF_AMBIENT = "ambient"
CONF_BOOST = "boost"
CONF_DEADLINE = "deadline"
CONF_DATETIME_ID = "datetime_id"
CONF_OFF_PEAK = "off_peak"
CONF_WINDOWS = "windows"
CONF_TEXT_SENSOR = "text_sensor"
CONF_CONTAINS = "contains"
CONF_LEGIONELLA = "legionella"
CONF_HOLD = "hold"
CONF_EVERY = "every"
CONF_BYPASS_RELAY = "bypass_relay"

hot_water_ns = cg.esphome_ns.namespace("hot_water")
HotWaterComponent = hot_water_ns.class_("HotWaterComponent", cg.PollingComponent)
BoostAction = hot_water_ns.class_("BoostAction", automation.Action)
CancelBoostAction = hot_water_ns.class_("CancelBoostAction", automation.Action)

# The hub's class, declared by name (ids match by type name): importing routeur_pv's module would
# turn a missing routeur_pv into an import error rather than ESPHome's "requires routeur_pv".
routeur_pv_ns = cg.esphome_ns.namespace("routeur_pv")
RouteurPvComponent = routeur_pv_ns.class_("RouteurPvComponent", cg.Component)

# Ranges shared by the options and the numbers that change them at run time (number.py).
MAX_TEMPERATURE_RANGE = (40.0, 90.0)
DEADLINE_TEMPERATURE_RANGE = (30.0, 75.0)
BOOST_TARGET_MAX = 90.0
# The longest boost (also a boost of duration 0, which runs until its target temperature).
MAX_BOOST = TimePeriod(hours=12)

_power = cv.float_with_unit("power", "(W|w|watt|watts|Watt|Watts)?")
_volume = cv.float_with_unit("volume", "(L|l|litre|litres|liter|liters)?")
_loss = cv.float_with_unit("standing loss", "(W/K|W/°C|W/C)?")
_energy = cv.float_with_unit("energy", "(Wh|wh)?")  # in Wh: "3kWh" is 3000
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _off_peak_window(value):
    """'HH:MM-HH:MM' -> (start minute, end minute) of the local day; an end before the start wraps
    past midnight ("22:00-06:00"), 24:00 is accepted as an end."""
    value = cv.string_strict(value)
    match = _WINDOW.match(value)
    if match is None:
        raise cv.Invalid(f"off-peak window '{value}' is not HH:MM-HH:MM (e.g. \"22:00-06:00\")")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise cv.Invalid(f"off-peak window '{value}': no such time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end % 1440:
        raise cv.Invalid(f"off-peak window '{value}' is empty: its start and end are the same")
    return [start, end]


def _whole_days(value):
    if value.total_seconds % 86400 != 0:
        raise cv.Invalid(f"a number of whole days (e.g. 7days), got {value}")
    return value


TANK_SCHEMA = cv.Schema(
    {
        cv.Optional(CONF_VOLUME, default="200L"): cv.All(_volume, cv.Range(min=5.0, max=2000.0)),
        # standing losses per kelvin above the room (a 200-L tank: ~1.6 W/K, 1.3 kWh a day at 55 degC)
        cv.Optional(CONF_LOSS, default="1.6W/K"): cv.All(_loss, cv.Range(min=0.0, max=20.0)),
        cv.Optional(CONF_AMBIENT, default=18.0): cv.All(cv.temperature, cv.Range(min=-10.0, max=40.0)),
    }
)

BOOST_SCHEMA = cv.Schema(
    {
        cv.Optional(CONF_DURATION, default="60min"): cv.All(
            cv.positive_time_period_seconds, cv.Range(max=MAX_BOOST)
        ),
        # 0 or absent: no target, the boost runs for its duration
        cv.Optional(CONF_TARGET_TEMPERATURE): cv.All(
            cv.temperature, cv.Range(min=0.0, max=BOOST_TARGET_MAX)
        ),
    }
)

DEADLINE_SCHEMA = cv.All(
    cv.Schema(
        {
            cv.Optional(CONF_TIME): cv.time_of_day,
            cv.Optional(CONF_DATETIME_ID): cv.use_id(datetime.TimeEntity),
            cv.Optional(CONF_TEMPERATURE): cv.All(
                cv.temperature, cv.Range(*DEADLINE_TEMPERATURE_RANGE)
            ),
            cv.Optional(CONF_ENERGY): cv.All(
                _energy,
                cv.Range(min=100.0, max=50000.0, msg="energy must be 100 Wh to 50 kWh (write e.g. 3kWh)"),
            ),
        }
    ),
    cv.has_exactly_one_key(CONF_TIME, CONF_DATETIME_ID),
    cv.has_exactly_one_key(CONF_TEMPERATURE, CONF_ENERGY),
)


def _contains_needs_text_sensor(config):
    if CONF_CONTAINS in config and CONF_TEXT_SENSOR not in config:
        raise cv.Invalid(
            f"'{CONF_CONTAINS}' is what the tariff text sensor says in off-peak hours: it needs "
            f"'{CONF_TEXT_SENSOR}'",
            path=[CONF_CONTAINS],
        )
    if CONF_TEXT_SENSOR in config and CONF_CONTAINS not in config:
        # teleinfo PTEC "HC.." (Tempo "HCJB".."HCJR"), LTARF "HEURE CREUSE"
        config = {**config, CONF_CONTAINS: ["HC", "CREUSE"]}
    return config


OFF_PEAK_SCHEMA = cv.All(
    cv.Schema(
        {
            cv.Optional(CONF_WINDOWS): cv.All(cv.ensure_list(_off_peak_window), cv.Length(min=1)),
            # on = off-peak now (e.g. a Home Assistant binary sensor through `platform: homeassistant`)
            cv.Optional(CONF_BINARY_SENSOR): cv.use_id(binary_sensor.BinarySensor),
            # off-peak while its text contains one of `contains` (the meter's PTEC / LTARF, teleinfo)
            cv.Optional(CONF_TEXT_SENSOR): cv.use_id(text_sensor.TextSensor),
            cv.Optional(CONF_CONTAINS): cv.All(cv.ensure_list(cv.string_strict), cv.Length(min=1)),
        }
    ),
    cv.has_at_least_one_key(CONF_WINDOWS, CONF_BINARY_SENSOR, CONF_TEXT_SENSOR),
    cv.has_at_most_one_key(CONF_BINARY_SENSOR, CONF_TEXT_SENSOR),
    _contains_needs_text_sensor,
)

LEGIONELLA_SCHEMA = cv.Schema(
    {
        cv.Optional(CONF_TEMPERATURE, default=60.0): cv.All(cv.temperature, cv.Range(min=50.0, max=80.0)),
        cv.Optional(CONF_HOLD, default="30min"): cv.All(
            cv.positive_time_period_seconds, cv.Range(min=TimePeriod(minutes=1), max=TimePeriod(hours=4))
        ),
        # 0: no anti-legionella cycle
        cv.Optional(CONF_EVERY, default="7days"): cv.All(
            cv.positive_time_period_seconds, _whole_days, cv.Range(max=TimePeriod(days=255))
        ),
    }
)


def _legionella_enabled(config) -> bool:
    return config[CONF_LEGIONELLA][CONF_EVERY].total_seconds > 0


def _check_update_interval(config):
    # the Manager wants an update once a minute or more often
    interval = config[CONF_UPDATE_INTERVAL]
    if not TimePeriod(seconds=1) <= interval <= TimePeriod(minutes=1):
        raise cv.Invalid(
            f"{CONF_UPDATE_INTERVAL} must be 1s to 1min, got {interval}", path=[CONF_UPDATE_INTERVAL]
        )
    return config


def _check_temperatures(config):
    """The options against one another, each error naming the option to change."""
    max_c, hysteresis = config[CONF_MAX_TEMPERATURE], config[CONF_HYSTERESIS]
    if _legionella_enabled(config):
        legionella_c = config[CONF_LEGIONELLA][CONF_TEMPERATURE]
        # Stopped at the maximum, the tank only restarts heating once `hysteresis` below it: the
        # cycle's temperature must stay reachable and holdable under that.
        if legionella_c > max_c - hysteresis:
            raise cv.Invalid(
                f"legionella temperature ({legionella_c:g} degC) must be at most {CONF_MAX_TEMPERATURE} "
                f"- {CONF_HYSTERESIS} ({max_c:g} - {hysteresis:g} = {max_c - hysteresis:g} degC): the "
                "maximum's stop would keep the cycle from holding it (raise max_temperature, lower the "
                "hysteresis or the legionella temperature, or set legionella every: 0)",
                path=[CONF_LEGIONELLA, CONF_TEMPERATURE],
            )
    deadline = config.get(CONF_DEADLINE)
    if deadline is not None and CONF_TEMPERATURE in deadline and deadline[CONF_TEMPERATURE] >= max_c:
        raise cv.Invalid(
            f"deadline temperature ({deadline[CONF_TEMPERATURE]:g} degC) must be below "
            f"{CONF_MAX_TEMPERATURE} ({max_c:g} degC)",
            path=[CONF_DEADLINE, CONF_TEMPERATURE],
        )
    target = config[CONF_BOOST].get(CONF_TARGET_TEMPERATURE, 0.0)
    if target > max_c:
        raise cv.Invalid(
            f"boost target_temperature ({target:g} degC) is above {CONF_MAX_TEMPERATURE} ({max_c:g} "
            "degC): it would never be reached",
            path=[CONF_BOOST, CONF_TARGET_TEMPERATURE],
        )
    return config


CONFIG_SCHEMA = cv.All(
    cv.Schema(
        {
            cv.GenerateID(): cv.declare_id(HotWaterComponent),
            cv.GenerateID(CONF_ROUTEUR_PV_ID): cv.use_id(RouteurPvComponent),
            cv.Required(CONF_TIME_ID): cv.use_id(time.RealTimeClock),
            cv.Required(CONF_TEMPERATURE): cv.use_id(sensor.Sensor),
            cv.Optional(CONF_TEMPERATURE_TIMEOUT, default="3min"): cv.All(
                cv.positive_time_period_milliseconds, cv.Range(min=TimePeriod(seconds=10))
            ),
            cv.Required(CONF_HEATER_POWER): cv.All(_power, cv.Range(min=100.0, max=10000.0)),
            cv.Optional(CONF_TANK, default={}): TANK_SCHEMA,
            cv.Optional(CONF_MAX_TEMPERATURE, default=65.0): cv.All(
                cv.temperature, cv.Range(*MAX_TEMPERATURE_RANGE)
            ),
            cv.Optional(CONF_HYSTERESIS, default=3.0): cv.All(
                cv.temperature_delta, cv.Range(min=0.5, max=20.0)
            ),
            cv.Optional(CONF_BOOST, default={}): BOOST_SCHEMA,
            cv.Optional(CONF_DEADLINE): DEADLINE_SCHEMA,
            cv.Optional(CONF_OFF_PEAK): OFF_PEAK_SCHEMA,
            cv.Optional(CONF_LEGIONELLA, default={}): LEGIONELLA_SCHEMA,
            cv.Optional(CONF_BYPASS_RELAY): cv.use_id(switch.Switch),
        }
    ).extend(cv.polling_component_schema("5s")),
    _check_update_interval,
    _check_temperatures,
)


def hub_can_send(full_config, hub_id) -> bool:
    """Whether the routeur_pv hub has its command line: a uart with tx_pin (routeur_pv's own rule:
    a host uart, a pty, always sends)."""
    hub = full_config.get_config_for_path(full_config.get_path_for_id(hub_id)[:-1])
    bus = full_config.get_config_for_path(full_config.get_path_for_id(hub[CONF_UART_ID])[:-1])
    return CONF_TX_PIN in bus or str(bus[CONF_ID].type) not in uart.NATIVE_UART_CLASSES


def _final_validate(config):
    full = fv.full_config.get()
    if CONF_BYPASS_RELAY not in config and not hub_can_send(full, config[CONF_ROUTEUR_PV_ID]):
        hub = full.get_config_for_path(full.get_path_for_id(config[CONF_ROUTEUR_PV_ID])[:-1])
        raise cv.Invalid(
            "hot_water forces the heater through the ATmega's command line, which needs 'tx_pin:' in "
            f"uart '{hub[CONF_UART_ID]}' (Wemos D1 mini: GPIO4, ESP32: GPIO17: docs/gateway.md), or "
            f"through a relay across the SSR: '{CONF_BYPASS_RELAY}:' (a switch); neither is there",
            path=[CONF_BYPASS_RELAY],
        )
    return config


FINAL_VALIDATE_SCHEMA = _final_validate


async def to_code(config):
    var = cg.new_Pvariable(config[CONF_ID])
    await cg.register_component(var, config)

    hub = await cg.get_variable(config[CONF_ROUTEUR_PV_ID])
    cg.add(var.set_hub(hub))
    if hub_can_send(CORE.config, config[CONF_ROUTEUR_PV_ID]):
        cg.add(var.set_use_link(True))
        cg.add(hub.set_command_line(True))  # the boost / stop leases go out on the hub's TX
    cg.add(var.set_time(await cg.get_variable(config[CONF_TIME_ID])))
    cg.add(var.set_temperature_sensor(await cg.get_variable(config[CONF_TEMPERATURE])))
    cg.add(var.set_temperature_timeout(config[CONF_TEMPERATURE_TIMEOUT]))
    cg.add(var.set_heater_power(config[CONF_HEATER_POWER]))
    tank = config[CONF_TANK]
    cg.add(var.set_tank(tank[CONF_VOLUME], tank[CONF_LOSS], tank[CONF_AMBIENT]))
    cg.add(var.set_max_temperature(config[CONF_MAX_TEMPERATURE]))
    cg.add(var.set_hysteresis(config[CONF_HYSTERESIS]))

    boost = config[CONF_BOOST]
    cg.add(var.set_boost_duration(boost[CONF_DURATION].total_seconds))
    if CONF_TARGET_TEMPERATURE in boost:
        cg.add(var.set_boost_target(boost[CONF_TARGET_TEMPERATURE]))

    if deadline := config.get(CONF_DEADLINE):
        cg.add(var.set_deadline_enabled(True))
        if CONF_TIME in deadline:
            t = deadline[CONF_TIME]
            cg.add(var.set_deadline_minute(t["hour"] * 60 + t["minute"]))
        else:
            cg.add(var.set_deadline_time_entity(await cg.get_variable(deadline[CONF_DATETIME_ID])))
        if CONF_TEMPERATURE in deadline:
            cg.add(var.set_deadline_temperature(deadline[CONF_TEMPERATURE]))
        else:
            cg.add(var.set_deadline_energy(deadline[CONF_ENERGY] / 1000.0))

    if off_peak := config.get(CONF_OFF_PEAK):
        for start, end in off_peak.get(CONF_WINDOWS, []):
            cg.add(var.add_off_peak_window(start, end))
        if CONF_BINARY_SENSOR in off_peak:
            cg.add(var.set_off_peak_binary_sensor(await cg.get_variable(off_peak[CONF_BINARY_SENSOR])))
        if CONF_TEXT_SENSOR in off_peak:
            cg.add(var.set_off_peak_text_sensor(await cg.get_variable(off_peak[CONF_TEXT_SENSOR])))
            for text in off_peak[CONF_CONTAINS]:
                cg.add(var.add_off_peak_text(text))

    legionella = config[CONF_LEGIONELLA]
    cg.add(
        var.set_legionella(
            legionella[CONF_TEMPERATURE],
            legionella[CONF_HOLD].total_seconds,
            legionella[CONF_EVERY].total_seconds // 86400,
        )
    )
    if CONF_BYPASS_RELAY in config:
        cg.add(var.set_bypass_relay(await cg.get_variable(config[CONF_BYPASS_RELAY])))


# ---------------------------------------------------------------------------- actions
_HOT_WATER_ID = {cv.GenerateID(): cv.use_id(HotWaterComponent)}


@automation.register_action(
    "hot_water.boost",
    BoostAction,
    cv.Schema(
        {
            **_HOT_WATER_ID,
            # absent: the Boost duration number (or boost: duration); 0: until the target, 12 h at most
            cv.Optional(CONF_DURATION): cv.templatable(
                cv.All(cv.positive_time_period_milliseconds, cv.Range(max=MAX_BOOST))
            ),
            # absent: the Boost target number (or boost: target_temperature); 0: no target
            cv.Optional(CONF_TARGET_TEMPERATURE): cv.templatable(
                cv.All(cv.temperature, cv.Range(min=0.0, max=BOOST_TARGET_MAX))
            ),
        }
    ),
    synchronous=True,
)
async def boost_action_to_code(config, action_id, template_arg, args):
    var = cg.new_Pvariable(action_id, template_arg)
    await cg.register_parented(var, config[CONF_ID])
    if CONF_DURATION in config:
        cg.add(var.set_duration(await cg.templatable(config[CONF_DURATION], args, cg.uint32)))
    if CONF_TARGET_TEMPERATURE in config:
        cg.add(
            var.set_target_temperature(
                await cg.templatable(config[CONF_TARGET_TEMPERATURE], args, cg.float_)
            )
        )
    return var


@automation.register_action(
    "hot_water.cancel_boost",
    CancelBoostAction,
    automation.maybe_simple_id(_HOT_WATER_ID),
    synchronous=True,
)
async def cancel_boost_action_to_code(config, action_id, template_arg, args):
    var = cg.new_Pvariable(action_id, template_arg)
    await cg.register_parented(var, config[CONF_ID])
    return var
