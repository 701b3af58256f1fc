"""pv_client: RobotDyn/triac dimmer output (`output: - platform: pv_client`) and the follow
controller (`pv_client:`) that drives it from the gateway's channel-2 ratio (VO2), or from the watts
a gateway sharing channel 2 among several loads allots it (`power_sensor:`, docs/loads.md)."""

import esphome.codegen as cg
from esphome.components import binary_sensor, number, output, select, sensor
import esphome.config_validation as cv
from esphome.config_helpers import filter_source_files_from_platform
from esphome.const import (
    CONF_ID,
    CONF_MODE,
    CONF_OUTPUT,
    CONF_RESTORE_VALUE,
    CONF_TIMEOUT,
    DEVICE_CLASS_POWER,
    DEVICE_CLASS_PROBLEM,
    ENTITY_CATEGORY_DIAGNOSTIC,
    PlatformFramework,
    STATE_CLASS_MEASUREMENT,
    UNIT_PERCENT,
    UNIT_WATT,
)
from esphome.core import CORE
import esphome.final_validate as fv

CODEOWNERS = ["@routeur-pv"]

CONF_RATIO_SENSOR = "ratio_sensor"
CONF_POWER_SENSOR = "power_sensor"
CONF_OFFERED_POWER = "offered_power"
CONF_GATEWAY_URL = "gateway_url"
CONF_GATEWAY_TIMEOUT = "gateway_timeout"
CONF_MANUAL_RATIO = "manual_ratio"
CONF_LEVEL = "level"
CONF_ROUTED_POWER = "routed_power"
CONF_RATIO_STALE = "ratio_stale"
CONF_LEGACY_HTTP = "legacy_http"
CONF_HTTP_REQUEST = "http_request"
CONF_LEGACY_HTTP_ID = "legacy_http_id"

MODE_OPTIONS = ["auto", "off", "forced"]

pv_client_ns = cg.esphome_ns.namespace("pv_client")
PvClientOutput = pv_client_ns.class_("PvClientOutput", output.FloatOutput, cg.Component)
PvClientFollow = pv_client_ns.class_("PvClientFollow", cg.PollingComponent)
PvClientManualNumber = pv_client_ns.class_("PvClientManualNumber", number.Number)
PvClientModeSelect = pv_client_ns.class_("PvClientModeSelect", select.Select)
PvClientLegacyHttp = pv_client_ns.class_("PvClientLegacyHttp", cg.Component)


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1", "enable")
    return bool(value)


def AUTO_LOAD(config):
    loads = ["sensor", "binary_sensor", "number", "select"]
    if isinstance(config, dict) and _truthy(config.get(CONF_LEGACY_HTTP, False)):
        loads.append("web_server_base")
    return loads


def _not_on_host(key):
    def validator(config):
        if key in config and CORE.is_host and config[key] not in (False, None):
            raise cv.Invalid(
                f"'{key}' needs an ESP target (the host platform has no HTTP client/server here)",
                path=[key],
            )
        return config

    return validator


def _gateway_timeout_needs_url(config):
    if CONF_GATEWAY_TIMEOUT in config and CONF_GATEWAY_URL not in config:
        raise cv.Invalid(
            f"'{CONF_GATEWAY_TIMEOUT}' is the timeout of the '{CONF_GATEWAY_URL}' polls",
            path=[CONF_GATEWAY_TIMEOUT],
        )
    return config


CONFIG_SCHEMA = cv.All(
    cv.Schema(
        {
            cv.GenerateID(): cv.declare_id(PvClientFollow),
            cv.Required(CONF_OUTPUT): cv.use_id(PvClientOutput),
            cv.Optional(CONF_RATIO_SENSOR): cv.use_id(sensor.Sensor),
            # W allotted by a gateway sharing channel 2 among several loads (pv_loads, docs/loads.md)
            cv.Optional(CONF_POWER_SENSOR): cv.use_id(sensor.Sensor),
            # what this load offers that gateway: load_power in auto with the mains locked, else 0
            cv.Optional(CONF_OFFERED_POWER): sensor.sensor_schema(
                unit_of_measurement=UNIT_WATT,
                accuracy_decimals=0,
                device_class=DEVICE_CLASS_POWER,
                state_class=STATE_CLASS_MEASUREMENT,
                entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
                icon="mdi:hand-extended",
            ),
            cv.Optional(CONF_GATEWAY_URL): cv.url,
            # a gateway_url poll blocks the loop up to this long (http_request's timeout for the poll)
            cv.Optional(CONF_GATEWAY_TIMEOUT): cv.All(
                cv.positive_time_period_milliseconds,
                cv.Range(min=cv.TimePeriod(milliseconds=200), max=cv.TimePeriod(seconds=10)),
            ),
            cv.Optional(CONF_TIMEOUT, default="5s"): cv.All(
                cv.positive_time_period_milliseconds,
                cv.Range(min=cv.TimePeriod(milliseconds=500), max=cv.TimePeriod(hours=1)),
            ),
            cv.Optional(CONF_RESTORE_VALUE, default=True): cv.boolean,
            cv.Optional(CONF_MANUAL_RATIO): number.number_schema(
                PvClientManualNumber,
                unit_of_measurement=UNIT_PERCENT,
                icon="mdi:hand-back-right",
            ),
            cv.Optional(CONF_MODE): select.select_schema(
                PvClientModeSelect, icon="mdi:tune-variant"
            ),
            cv.Optional(CONF_LEVEL): sensor.sensor_schema(
                unit_of_measurement=UNIT_PERCENT,
                accuracy_decimals=1,
                state_class=STATE_CLASS_MEASUREMENT,
                icon="mdi:percent",
            ),
            cv.Optional(CONF_ROUTED_POWER): sensor.sensor_schema(
                unit_of_measurement=UNIT_WATT,
                accuracy_decimals=0,
                device_class=DEVICE_CLASS_POWER,
                state_class=STATE_CLASS_MEASUREMENT,
                icon="mdi:radiator",
            ),
            cv.Optional(CONF_RATIO_STALE): binary_sensor.binary_sensor_schema(
                device_class=DEVICE_CLASS_PROBLEM,
            ),
            cv.Optional(CONF_LEGACY_HTTP, default=False): cv.boolean,
            cv.GenerateID(CONF_LEGACY_HTTP_ID): cv.declare_id(PvClientLegacyHttp),
        }
    ).extend(cv.polling_component_schema("1s")),
    cv.has_exactly_one_key(CONF_RATIO_SENSOR, CONF_POWER_SENSOR, CONF_GATEWAY_URL),
    _gateway_timeout_needs_url,
    _not_on_host(CONF_GATEWAY_URL),
    _not_on_host(CONF_LEGACY_HTTP),
)


