"""pv_relay: relay stages (issue 14). An on/off load (pool pump, heat-pump "SG ready" input, a second
heater on a contactor) behind an ESPHome `switch`, switched on the surplus: on once the surplus it may
take has covered its rating for `on_delay`, off once the import has exceeded `off_import` for
`off_delay`, never on for less than `min_on` nor off for less than `min_off`, and optionally a daily
minimum runtime done by a time of day. Runs on the gateway or a client: it reads a grid power sensor
(W, positive = import) and the power of the loads that give way to it. Thin glue around the plain-C++
RelayStage (relay_stage.h). See docs/relay.md."""

import esphome.codegen as cg
from esphome.components import select, sensor, switch, text_sensor, time
import esphome.config_validation as cv
from esphome.const import (
    CONF_ID,
    CONF_MODE,
    CONF_POWER,
    CONF_TIME_ID,
    DEVICE_CLASS_DURATION,
    ENTITY_CATEGORY_DIAGNOSTIC,
    STATE_CLASS_TOTAL_INCREASING,
    UNIT_MINUTE,
)

CODEOWNERS = ["@routeur-pv"]
DEPENDENCIES = ["sensor", "switch"]
AUTO_LOAD = ["select", "text_sensor"]
MULTI_CONF = True

CONF_SWITCH_ID = "switch_id"
CONF_GRID_POWER = "grid_power"
CONF_GIVES_WAY = "gives_way"
CONF_ON_DELAY = "on_delay"
CONF_OFF_IMPORT = "off_import"
CONF_OFF_DELAY = "off_delay"
CONF_MIN_ON = "min_on"
CONF_MIN_OFF = "min_off"
CONF_DATA_TIMEOUT = "data_timeout"
CONF_DAILY_RUNTIME = "daily_runtime"
CONF_RUNTIME_BY = "runtime_by"
CONF_RUNTIME_TODAY = "runtime_today"
CONF_REASON = "reason"

MODE_OPTIONS = ["auto", "off", "on"]

pv_relay_ns = cg.esphome_ns.namespace("pv_relay")
PvRelay = pv_relay_ns.class_("PvRelay", cg.PollingComponent)
PvRelayModeSelect = pv_relay_ns.class_("PvRelayModeSelect", select.Select)
RelayConfig = pv_relay_ns.struct("RelayConfig")

_power = cv.float_with_unit("power", "(W|w|watt|watts|Watt|Watts)?")


def _seconds(low: cv.TimePeriod, high: cv.TimePeriod):
    return cv.All(cv.positive_time_period_seconds, cv.Range(min=low, max=high))


def _runtime_needs_clock(config):
    if CONF_DAILY_RUNTIME in config and CONF_TIME_ID not in config:
        raise cv.Invalid(
            f"'{CONF_DAILY_RUNTIME}' needs a clock: set '{CONF_TIME_ID}' (e.g. a homeassistant or sntp time)",
            path=[CONF_DAILY_RUNTIME],
        )
    if CONF_RUNTIME_BY in config and CONF_DAILY_RUNTIME not in config:
        raise cv.Invalid(f"'{CONF_RUNTIME_BY}' is the deadline of '{CONF_DAILY_RUNTIME}'", path=[CONF_RUNTIME_BY])
    return config


