import esphome.codegen as cg
from esphome.components import number
import esphome.config_validation as cv
from esphome.const import (
    CONF_INITIAL_VALUE,
    CONF_RESTORE_VALUE,
    DEVICE_CLASS_DURATION,
    DEVICE_CLASS_POWER,
    ENTITY_CATEGORY_CONFIG,
    UNIT_MINUTE,
    UNIT_PERCENT,
)

from . import (  # noqa: F401  FILTER_SOURCE_FILES: platforms share the package files
    FILTER_SOURCE_FILES,
    CONF_ROUTEUR_PV_ID, MAX_TIMED, SETTINGS, RouteurPvComponent, Setting, routeur_pv_ns,
)

DEPENDENCIES = ["routeur_pv"]

CONF_BOOST_POWER = "boost_power"
CONF_BOOST_DURATION = "boost_duration"

SettingNumber = routeur_pv_ns.class_(
    "SettingNumber", number.Number, cg.Parented.template(RouteurPvComponent)
)
BoostNumber = routeur_pv_ns.class_(
    "BoostNumber", number.Number, cg.Component, cg.Parented.template(RouteurPvComponent)
)
BoostKind = BoostNumber.enum("Kind")

# What the select's Boost starts, kept by the gateway: (kind, min, max, step, default, unit).
BOOST_NUMBERS = {
    CONF_BOOST_POWER: (BoostKind.POWER, 1, 100, 1, 100, UNIT_PERCENT),
    # minutes, 0: until the select (or an action) changes it
    CONF_BOOST_DURATION: (
        BoostKind.DURATION, 0, MAX_TIMED.total_minutes, 1, 60, UNIT_MINUTE,
    ),
}
SETTING_ICONS = {
    "W": "mdi:flash",
    "mV/V": "mdi:sine-wave",
    "mV/A": "mdi:current-ac",
}


def _boost_schema(key):
    _, low, high, _, default, unit = BOOST_NUMBERS[key]
    return (
        number.number_schema(
            BoostNumber,
            unit_of_measurement=unit,
            device_class=DEVICE_CLASS_DURATION if unit == UNIT_MINUTE else cv.UNDEFINED,
            icon="mdi:timer-outline" if unit == UNIT_MINUTE else "mdi:water-boiler",
        )
        .extend(
            {
                cv.Optional(CONF_INITIAL_VALUE, default=default): cv.float_range(
                    min=low, max=high
                ),
                cv.Optional(CONF_RESTORE_VALUE, default=True): cv.boolean,
            }
        )
        .extend(cv.COMPONENT_SCHEMA)
    )


def _setting_schema(key):
    unit = SETTINGS[key][4]
    return number.number_schema(
        SettingNumber,
        unit_of_measurement=unit,
        device_class=DEVICE_CLASS_POWER if unit == "W" else cv.UNDEFINED,
        entity_category=ENTITY_CATEGORY_CONFIG,
        icon=SETTING_ICONS[unit],
    )


# Every number sends command lines (the boost numbers through the select): the hub requires the
# uart's tx_pin for them (routeur_pv's FINAL_VALIDATE_SCHEMA).
CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(CONF_ROUTEUR_PV_ID): cv.use_id(RouteurPvComponent),
        **{cv.Optional(key): _boost_schema(key) for key in BOOST_NUMBERS},
        **{cv.Optional(key): _setting_schema(key) for key in SETTINGS},
    }
)


async def to_code(config):
    hub = await cg.get_variable(config[CONF_ROUTEUR_PV_ID])
    for key, (kind, low, high, step, _, _) in BOOST_NUMBERS.items():
        if key not in config:
            continue
        conf = config[key]
        var = await number.new_number(conf, min_value=low, max_value=high, step=step)
        await cg.register_component(var, conf)
        await cg.register_parented(var, hub)
        cg.add(var.set_kind(kind))
        cg.add(var.set_initial_value(conf[CONF_INITIAL_VALUE]))
        cg.add(var.set_restore_value(conf[CONF_RESTORE_VALUE]))
    for key, (setting, low, high, step, _) in SETTINGS.items():
        if key not in config:
            continue
        var = await number.new_number(config[key], min_value=low, max_value=high, step=step)
        await cg.register_parented(var, hub)
        kind = getattr(Setting, setting)
        cg.add(var.set_setting(kind))
        cg.add(hub.set_setting_number(kind, var))
