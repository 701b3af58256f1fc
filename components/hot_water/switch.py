import esphome.codegen as cg
from esphome.components import switch
import esphome.config_validation as cv
from esphome.const import ENTITY_CATEGORY_CONFIG
import esphome.final_validate as fv

from . import CONF_DEADLINE, CONF_HOT_WATER_ID, HotWaterComponent, hot_water_ns

DEPENDENCIES = ["hot_water"]

CONF_DEADLINE_ENABLED = "deadline_enabled"

DeadlineSwitch = hot_water_ns.class_(
    "DeadlineSwitch", switch.Switch, cg.Component, cg.Parented.template(HotWaterComponent)
)

CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(CONF_HOT_WATER_ID): cv.use_id(HotWaterComponent),
        # the deadline on or off, kept across restarts (on by default)
        cv.Optional(CONF_DEADLINE_ENABLED): switch.switch_schema(
            DeadlineSwitch,
            entity_category=ENTITY_CATEGORY_CONFIG,
            icon="mdi:calendar-clock",
            default_restore_mode="RESTORE_DEFAULT_ON",
        ).extend(cv.COMPONENT_SCHEMA),
    }
)


def _final_validate(config):
    if CONF_DEADLINE_ENABLED not in config:
        return config
    full = fv.full_config.get()
    hot_water = full.get_config_for_path(full.get_path_for_id(config[CONF_HOT_WATER_ID])[:-1])
    if CONF_DEADLINE not in hot_water:
        raise cv.Invalid(
            f"'{CONF_DEADLINE_ENABLED}' turns the deadline on and off: it needs '{CONF_DEADLINE}:' in hot_water",
            path=[CONF_DEADLINE_ENABLED],
        )
    return config


FINAL_VALIDATE_SCHEMA = _final_validate


async def to_code(config):
    parent = await cg.get_variable(config[CONF_HOT_WATER_ID])
    if CONF_DEADLINE_ENABLED in config:
        var = await switch.new_switch(config[CONF_DEADLINE_ENABLED])
        await cg.register_component(var, config[CONF_DEADLINE_ENABLED])
        await cg.register_parented(var, parent)
