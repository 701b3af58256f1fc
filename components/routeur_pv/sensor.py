import esphome.codegen as cg
from esphome.components import sensor, time
import esphome.config_validation as cv
from esphome.const import (
    CONF_TIME_ID,
    DEVICE_CLASS_DURATION,
    DEVICE_CLASS_ENERGY,
    DEVICE_CLASS_FREQUENCY,
    DEVICE_CLASS_POWER,
    DEVICE_CLASS_VOLTAGE,
    ENTITY_CATEGORY_DIAGNOSTIC,
    STATE_CLASS_MEASUREMENT,
    STATE_CLASS_TOTAL_INCREASING,
    UNIT_HERTZ,
    UNIT_SECOND,
    UNIT_KILOWATT_HOURS,
    UNIT_PERCENT,
    UNIT_VOLT,
    UNIT_WATT,
)
import esphome.final_validate as fv

from . import (  # noqa: F401  FILTER_SOURCE_FILES: platforms share the package files
    FILTER_SOURCE_FILES,
    CONF_HEATER_POWER, CONF_ROUTEUR_PV_ID, RouteurPvComponent,
)

DEPENDENCIES = ["routeur_pv"]

CONF_GRID_POWER = "grid_power"
CONF_ROUTED_POWER = "routed_power"
CONF_ROUTED_RATIO = "routed_ratio"
CONF_CHANNEL2_RATIO = "channel2_ratio"
CONF_MAINS_FREQUENCY = "mains_frequency"
CONF_MAINS_VOLTAGE = "mains_voltage"
CONF_BUCKET_ENERGY = "bucket_energy"
CONF_FIRING_DELAY = "firing_delay"
CONF_MIN_ROUTABLE_POWER = "min_routable_power"
CONF_SAMPLES_PER_CYCLE = "samples_per_cycle"
CONF_FRAMES_RECEIVED = "frames_received"
CONF_FRAMES_REJECTED = "frames_rejected"
CONF_ROUTED_ENERGY = "routed_energy"
CONF_ROUTED_ENERGY_TODAY = "routed_energy_today"
CONF_GRID_IMPORT_ENERGY = "grid_import_energy"
CONF_GRID_EXPORT_ENERGY = "grid_export_energy"
CONF_CHANNEL1_LEASE = "channel1_lease"
CONF_COMMANDS_ACCEPTED = "commands_accepted"
CONF_COMMANDS_REFUSED = "commands_refused"
CONF_SETTINGS_CHECKSUM = "settings_checksum"
CONF_MIN_CHANGE = "min_change"

UNIT_JOULE = "J"
UNIT_MICROSECOND = "\u03bcs"  # Home Assistant's UnitOfTime.MICROSECONDS (Greek mu)


def _energy_schema(icon):
    return sensor.sensor_schema(
        unit_of_measurement=UNIT_KILOWATT_HOURS,
        accuracy_decimals=3,
        device_class=DEVICE_CLASS_ENERGY,
        state_class=STATE_CLASS_TOTAL_INCREASING,
        icon=icon,
    )


ICON_TRANSMISSION_TOWER = "mdi:transmission-tower"
ICON_WATER_BOILER = "mdi:water-boiler"

