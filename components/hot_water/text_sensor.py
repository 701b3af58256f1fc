import esphome.codegen as cg
from esphome.components import text_sensor
import esphome.config_validation as cv
from esphome.const import CONF_STATE

from . import CONF_HOT_WATER_ID, HotWaterComponent

DEPENDENCIES = ["hot_water"]

CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(CONF_HOT_WATER_ID): cv.use_id(HotWaterComponent),
        # why the manager does what it does: "deadline", "maximum temperature", "no tank temperature"...
        cv.Optional(CONF_STATE): text_sensor.text_sensor_schema(icon="mdi:water-boiler"),
    }
)


async def to_code(config):
    parent = await cg.get_variable(config[CONF_HOT_WATER_ID])
    if CONF_STATE in config:
        sens = await text_sensor.new_text_sensor(config[CONF_STATE])
        cg.add(parent.set_state_text_sensor(sens))
