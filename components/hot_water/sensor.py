import esphome.codegen as cg
from esphome.components import sensor
import esphome.config_validation as cv
from esphome.const import (
    DEVICE_CLASS_DURATION,
    DEVICE_CLASS_ENERGY,
    DEVICE_CLASS_TIMESTAMP,
    STATE_CLASS_MEASUREMENT,
    STATE_CLASS_TOTAL_INCREASING,
    UNIT_KILOWATT_HOURS,
    UNIT_MINUTE,
)

from . import CONF_HOT_WATER_ID, HotWaterComponent

DEPENDENCIES = ["hot_water"]

CONF_ENERGY_NEEDED = "energy_needed"
CONF_SOLAR_EXPECTED = "solar_expected"
CONF_FORCING_STARTS = "forcing_starts"
CONF_LAST_LEGIONELLA = "last_legionella"
CONF_SOLAR_ENERGY_TODAY = "solar_energy_today"
CONF_GRID_ENERGY_TODAY = "grid_energy_today"
CONF_BOOST_REMAINING = "boost_remaining"

ICON_WATER_BOILER = "mdi:water-boiler"


def _plan_kwh(icon):
    # the deadline's plan: unknown without a deadline, a clock or a tank temperature
    return sensor.sensor_schema(
        unit_of_measurement=UNIT_KILOWATT_HOURS,
        accuracy_decimals=2,
        device_class=DEVICE_CLASS_ENERGY,
        state_class=STATE_CLASS_MEASUREMENT,
        icon=icon,
    )


def _energy_today(icon):
    # Energy dashboard: back to 0 at local midnight (total_increasing takes that as a new cycle)
    return sensor.sensor_schema(
        unit_of_measurement=UNIT_KILOWATT_HOURS,
        accuracy_decimals=2,
        device_class=DEVICE_CLASS_ENERGY,
        state_class=STATE_CLASS_TOTAL_INCREASING,
        icon=icon,
    )


# (config key, schema); the C++ setter is set_<key>_sensor
SENSORS = {
    CONF_ENERGY_NEEDED: _plan_kwh(ICON_WATER_BOILER),
    CONF_SOLAR_EXPECTED: _plan_kwh("mdi:solar-power"),
    # unknown while no forcing is planned
    CONF_FORCING_STARTS: sensor.sensor_schema(
        device_class=DEVICE_CLASS_TIMESTAMP, icon="mdi:clock-start"
    ),
    CONF_LAST_LEGIONELLA: sensor.sensor_schema(
        device_class=DEVICE_CLASS_TIMESTAMP, icon="mdi:bacteria-outline"
    ),
    CONF_SOLAR_ENERGY_TODAY: _energy_today("mdi:solar-power"),
    CONF_GRID_ENERGY_TODAY: _energy_today("mdi:transmission-tower"),
    CONF_BOOST_REMAINING: sensor.sensor_schema(
        unit_of_measurement=UNIT_MINUTE,
        accuracy_decimals=0,
        device_class=DEVICE_CLASS_DURATION,
        state_class=STATE_CLASS_MEASUREMENT,
        icon="mdi:timer-sand",
    ),
}

CONFIG_SCHEMA = cv.Schema(
    {cv.GenerateID(CONF_HOT_WATER_ID): cv.use_id(HotWaterComponent)}
).extend({cv.Optional(key): schema for key, schema in SENSORS.items()})


async def to_code(config):
    parent = await cg.get_variable(config[CONF_HOT_WATER_ID])
    for key in SENSORS:
        if key in config:
            sens = await sensor.new_sensor(config[key])
            cg.add(getattr(parent, f"set_{key}_sensor")(sens))
