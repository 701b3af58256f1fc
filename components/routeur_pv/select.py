import esphome.codegen as cg
from esphome.components import select
import esphome.config_validation as cv

from . import (  # noqa: F401  FILTER_SOURCE_FILES: platforms share the package files
    FILTER_SOURCE_FILES,
    CONF_ROUTEUR_PV_ID, RouteurPvComponent, routeur_pv_ns,
)

DEPENDENCIES = ["routeur_pv"]

CONF_CHANNEL1_MODE = "channel1_mode"
# In Ch1Request order (command_link.h). Sends command lines: the hub requires the uart's tx_pin.
CHANNEL1_OPTIONS = ["Auto", "Boost", "Off"]

Channel1ModeSelect = routeur_pv_ns.class_(
    "Channel1ModeSelect", select.Select, cg.Parented.template(RouteurPvComponent)
)

CONFIG_SCHEMA = cv.Schema(
    {
        cv.GenerateID(CONF_ROUTEUR_PV_ID): cv.use_id(RouteurPvComponent),
        cv.Optional(CONF_CHANNEL1_MODE): select.select_schema(
            Channel1ModeSelect, icon="mdi:water-boiler"
        ),
    }
)


async def to_code(config):
    hub = await cg.get_variable(config[CONF_ROUTEUR_PV_ID])
    if CONF_CHANNEL1_MODE in config:
        sel = await select.new_select(config[CONF_CHANNEL1_MODE], options=CHANNEL1_OPTIONS)
        await cg.register_parented(sel, hub)
        cg.add(hub.set_channel1_mode_select(sel))
