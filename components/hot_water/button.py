import esphome.codegen as cg
from esphome.components import button
import esphome.config_validation as cv

from . import CONF_HOT_WATER_ID, HotWaterComponent, hot_water_ns

DEPENDENCIES = ["hot_water"]

CONF_BOOST = "boost"
CONF_CANCEL_BOOST = "cancel_boost"

HotWaterButton = hot_water_ns.class_(
    "HotWaterButton", button.Button, cg.Parented.template(HotWaterComponent)
)
ButtonKind = HotWaterButton.enum("Kind")

# Boost: for the Boost duration number, up to the Boost target number (hot_water: boost: without them)
BUTTONS = {
    CONF_BOOST: (ButtonKind.BOOST, "mdi:water-boiler"),
    CONF_CANCEL_BOOST: (ButtonKind.CANCEL_BOOST, "mdi:water-boiler-off"),
}

CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(CONF_HOT_WATER_ID): cv.use_id(HotWaterComponent),
        **{
            cv.Optional(key): button.button_schema(HotWaterButton, icon=icon)
            for key, (_, icon) in BUTTONS.items()
        },
    }
)


async def to_code(config):
    parent = await cg.get_variable(config[CONF_HOT_WATER_ID])
    for key, (kind, _) in BUTTONS.items():
        if key in config:
            var = await button.new_button(config[key])
            await cg.register_parented(var, parent)
            cg.add(var.set_kind(kind))