# (config key, schema); the C++ setter is set_<key>_sensor
SENSORS = {
    # HA convention: positive = import from the grid (the frame's REE is positive on export)
    CONF_GRID_POWER: sensor.sensor_schema(
        unit_of_measurement=UNIT_WATT,
        accuracy_decimals=0,
        device_class=DEVICE_CLASS_POWER,
        state_class=STATE_CLASS_MEASUREMENT,
        icon=ICON_TRANSMISSION_TOWER,
    ),
    CONF_ROUTED_POWER: sensor.sensor_schema(
        unit_of_measurement=UNIT_WATT,
        accuracy_decimals=0,
        device_class=DEVICE_CLASS_POWER,
        state_class=STATE_CLASS_MEASUREMENT,
        icon=ICON_WATER_BOILER,
    ),
    CONF_ROUTED_RATIO: sensor.sensor_schema(
        unit_of_measurement=UNIT_PERCENT,
        accuracy_decimals=1,
        state_class=STATE_CLASS_MEASUREMENT,
        icon=ICON_WATER_BOILER,
    ),
    CONF_CHANNEL2_RATIO: sensor.sensor_schema(
        unit_of_measurement=UNIT_PERCENT,
        accuracy_decimals=0,
        state_class=STATE_CLASS_MEASUREMENT,
        icon="mdi:percent",
    ),
    CONF_MAINS_FREQUENCY: sensor.sensor_schema(
        unit_of_measurement=UNIT_HERTZ,
        accuracy_decimals=2,
        device_class=DEVICE_CLASS_FREQUENCY,
        state_class=STATE_CLASS_MEASUREMENT,
    ),
    CONF_MAINS_VOLTAGE: sensor.sensor_schema(
        unit_of_measurement=UNIT_VOLT,
        accuracy_decimals=1,
        device_class=DEVICE_CLASS_VOLTAGE,
        state_class=STATE_CLASS_MEASUREMENT,
    ),
    CONF_BUCKET_ENERGY: sensor.sensor_schema(
        unit_of_measurement=UNIT_JOULE,
        accuracy_decimals=1,
        state_class=STATE_CLASS_MEASUREMENT,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:bucket-outline",
    ),
    CONF_FIRING_DELAY: sensor.sensor_schema(
        unit_of_measurement=UNIT_MICROSECOND,
        accuracy_decimals=0,
        device_class=DEVICE_CLASS_DURATION,
        state_class=STATE_CLASS_MEASUREMENT,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:timer-outline",
    ),
    CONF_MIN_ROUTABLE_POWER: sensor.sensor_schema(
        unit_of_measurement=UNIT_WATT,
        accuracy_decimals=0,
        device_class=DEVICE_CLASS_POWER,
        state_class=STATE_CLASS_MEASUREMENT,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
    ),
    CONF_SAMPLES_PER_CYCLE: sensor.sensor_schema(
        accuracy_decimals=0,
        state_class=STATE_CLASS_MEASUREMENT,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:sine-wave",
    ),
    CONF_FRAMES_RECEIVED: sensor.sensor_schema(
        accuracy_decimals=0,
        state_class=STATE_CLASS_TOTAL_INCREASING,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:counter",
    ),
    CONF_FRAMES_REJECTED: sensor.sensor_schema(
        accuracy_decimals=0,
        state_class=STATE_CLASS_TOTAL_INCREASING,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:alert-circle-outline",
    ),
    # The commands' state (MOD LSR CAC CRJ SCS): in frames once the ATmega received a command line
    # since its reset (the command line needs the uart's tx_pin), unknown before.
    CONF_CHANNEL1_LEASE: sensor.sensor_schema(
        unit_of_measurement=UNIT_SECOND,
        accuracy_decimals=0,
        device_class=DEVICE_CLASS_DURATION,
        state_class=STATE_CLASS_MEASUREMENT,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:timer-sand",
    ),
    CONF_COMMANDS_ACCEPTED: sensor.sensor_schema(
        accuracy_decimals=0,
        state_class=STATE_CLASS_TOTAL_INCREASING,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:counter",
    ),
    CONF_COMMANDS_REFUSED: sensor.sensor_schema(
        accuracy_decimals=0,
        state_class=STATE_CLASS_TOTAL_INCREASING,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:alert-circle-outline",
    ),
    CONF_SETTINGS_CHECKSUM: sensor.sensor_schema(
        accuracy_decimals=0,
        entity_category=ENTITY_CATEGORY_DIAGNOSTIC,
        icon="mdi:checkbox-marked-circle-outline",
    ),
    # Totals kept by the hub from the ATmega's cumulative counters (docs/gateway.md#energy)
    CONF_ROUTED_ENERGY: _energy_schema(ICON_WATER_BOILER),
    CONF_GRID_IMPORT_ENERGY: _energy_schema(ICON_TRANSMISSION_TOWER),
    CONF_GRID_EXPORT_ENERGY: _energy_schema(ICON_TRANSMISSION_TOWER),
    # "today" resets at local midnight: it needs a clock (the only `time:` by default)
    CONF_ROUTED_ENERGY_TODAY: _energy_schema(ICON_WATER_BOILER).extend(
        {cv.GenerateID(CONF_TIME_ID): cv.use_id(time.RealTimeClock)}
    ),
}

# Frame values: published when they moved by `min_change` (in the sensor's unit), when they become
# unknown or known, and at least once a minute, so that Home Assistant's recorder keeps what matters
# rather than every second's noise. 0: every change.
MIN_CHANGE = {
    CONF_GRID_POWER: 10.0,
    CONF_ROUTED_POWER: 10.0,
    CONF_ROUTED_RATIO: 0.5,
    CONF_CHANNEL2_RATIO: 0.0,  # clients follow every step
    CONF_MAINS_FREQUENCY: 0.05,
    CONF_MAINS_VOLTAGE: 1.0,
    CONF_BUCKET_ENERGY: 10.0,
    CONF_FIRING_DELAY: 50.0,
    CONF_MIN_ROUTABLE_POWER: 0.0,
    CONF_SAMPLES_PER_CYCLE: 2.0,  # 192/193 flips are the mains against the sampling grid
    # renewed every 2-3 s: 5 -> 3 -> 5 is no news; a lease that starts (0 -> 5) or ends (-> 0) is
    CONF_CHANNEL1_LEASE: 5.0,
}


def _with_min_change(key, schema):
    if key not in MIN_CHANGE:
        return schema
    return schema.extend(
        {cv.Optional(CONF_MIN_CHANGE, default=MIN_CHANGE[key]): cv.float_range(min=0.0)}
    )


CONFIG_SCHEMA = cv.Schema(
    {cv.GenerateID(CONF_ROUTEUR_PV_ID): cv.use_id(RouteurPvComponent)}
).extend(
    {cv.Optional(key): _with_min_change(key, schema) for key, schema in SENSORS.items()}
)


def _final_validate(config):
    if CONF_ROUTED_POWER not in config:
        return config
    full = fv.full_config.get()
    hub_path = full.get_path_for_id(config[CONF_ROUTEUR_PV_ID])[:-1]
    hub = full.get_config_for_path(hub_path)
    if CONF_HEATER_POWER not in hub:
        raise cv.Invalid(
            f"'{CONF_ROUTED_POWER}' needs '{CONF_HEATER_POWER}' (W, the heater's full power) "
            "on its routeur_pv hub",
            path=[CONF_ROUTED_POWER],
        )
    return config


FINAL_VALIDATE_SCHEMA = _final_validate


async def to_code(config):
    hub = await cg.get_variable(config[CONF_ROUTEUR_PV_ID])
    for key in SENSORS:
        if key in config:
            sens = await sensor.new_sensor(config[key])
            cg.add(getattr(hub, f"set_{key}_sensor")(sens))
            if CONF_MIN_CHANGE in config[key]:
                kind = cg.RawExpression(f"esphome::routeur_pv::SENSOR_{key.upper()}")
                cg.add(hub.set_min_change(kind, config[key][CONF_MIN_CHANGE]))
    if CONF_ROUTED_ENERGY_TODAY in config:
        clock = await cg.get_variable(config[CONF_ROUTED_ENERGY_TODAY][CONF_TIME_ID])
        cg.add(hub.set_time(clock))
