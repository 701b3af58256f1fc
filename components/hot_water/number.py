import esphome.codegen as cg
from esphome.components import number
import esphome.config_validation as cv
from esphome.const import (
    CONF_MAX_TEMPERATURE,
    CONF_RESTORE_VALUE,
    CONF_TEMPERATURE,
    DEVICE_CLASS_DURATION,
    DEVICE_CLASS_TEMPERATURE,
    ENTITY_CATEGORY_CONFIG,
    UNIT_CELSIUS,
    UNIT_MINUTE,
)
import esphome.final_validate as fv

from . import (
    BOOST_TARGET_MAX,
    CONF_DEADLINE,
    CONF_HOT_WATER_ID,
    DEADLINE_TEMPERATURE_RANGE,
    MAX_BOOST,
    MAX_TEMPERATURE_RANGE,
    HotWaterComponent,
    hot_water_ns,
)

DEPENDENCIES = ["hot_water"]

CONF_DEADLINE_TEMPERATURE = "deadline_temperature"
CONF_BOOST_DURATION = "boost_duration"
CONF_BOOST_TARGET = "boost_target"

HotWaterNumber = hot_water_ns.class_(
    "HotWaterNumber", number.Number, cg.Component, cg.Parented.template(HotWaterComponent)
)
NumberKind = HotWaterNumber.enum("Kind")

# Each starts from the hot_water: option it changes (or its saved value: restore_value).
# key -> (kind, min, max, step, unit, icon)
NUMBERS = {
    CONF_MAX_TEMPERATURE: (
        NumberKind.MAX_TEMPERATURE, *MAX_TEMPERATURE_RANGE, 0.5, UNIT_CELSIUS, "mdi:thermometer-high",
    ),
    CONF_DEADLINE_TEMPERATURE: (
        NumberKind.DEADLINE_TEMPERATURE, *DEADLINE_TEMPERATURE_RANGE, 0.5, UNIT_CELSIUS, "mdi:thermometer-check",
    ),
    # what the Boost button (and a hot_water.boost without options) starts; 0 min: until the target
    CONF_BOOST_DURATION: (NumberKind.BOOST_DURATION, 0, MAX_BOOST.total_minutes, 1, UNIT_MINUTE, "mdi:timer-outline"),
    # 0: no target, the boost runs for its duration
    CONF_BOOST_TARGET: (NumberKind.BOOST_TARGET, 0, BOOST_TARGET_MAX, 0.5, UNIT_CELSIUS, "mdi:thermometer-chevron-up"),
}


def _number_schema(key):
    unit, icon = NUMBERS[key][4], NUMBERS[key][5]
    return (
        number.number_schema(
            HotWaterNumber,
            unit_of_measurement=unit,
            device_class=DEVICE_CLASS_TEMPERATURE if unit == UNIT_CELSIUS else DEVICE_CLASS_DURATION,
            entity_category=ENTITY_CATEGORY_CONFIG,
            icon=icon,
        )
        .extend({cv.Optional(CONF_RESTORE_VALUE, default=True): cv.boolean})
        .extend(cv.COMPONENT_SCHEMA)
    )


CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(CONF_HOT_WATER_ID): cv.use_id(HotWaterComponent),
        **{cv.Optional(key): _number_schema(key) for key in NUMBERS},
    }
)


def _final_validate(config):
    if CONF_DEADLINE_TEMPERATURE not in config:
        return config
    full = fv.full_config.get()
    hot_water = full.get_config_for_path(full.get_path_for_id(config[CONF_HOT_WATER_ID])[:-1])
    if CONF_TEMPERATURE not in hot_water.get(CONF_DEADLINE, {}):
        raise cv.Invalid(
            f"'{CONF_DEADLINE_TEMPERATURE}' changes the deadline's temperature: it needs "
            f"'{CONF_DEADLINE}: {CONF_TEMPERATURE}:' in hot_water",
            path=[CONF_DEADLINE_TEMPERATURE],
        )
    return config


FINAL_VALIDATE_SCHEMA = _final_validate


async def to_code(config):
    parent = await cg.get_variable(config[CONF_HOT_WATER_ID])
    for key, (kind, low, high, step, _, _) in NUMBERS.items():
        if key not in config:
            continue
        conf = config[key]
        var = await number.new_number(conf, min_value=low, max_value=high, step=step)
        await cg.register_component(var, conf)
        await cg.register_parented(var, parent)
        cg.add(var.set_kind(kind))
        cg.add(var.set_restore_value(conf[CONF_RESTORE_VALUE]))
