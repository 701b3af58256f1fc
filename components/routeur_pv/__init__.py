"""routeur_pv: hub reading the PV router ATmega's serial frames, and sending it command lines on
the uart's TX when something uses them (see docs/gateway.md)."""

from esphome import automation
import esphome.codegen as cg
from esphome.components import uart
import esphome.config_validation as cv
from esphome.config_helpers import filter_source_files_from_platform
from esphome.const import (
    CONF_BAUD_RATE,
    CONF_DURATION,
    CONF_ID,
    CONF_PLATFORM,
    CONF_POWER,
    CONF_TIMEOUT,
    CONF_TX_PIN,
    CONF_UART_ID,
    PlatformFramework,
)
from esphome.core import CORE
import esphome.final_validate as fv

CODEOWNERS = ["@routeur-pv"]
DEPENDENCIES = ["uart"]
MULTI_CONF = True

CONF_ROUTEUR_PV_ID = "routeur_pv_id"
CONF_HEATER_POWER = "heater_power"
CONF_LEGACY_API = "legacy_api"
CONF_LEGACY_API_ID = "legacy_api_id"
CONF_WEB_SERVER_BASE_ID = "web_server_base_id"  # same key as web_server_base's
CONF_ENERGY_UPDATE_INTERVAL = "energy_update_interval"
CONF_CHANNEL2_POWER = "channel2_power"
CONF_EXPORT_TARGET = "export_target"
CONF_VOLTAGE_CALIBRATION = "voltage_calibration"
CONF_CURRENT_CALIBRATION = "current_calibration"


_power = cv.float_with_unit("power", "(W|w|watt|watts|Watt|Watts)?")


def _legacy_api_supported() -> bool:
    return CORE.is_esp8266 or CORE.is_esp32


def AUTO_LOAD():
    # The old gateway's JSON API needs an HTTP server: only ESP targets have web_server_base.
    if _legacy_api_supported():
        return ["web_server_base"]
    return []


routeur_pv_ns = cg.esphome_ns.namespace("routeur_pv")
RouteurPvComponent = routeur_pv_ns.class_(
    "RouteurPvComponent", cg.Component, uart.UARTDevice
)
RouteurPvLegacyApi = routeur_pv_ns.class_("RouteurPvLegacyApi", cg.Component)
Setting = routeur_pv_ns.enum("Setting")

# The ATmega's settings (command_link.cpp's table, in its units x `unit`; tests check both agree):
# config key -> (C++ Setting, min, max, step, unit of measurement). The same keys name the numbers
# and the options of routeur_pv.set_settings.
SETTINGS = {
    CONF_HEATER_POWER: ("SETTING_HEATER", 300, 8000, 1, "W"),
    CONF_CHANNEL2_POWER: ("SETTING_CH2", 50, 8000, 1, "W"),
    CONF_EXPORT_TARGET: ("SETTING_EXPORT", 0, 79, 1, "W"),
    CONF_VOLTAGE_CALIBRATION: ("SETTING_VOLTAGE_CAL", 2.5, 10.0, 0.01, "mV/V"),
    CONF_CURRENT_CALIBRATION: ("SETTING_CURRENT_CAL", 10.0, 160.0, 0.1, "mV/A"),
}
# Longest timed boost or stop (CommandLink::MAX_TIMED_MS), and the Boost duration number's max.
MAX_TIMED = cv.TimePeriod(hours=12)

BoostAction = routeur_pv_ns.class_("BoostAction", automation.Action)
StopAction = routeur_pv_ns.class_("StopAction", automation.Action)
AutoAction = routeur_pv_ns.class_("AutoAction", automation.Action)
SetSettingsAction = routeur_pv_ns.class_("SetSettingsAction", automation.Action)
COMMAND_ACTIONS = ("routeur_pv.boost", "routeur_pv.stop", "routeur_pv.auto", "routeur_pv.set_settings")
# Platforms whose every entity sends command lines (the sensors only read what the frames say).
COMMAND_PLATFORMS = ("select", "number")


def _web_server_base_schema():
    from esphome.components import web_server_base

    return cv.use_id(web_server_base.WebServerBase)


def _validate_legacy_api(config):
    if config[CONF_LEGACY_API] and not _legacy_api_supported():
        raise cv.Invalid(
            f"{CONF_LEGACY_API} (GET /api/routeur) needs web_server_base, only available on "
            "ESP8266/ESP32; set 'legacy_api: false' on this platform",
            path=[CONF_LEGACY_API],
        )
    return config


