import esphome.codegen as cg
from esphome.components import binary_sensor
import esphome.config_validation as cv
from esphome.const import DEVICE_CLASS_PROBLEM, DEVICE_CLASS_RUNNING

from . import CONF_HOT_WATER_ID, HotWaterComponent

DEPENDENCIES = ["hot_water"]

CONF_FORCING = "forcing"
CONF_TEMPERATURE_PROBLEM = "temperature_problem"
CONF_LEGIONELLA_OVERDUE = "legionella_overdue"

# (config key, schema); the C++ setter is set_<key>_binary_sensor
BINARY_SENSORS = {
    # the heater forced whatever the surplus (boost, anti-legionella, deadline)
    CONF_FORCING: binary_sensor.binary_sensor_schema(
        device_class=DEVICE_CLASS_RUNNING, icon="mdi:water-boiler"
    ),
    # the tank's sensor lost, stale (temperature_timeout) or implausible: nothing is forced
    CONF_TEMPERATURE_PROBLEM: binary_sensor.binary_sensor_schema(
        device_class=DEVICE_CLASS_PROBLEM
    ),
    # a cycle is due and waits for an off-peak period (known once the clock is)
    CONF_LEGIONELLA_OVERDUE: binary_sensor.binary_sensor_schema(
        device_class=DEVICE_CLASS_PROBLEM, icon="mdi:bacteria-outline"
    ),
}

CONFIG_SCHEMA = cv.Schema(
    {cv.GenerateID(CONF_HOT_WATER_ID): cv.use_id(HotWaterComponent)}
).extend({cv.Optional(key): schema for key, schema in BINARY_SENSORS.items()})


async def to_code(config):
    parent = await cg.get_variable(config[CONF_HOT_WATER_ID])
    for key in BINARY_SENSORS:
        if key in config:
            sens = await binary_sensor.new_binary_sensor(config[key])
            cg.add(getattr(parent, f"set_{key}_binary_sensor")(sens))
