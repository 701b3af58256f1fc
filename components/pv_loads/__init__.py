"""pv_loads: channel 2 shared by several loads (issue 14). Each load (a pv_client dimmer on its own
ESP, with `power_sensor:`) reports what it offers over packet_transport (its rating while its mode
is auto, 0 when off or forced); at every frame the gateway allots channel 2's watts (VO2 x the
ATmega's full scale DIM) by priority, each load up to its rating, equals in proportion to their
ratings, and publishes one `allotted_power` sensor a load for packet_transport to send back. A load
silent for `timeout` gets 0 and its watts go to the next. With the command line, DIM follows the
loads' capacity. Thin glue around the plain-C++ LoadAllotter (routeur_pv/load_allotter.h). See
docs/loads.md."""

import esphome.codegen as cg
from esphome.components import number, sensor
from esphome.components.routeur_pv import CONF_ROUTEUR_PV_ID, RouteurPvComponent
import esphome.config_validation as cv
from esphome.const import (
    CONF_ID,
    CONF_PRIORITY,
    CONF_TIMEOUT,
    DEVICE_CLASS_POWER,
    ENTITY_CATEGORY_CONFIG,
    STATE_CLASS_MEASUREMENT,
    UNIT_WATT,
)

CODEOWNERS = ["@routeur-pv"]
DEPENDENCIES = ["routeur_pv", "sensor"]
AUTO_LOAD = ["number"]

CONF_LOADS = "loads"
CONF_OFFERED_POWER = "offered_power"
CONF_ALLOTTED_POWER = "allotted_power"
CONF_PRIORITY_NUMBER = "priority_number"
CONF_FULL_SCALE = "full_scale"
CONF_FOLLOW_CAPACITY = "follow_capacity"

pv_loads_ns = cg.esphome_ns.namespace("pv_loads")
PvLoads = pv_loads_ns.class_("PvLoads", cg.Component)
LoadPriorityNumber = pv_loads_ns.class_("LoadPriorityNumber", number.Number)

_power = cv.float_with_unit("power", "(W|w|watt|watts|Watt|Watts)?")

LOAD_SCHEMA = cv.Schema(
    {
        # The load's report, e.g. a packet_transport sensor with remote_id: offered_power
        cv.Required(CONF_OFFERED_POWER): cv.use_id(sensor.Sensor),
        cv.Optional(CONF_PRIORITY, default=1): cv.int_range(min=1, max=9),
        # Its share, W: list this sensor's id in the gateway's packet_transport `sensors:`
        cv.Required(CONF_ALLOTTED_POWER): sensor.sensor_schema(
            unit_of_measurement=UNIT_WATT,
            accuracy_decimals=0,
            device_class=DEVICE_CLASS_POWER,
            state_class=STATE_CLASS_MEASUREMENT,
            icon="mdi:call-split",
        ),
        cv.Optional(CONF_PRIORITY_NUMBER): number.number_schema(
            LoadPriorityNumber, entity_category=ENTITY_CATEGORY_CONFIG, icon="mdi:sort-numeric-ascending"
        ),
    }
)


def _distinct_offers(loads):
    seen = set()
    for k, load in enumerate(loads):
        offered = load[CONF_OFFERED_POWER].id
        if offered in seen:
            raise cv.Invalid(f"'{offered}' is the report of two loads: each load has its own", path=[k, CONF_OFFERED_POWER])
        seen.add(offered)
    return loads


CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(): cv.declare_id(PvLoads),
        cv.GenerateID(CONF_ROUTEUR_PV_ID): cv.use_id(RouteurPvComponent),
        # VO2 100 % in watts until the frames report DIM (the ATmega's kCh2Watts, 1000 W as shipped)
        cv.Optional(CONF_FULL_SCALE, default="1000W"): cv.All(_power, cv.Range(min=50.0, max=8000.0)),
        # A load that has not reported for this long gets 0 (they report once a second)
        cv.Optional(CONF_TIMEOUT, default="5s"): cv.All(
            cv.positive_time_period_milliseconds,
            cv.Range(min=cv.TimePeriod(seconds=2), max=cv.TimePeriod(minutes=1)),
        ),
        # With the command line (common/gateway-commands.yaml): DIM = the loads' capacity
        cv.Optional(CONF_FOLLOW_CAPACITY, default=True): cv.boolean,
        cv.Required(CONF_LOADS): cv.All(cv.ensure_list(LOAD_SCHEMA), cv.Length(min=1, max=8), _distinct_offers),
    }
).extend(cv.COMPONENT_SCHEMA)


async def to_code(config):
    var = cg.new_Pvariable(config[CONF_ID])
    await cg.register_component(var, config)
    cg.add(var.set_hub(await cg.get_variable(config[CONF_ROUTEUR_PV_ID])))
    cg.add(var.set_full_scale(config[CONF_FULL_SCALE]))
    cg.add(var.set_load_timeout(config[CONF_TIMEOUT].total_milliseconds))
    cg.add(var.set_follow_capacity(config[CONF_FOLLOW_CAPACITY]))
    for load in config[CONF_LOADS]:
        offered = await cg.get_variable(load[CONF_OFFERED_POWER])
        allotted = await sensor.new_sensor(load[CONF_ALLOTTED_POWER])
        prio = cg.nullptr
        if conf := load.get(CONF_PRIORITY_NUMBER):
            prio = await number.new_number(conf, min_value=1, max_value=9, step=1)
        cg.add(var.add_load(offered, allotted, load[CONF_PRIORITY], prio))
