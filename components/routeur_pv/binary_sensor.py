import esphome.codegen as cg
from esphome.components import binary_sensor
import esphome.config_validation as cv
from esphome.const import (
    DEVICE_CLASS_CONNECTIVITY,
    DEVICE_CLASS_PROBLEM,
    DEVICE_CLASS_RUNNING,
    ENTITY_CATEGORY_DIAGNOSTIC,
)

from . import (  # noqa: F401  FILTER_SOURCE_FILES: platforms share the package files
    FILTER_SOURCE_FILES,
    CONF_ROUTEUR_PV_ID, RouteurPvComponent,
)

DEPENDENCIES = ["routeur_pv"]

CONF_LINK = "link"
# STA flags of our ATmega firmware (docs/interfaces.md): config key -> bit index
STATUS_FLAGS = {
    "no_mains": 0,
    "no_zero_cross": 1,
    "adc_clipped": 2,
    "ch1_saturated": 3,
    "watchdog_reset": 4,
    # the ATmega's EEPROM held no valid settings: it runs on its config.h defaults
    "settings_defaults": 5,
}

CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(CONF_ROUTEUR_PV_ID): cv.use_id(RouteurPvComponent),
        cv.Optional(CONF_LINK): binary_sensor.binary_sensor_schema(
            device_class=DEVICE_CLASS_CONNECTIVITY,
            entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        ),
        **{
            # on = a fault, except channel 1 saturated: on = it runs flat out (or draws nothing),
            # the surplus beyond goes to channel 2
            cv.Optional(key): binary_sensor.binary_sensor_schema(
                device_class=DEVICE_CLASS_PROBLEM
                if key != "ch1_saturated"
                else DEVICE_CLASS_RUNNING,
                entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
            )
            for key in STATUS_FLAGS
        },
    }
)


async def to_code(config):
    hub = await cg.get_variable(config[CONF_ROUTEUR_PV_ID])
    if CONF_LINK in config:
        sens = await binary_sensor.new_binary_sensor(config[CONF_LINK])
        cg.add(hub.set_link_binary_sensor(sens))
    for key, bit in STATUS_FLAGS.items():
        if key in config:
            sens = await binary_sensor.new_binary_sensor(config[key])
            cg.add(hub.set_status_flag_binary_sensor(bit, sens))