CONFIG_SCHEMA = cv.All(
    cv.Schema(
        {
            cv.GenerateID(): cv.declare_id(RouteurPvComponent),
            cv.Optional(CONF_HEATER_POWER): cv.All(
                _power, cv.Range(min=1.0, max=100000.0)
            ),
            cv.Optional(
                CONF_TIMEOUT, default="5s"
            ): cv.positive_time_period_milliseconds,
            # energy totals change every frame: published at most this often (and at link loss)
            cv.Optional(
                CONF_ENERGY_UPDATE_INTERVAL, default="10s"
            ): cv.All(
                cv.positive_time_period_milliseconds,
                cv.Range(max=cv.TimePeriod(minutes=60)),
            ),
            cv.Optional(CONF_BAUD_RATE, default=9600): cv.All(
                cv.int_, cv.Range(min=300, max=115200)
            ),
            # default: on where it is supported (ESP8266/ESP32), off elsewhere (host)
            cv.Optional(CONF_LEGACY_API): cv.boolean,
            cv.GenerateID(CONF_LEGACY_API_ID): cv.declare_id(RouteurPvLegacyApi),
            cv.OnlyWith(
                CONF_WEB_SERVER_BASE_ID, "web_server_base"
            ): _web_server_base_schema(),
        }
    )
    .extend(cv.COMPONENT_SCHEMA)
    .extend(uart.UART_DEVICE_SCHEMA),
    lambda c: {**c, CONF_LEGACY_API: c.get(CONF_LEGACY_API, _legacy_api_supported())},
    _validate_legacy_api,
)


def command_users(full_config, hub_id) -> list[str]:
    """What sends command lines through this hub: its select and number entities, and the
    routeur_pv actions anywhere in the configuration (looked for as ESPHome itself looks for
    actions in a validated config: keys of the action registry)."""
    users = []
    for domain in COMMAND_PLATFORMS:
        for item in full_config.get(domain) or []:
            if item.get(CONF_PLATFORM) == "routeur_pv" and item[CONF_ROUTEUR_PV_ID].id == hub_id.id:
                users += [f"{domain} {key}" for key in item if key not in (CONF_PLATFORM, CONF_ROUTEUR_PV_ID)]

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in COMMAND_ACTIONS and isinstance(value, dict) and value[CONF_ID].id == hub_id.id:
                    users.append(key)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(full_config)
    return list(dict.fromkeys(users))


def _require_tx(full, config, users):
    bus = full.get_config_for_path(full.get_path_for_id(config[CONF_UART_ID])[:-1])
    # As uart.final_validate_device_schema: a host uart (a pty) always sends, it has no pins.
    if CONF_TX_PIN not in bus and str(bus[CONF_ID].type) in uart.NATIVE_UART_CLASSES:
        raise cv.Invalid(
            f"the command line to the ATmega ({', '.join(users)}) needs 'tx_pin:' in uart "
            f"'{bus[CONF_ID]}' (Wemos D1 mini: tx_pin: GPIO4, ESP32: GPIO17, through a second "
            "optocoupler to the ATmega's RX: docs/gateway.md)",
            path=[CONF_UART_ID],
        )


def _final_validate(config):
    full = fv.full_config.get()
    users = command_users(full, config[CONF_ID])
    if users:
        _require_tx(full, config, users)
    # The ATmega sends 8N1 at the configured rate (9600 by default, like the old gateway); it reads
    # the command line at the same rate.
    return uart.final_validate_device_schema(
        "routeur_pv",
        baud_rate=config[CONF_BAUD_RATE],
        require_rx=True,
        require_tx=bool(users),
        data_bits=8,
        parity="NONE",
        stop_bits=1,
    )(config)


FINAL_VALIDATE_SCHEMA = _final_validate

FILTER_SOURCE_FILES = filter_source_files_from_platform(
    {
        name: {
            PlatformFramework.ESP8266_ARDUINO,
            PlatformFramework.ESP32_ARDUINO,
            PlatformFramework.ESP32_IDF,
        }
        for name in ("legacy_api.h", "legacy_api.cpp")
    }
)


