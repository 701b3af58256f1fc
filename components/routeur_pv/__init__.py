"""routeur_pv: hub reading the PV router ATmega's serial frames (see docs/gateway.md)."""

import esphome.codegen as cg
from esphome.components import uart
import esphome.config_validation as cv
from esphome.config_helpers import filter_source_files_from_platform
from esphome.const import (
    CONF_BAUD_RATE,
    CONF_ID,
    CONF_TIMEOUT,
    PlatformFramework,
)
from esphome.core import CORE

CODEOWNERS = ["@routeur-pv"]
DEPENDENCIES = ["uart"]
MULTI_CONF = True

CONF_ROUTEUR_PV_ID = "routeur_pv_id"
CONF_HEATER_POWER = "heater_power"
CONF_LEGACY_API = "legacy_api"
CONF_LEGACY_API_ID = "legacy_api_id"
CONF_WEB_SERVER_BASE_ID = "web_server_base_id"  # same key as web_server_base's
CONF_ENERGY_UPDATE_INTERVAL = "energy_update_interval"


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


def _final_validate(config):
    # The ATmega sends 8N1 at the configured rate (9600 by default, like the old gateway).
    return uart.final_validate_device_schema(
        "routeur_pv",
        baud_rate=config[CONF_BAUD_RATE],
        require_rx=True,
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

    if config[CONF_LEGACY_API] and CONF_WEB_SERVER_BASE_ID in config:
        base = await cg.get_variable(config[CONF_WEB_SERVER_BASE_ID])
        api = cg.new_Pvariable(config[CONF_LEGACY_API_ID], base, var)
        await cg.register_component(api, {})
        cg.add_define("USE_ROUTEUR_PV_LEGACY_API")
