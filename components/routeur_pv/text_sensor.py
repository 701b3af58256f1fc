import esphome.codegen as cg
from esphome.components import text_sensor
import esphome.config_validation as cv
from esphome.const import CONF_STATUS, ENTITY_CATEGORY_DIAGNOSTIC

from . import (  # noqa: F401  FILTER_SOURCE_FILES: platforms share the package files
    FILTER_SOURCE_FILES,
    CONF_ROUTEUR_PV_ID, RouteurPvComponent,
)

DEPENDENCIES = ["routeur_pv"]

CONF_CHANNEL1_MODE = "channel1_mode"

CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(CONF_ROUTEUR_PV_ID): cv.use_id(RouteurPvComponent),
        # "OK", "NO_MAINS,ADC_CLIPPED", ..., "n/a" (frame without STA), "NO_LINK"
        cv.Optional(CONF_STATUS): text_sensor.text_sensor_schema(
            entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
            icon="mdi:list-status",
        ),
        # what the ATmega does (MOD): "auto", "boost", "off"; "unknown" without MOD (no command
        # line since its reset, an older ATmega) or link
        cv.Optional(CONF_CHANNEL1_MODE): text_sensor.text_sensor_schema(
            entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
            icon="mdi:water-boiler",
        ),
    }
)


async def to_code(config):
    hub = await cg.get_variable(config[CONF_ROUTEUR_PV_ID])
    if CONF_STATUS in config:
        sens = await text_sensor.new_text_sensor(config[CONF_STATUS])
        cg.add(hub.set_status_text_sensor(sens))
    if CONF_CHANNEL1_MODE in config:
        sens = await text_sensor.new_text_sensor(config[CONF_CHANNEL1_MODE])
        cg.add(hub.set_channel1_mode_text_sensor(sens))