async def to_code(config):
    var = cg.new_Pvariable(config[CONF_ID])
    await cg.register_component(var, config)
    await uart.register_uart_device(var, config)

    if CONF_HEATER_POWER in config:
        cg.add(var.set_heater_power(config[CONF_HEATER_POWER]))
    cg.add(var.set_link_timeout(config[CONF_TIMEOUT]))
    cg.add(var.set_baud_rate(config[CONF_BAUD_RATE]))
    cg.add(var.set_energy_update_interval(config[CONF_ENERGY_UPDATE_INTERVAL]))

    if command_users(CORE.config, config[CONF_ID]):
        cg.add(var.set_command_line(True))

    if config[CONF_LEGACY_API] and CONF_WEB_SERVER_BASE_ID in config:
        base = await cg.get_variable(config[CONF_WEB_SERVER_BASE_ID])
        api = cg.new_Pvariable(config[CONF_LEGACY_API_ID], base, var)
        await cg.register_component(api, {})
        cg.add_define("USE_ROUTEUR_PV_LEGACY_API")


# ---------------------------------------------------------------------------- actions
_HUB_ID = {cv.GenerateID(): cv.use_id(RouteurPvComponent)}
_DURATION = cv.templatable(
    cv.All(cv.positive_time_period_milliseconds, cv.Range(max=MAX_TIMED))
)


async def _duration_to_code(var, config, args):
    if CONF_DURATION in config:
        template_ = await cg.templatable(config[CONF_DURATION], args, cg.uint32)
        cg.add(var.set_duration(template_))


@automation.register_action(
    "routeur_pv.boost",
    BoostAction,
    cv.Schema(
        {
            **_HUB_ID,
            # % of the heater's rating, whatever the surplus
            cv.Optional(CONF_POWER, default=100): cv.templatable(
                cv.All(cv.percentage_int, cv.float_range(min=0.0, max=100.0))
            ),
            # absent or 0: until routeur_pv.auto, routeur_pv.stop or the select
            cv.Optional(CONF_DURATION): _DURATION,
        }
    ),
    synchronous=True,
)
async def boost_action_to_code(config, action_id, template_arg, args):
    var = cg.new_Pvariable(action_id, template_arg)
    await cg.register_parented(var, config[CONF_ID])
    template_ = await cg.templatable(config[CONF_POWER], args, cg.float_)
    cg.add(var.set_power(template_))
    await _duration_to_code(var, config, args)
    return var


@automation.register_action(
    "routeur_pv.stop",
    StopAction,
    automation.maybe_simple_id({**_HUB_ID, cv.Optional(CONF_DURATION): _DURATION}),
    synchronous=True,
)
async def stop_action_to_code(config, action_id, template_arg, args):
    var = cg.new_Pvariable(action_id, template_arg)
    await cg.register_parented(var, config[CONF_ID])
    await _duration_to_code(var, config, args)
    return var


@automation.register_action(
    "routeur_pv.auto",
    AutoAction,
    automation.maybe_simple_id(_HUB_ID),
    synchronous=True,
)
async def auto_action_to_code(config, action_id, template_arg, args):
    var = cg.new_Pvariable(action_id, template_arg)
    await cg.register_parented(var, config[CONF_ID])
    return var


def setting_value_schema(key):
    """A setting's value in its unit, within the ATmega's range (W: '2000 W' or 2000)."""
    _, low, high, _, unit = SETTINGS[key]
    number = _power if unit == "W" else cv.float_
    return cv.All(number, cv.float_range(min=low, max=high))


def _export_below_heater(config):
    heater, export = config.get(CONF_HEATER_POWER), config.get(CONF_EXPORT_TARGET)
    if isinstance(heater, float) and isinstance(export, float) and export * 100.0 >= heater:
        raise cv.Invalid(
            f"{CONF_EXPORT_TARGET} must stay below 1 % of {CONF_HEATER_POWER} "
            f"({heater / 100.0:g} W here): the ATmega refuses it",
            path=[CONF_EXPORT_TARGET],
        )
    return config


@automation.register_action(
    "routeur_pv.set_settings",
    SetSettingsAction,
    cv.All(
        cv.Schema(
            {
                **_HUB_ID,
                **{
                    cv.Optional(key): cv.templatable(setting_value_schema(key))
                    for key in SETTINGS
                },
            }
        ),
        cv.has_at_least_one_key(*SETTINGS),
        _export_below_heater,
    ),
    synchronous=True,
)
async def set_settings_action_to_code(config, action_id, template_arg, args):
    var = cg.new_Pvariable(action_id, template_arg)
    await cg.register_parented(var, config[CONF_ID])
    for key in SETTINGS:
        if key in config:
            template_ = await cg.templatable(config[key], args, cg.float_)
            cg.add(getattr(var, f"set_{key}")(template_))
    return var