CONFIG_SCHEMA = cv.All(
    cv.Schema(
        {
            cv.GenerateID(): cv.declare_id(PvRelay),
            cv.Required(CONF_SWITCH_ID): cv.use_id(switch.Switch),
            cv.Required(CONF_POWER): cv.All(_power, cv.Range(min=10.0, max=30000.0)),
            cv.Required(CONF_GRID_POWER): cv.use_id(sensor.Sensor),
            # Power of the loads below this one in priority: they give way to it.
            cv.Optional(CONF_GIVES_WAY, default=[]): cv.ensure_list(cv.use_id(sensor.Sensor)),
            cv.Optional(CONF_ON_DELAY, default="60s"): _seconds(cv.TimePeriod(seconds=0), cv.TimePeriod(hours=1)),
            cv.Optional(CONF_OFF_IMPORT, default="100W"): cv.All(_power, cv.Range(min=0.0, max=10000.0)),
            cv.Optional(CONF_OFF_DELAY, default="10s"): _seconds(cv.TimePeriod(seconds=0), cv.TimePeriod(hours=1)),
            cv.Optional(CONF_MIN_ON, default="10min"): _seconds(cv.TimePeriod(seconds=0), cv.TimePeriod(hours=12)),
            cv.Optional(CONF_MIN_OFF, default="10min"): _seconds(cv.TimePeriod(seconds=0), cv.TimePeriod(hours=12)),
            # The gateway's own sensors go out at least once a minute, and unknown at once when its
            # ATmega goes silent; a client's remote packet_transport sensor comes every second but
            # keeps its last value when the gateway goes silent: set a few seconds there.
            cv.Optional(CONF_DATA_TIMEOUT, default="70s"): cv.All(
                cv.positive_time_period_milliseconds,
                cv.Range(min=cv.TimePeriod(seconds=2), max=cv.TimePeriod(minutes=10)),
            ),
            cv.Optional(CONF_DAILY_RUNTIME): _seconds(cv.TimePeriod(minutes=1), cv.TimePeriod(hours=24)),
            cv.Optional(CONF_RUNTIME_BY): cv.time_of_day,
            cv.Optional(CONF_TIME_ID): cv.use_id(time.RealTimeClock),
            cv.Optional(CONF_MODE): select.select_schema(PvRelayModeSelect, icon="mdi:tune-variant"),
            cv.Optional(CONF_RUNTIME_TODAY): sensor.sensor_schema(
                unit_of_measurement=UNIT_MINUTE,
                accuracy_decimals=0,
                device_class=DEVICE_CLASS_DURATION,
                state_class=STATE_CLASS_TOTAL_INCREASING,
                icon="mdi:timer-outline",
            ),
            cv.Optional(CONF_REASON): text_sensor.text_sensor_schema(
                entity_category=ENTITY_CATEGORY_DIAGNOSTIC, icon="mdi:information-outline"
            ),
        }
    ).extend(cv.polling_component_schema("1s")),
    _runtime_needs_clock,
)


async def to_code(config):
    by = config.get(CONF_RUNTIME_BY, {"hour": 22, "minute": 0})
    stage = cg.StructInitializer(
        RelayConfig,
        ("rating_w", config[CONF_POWER]),
        ("on_delay_s", config[CONF_ON_DELAY].total_seconds),
        ("off_import_w", config[CONF_OFF_IMPORT]),
        ("off_delay_s", config[CONF_OFF_DELAY].total_seconds),
        ("min_on_s", config[CONF_MIN_ON].total_seconds),
        ("min_off_s", config[CONF_MIN_OFF].total_seconds),
        ("daily_runtime_s", config[CONF_DAILY_RUNTIME].total_seconds if CONF_DAILY_RUNTIME in config else 0),
        ("runtime_by_min", by["hour"] * 60 + by["minute"]),
    )
    var = cg.new_Pvariable(config[CONF_ID], stage)
    await cg.register_component(var, config)
    cg.add(var.set_switch(await cg.get_variable(config[CONF_SWITCH_ID])))
    cg.add(var.set_grid_sensor(await cg.get_variable(config[CONF_GRID_POWER])))
    for sensor_id in config[CONF_GIVES_WAY]:
        cg.add(var.add_gives_way_sensor(await cg.get_variable(sensor_id)))
    cg.add(var.set_data_timeout(config[CONF_DATA_TIMEOUT].total_milliseconds))
    if CONF_TIME_ID in config:
        cg.add(var.set_clock(await cg.get_variable(config[CONF_TIME_ID])))
    if conf := config.get(CONF_MODE):
        sel = await select.new_select(conf, options=MODE_OPTIONS)
        await cg.register_parented(sel, var)
        cg.add(var.set_mode_select(sel))
    if conf := config.get(CONF_RUNTIME_TODAY):
        cg.add(var.set_runtime_sensor(await sensor.new_sensor(conf)))
    if conf := config.get(CONF_REASON):
        cg.add(var.set_reason_text_sensor(await text_sensor.new_text_sensor(conf)))