def _final_validate(config):
    full = fv.full_config.get()
    if CONF_GATEWAY_URL in config and CONF_HTTP_REQUEST not in full:
        raise cv.Invalid(
            f"'{CONF_GATEWAY_URL}' needs an 'http_request:' component in the configuration",
            path=[CONF_GATEWAY_URL],
        )
    return config


FINAL_VALIDATE_SCHEMA = _final_validate


async def to_code(config):
    var = cg.new_Pvariable(config[CONF_ID])
    await cg.register_component(var, config)

    out = await cg.get_variable(config[CONF_OUTPUT])
    cg.add(var.set_output(out))
    cg.add(var.set_timeout(config[CONF_TIMEOUT].total_milliseconds))
    cg.add(var.set_restore(config[CONF_RESTORE_VALUE]))

    if CONF_RATIO_SENSOR in config:
        src = await cg.get_variable(config[CONF_RATIO_SENSOR])
        cg.add(var.set_ratio_sensor(src))
    if CONF_POWER_SENSOR in config:
        cg.add(var.set_allotted_sensor(await cg.get_variable(config[CONF_POWER_SENSOR])))
    if conf := config.get(CONF_OFFERED_POWER):
        cg.add(var.set_offered_sensor(await sensor.new_sensor(conf)))
    if CONF_GATEWAY_URL in config:
        cg.add_define("USE_PV_CLIENT_GATEWAY_URL")
        http_conf = CORE.config[CONF_HTTP_REQUEST]
        http = await cg.get_variable(http_conf[CONF_ID])
        cg.add(var.set_http_request(http))
        cg.add(var.set_gateway_url(config[CONF_GATEWAY_URL]))
        timeout = config.get(CONF_GATEWAY_TIMEOUT, cv.TimePeriod(milliseconds=1500))
        cg.add(var.set_gateway_timeout(timeout.total_milliseconds))

    if conf := config.get(CONF_MANUAL_RATIO):
        num = await number.new_number(conf, min_value=0, max_value=100, step=1)
        await cg.register_parented(num, var)
        cg.add(var.set_manual_number(num))
    if conf := config.get(CONF_MODE):
        sel = await select.new_select(conf, options=MODE_OPTIONS)
        await cg.register_parented(sel, var)
        cg.add(var.set_mode_select(sel))
    if conf := config.get(CONF_LEVEL):
        sens = await sensor.new_sensor(conf)
        cg.add(var.set_level_sensor(sens))
    if conf := config.get(CONF_ROUTED_POWER):
        sens = await sensor.new_sensor(conf)
        cg.add(var.set_power_sensor(sens))
    if conf := config.get(CONF_RATIO_STALE):
        bs = await binary_sensor.new_binary_sensor(conf)
        cg.add(var.set_stale_binary_sensor(bs))

    if config[CONF_LEGACY_HTTP]:
        cg.add_define("USE_PV_CLIENT_LEGACY_HTTP")
        base = cg.RawExpression("esphome::web_server_base::global_web_server_base")
        handler = cg.new_Pvariable(config[CONF_LEGACY_HTTP_ID], base, var)
        await cg.register_component(handler, {})


FILTER_SOURCE_FILES = filter_source_files_from_platform(
    {
        "pv_client_output_esp8266.cpp": {PlatformFramework.ESP8266_ARDUINO},
        "pv_client_output_esp32.cpp": {
            PlatformFramework.ESP32_ARDUINO,
            PlatformFramework.ESP32_IDF,
        },
        "pv_client_output_host.cpp": {PlatformFramework.HOST_NATIVE},
        "mains_sim.cpp": {PlatformFramework.HOST_NATIVE},
        "legacy_http.cpp": {
            PlatformFramework.ESP8266_ARDUINO,
            PlatformFramework.ESP32_ARDUINO,
            PlatformFramework.ESP32_IDF,
        },
    }
)
