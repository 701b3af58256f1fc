import esphome.codegen as cg
from esphome.components import sensor
import esphome.config_validation as cv
from esphome.const import CONF_PATH
from esphome.core import CORE

CONF_MAX_AGE = "max_age"

sim_sensor_ns = cg.esphome_ns.namespace("sim_sensor")
SimSensor = sim_sensor_ns.class_("SimSensor", sensor.Sensor, cg.PollingComponent)


def _host_only(config):
    # the file lives on the machine running the simulator: only a host build can read it
    if not CORE.is_host:
        raise cv.Invalid("sim_sensor reads a simulator's file: host platform only")
    return config


CONFIG_SCHEMA = cv.All(
    sensor.sensor_schema(SimSensor)
    .extend(
        {
            cv.Required(CONF_PATH): cv.string_strict,
            # older than this and the simulator is taken as stopped: the value goes unknown
            cv.Optional(CONF_MAX_AGE, default="10s"): cv.All(
                cv.positive_not_null_time_period, cv.positive_time_period_milliseconds
            ),
        }
    )
    .extend(cv.polling_component_schema("1s")),
    _host_only,
)


async def to_code(config):
    var = await sensor.new_sensor(config)
    await cg.register_component(var, config)
    cg.add(var.set_path(config[CONF_PATH]))
    cg.add(var.set_max_age(config[CONF_MAX_AGE]))
