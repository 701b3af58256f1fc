"""`output: - platform: pv_client`: triac dimmer (RobotDyn) driven from the zero-cross input."""

from esphome import pins
import esphome.codegen as cg
from esphome.components import output, sensor
import esphome.config_validation as cv
from esphome.const import (
    CONF_ID,
    CONF_METHOD,
    DEVICE_CLASS_POWER,
    STATE_CLASS_MEASUREMENT,
    UNIT_WATT,
)
from esphome.core import CORE

from . import FILTER_SOURCE_FILES, PvClientOutput, pv_client_ns  # noqa: F401 (the platform module needs the filter too)

DEPENDENCIES = []

gpio_ns = cg.esphome_ns.namespace("gpio")

CONF_GATE_PIN = "gate_pin"
CONF_ZERO_CROSS_PIN = "zero_cross_pin"
CONF_ZERO_CROSS_INTERRUPT_TYPE = "zero_cross_interrupt_type"
CONF_ZERO_CROSS_OFFSET = "zero_cross_offset"
CONF_LOAD_POWER = "load_power"
CONF_MAINS_FREQUENCY = "mains_frequency"
CONF_SIMULATED_POWER = "simulated_power"
CONF_ZERO_CROSS_WINDOW = "zero_cross_window"

power_watts = cv.float_with_unit("power", "(W|w)?")


def signed_microseconds(value):
    """An integer number of microseconds, sign allowed: -300, "-300us", "250 us"."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("us"):
            text = text[:-2].strip()
        try:
            value = int(text)
        except ValueError as err:
            raise cv.Invalid(f"expected microseconds like '-300us', got '{value}'") from err
    return cv.int_(value)

FireMethod = pv_client_ns.enum("FireMethod")
FIRE_METHODS = {
    "phase_angle": FireMethod.FIRE_METHOD_PHASE_ANGLE,
    "burst": FireMethod.FIRE_METHOD_BURST,
}

ZC_INTERRUPT_TYPES = {
    "RISING": gpio_ns.INTERRUPT_RISING_EDGE,
    "FALLING": gpio_ns.INTERRUPT_FALLING_EDGE,
}


def _validate_platform(config):
    if CORE.is_host:
        for key in (CONF_GATE_PIN, CONF_ZERO_CROSS_PIN, CONF_ZERO_CROSS_INTERRUPT_TYPE):
            if key in config:
                raise cv.Invalid(
                    f"'{key}' is not used on the host platform (simulated mains)", path=[key]
                )
    else:
        for key in (CONF_GATE_PIN, CONF_ZERO_CROSS_PIN):
            if key not in config:
                raise cv.Invalid(f"'{key}' is required on {CORE.target_platform}", path=[key])
        for key in (CONF_MAINS_FREQUENCY, CONF_SIMULATED_POWER):
            if key in config:
                raise cv.Invalid(
                    f"'{key}' is only available on the host platform (simulated mains)",
                    path=[key],
                )
    return config


CONFIG_SCHEMA = cv.All(
    output.FLOAT_OUTPUT_SCHEMA.extend(
        {
            cv.Required(CONF_ID): cv.declare_id(PvClientOutput),
            cv.Optional(CONF_GATE_PIN): pins.internal_gpio_output_pin_schema,
            cv.Optional(CONF_ZERO_CROSS_PIN): pins.internal_gpio_input_pin_schema,
            cv.Optional(CONF_ZERO_CROSS_INTERRUPT_TYPE): cv.enum(
                ZC_INTERRUPT_TYPES, upper=True
            ),
            cv.Optional(CONF_METHOD, default="phase_angle"): cv.enum(
                FIRE_METHODS, lower=True, space="_"
            ),
            cv.Required(CONF_LOAD_POWER): cv.All(
                power_watts, cv.Range(min=1.0, max=10000.0)
            ),
            cv.Optional(CONF_ZERO_CROSS_OFFSET, default=0): cv.All(
                signed_microseconds, cv.Range(min=-3000, max=3000)
            ),
            cv.Optional(CONF_ZERO_CROSS_WINDOW, default="500us"): cv.All(
                cv.positive_time_period_microseconds,
                cv.Range(min=cv.TimePeriod(microseconds=100), max=cv.TimePeriod(microseconds=2000)),
            ),
            cv.Optional(CONF_MAINS_FREQUENCY): cv.All(
                cv.frequency, cv.one_of(50.0, 60.0)
            ),
            cv.Optional(CONF_SIMULATED_POWER): sensor.sensor_schema(
                unit_of_measurement=UNIT_WATT,
                accuracy_decimals=1,
                device_class=DEVICE_CLASS_POWER,
                state_class=STATE_CLASS_MEASUREMENT,
            ),
        }
    ).extend(cv.COMPONENT_SCHEMA),
    cv.only_on(["esp8266", "esp32", "host"]),
    _validate_platform,
)


async def to_code(config):
    if CORE.is_esp8266:
        # timer1 is shared through the Arduino core's waveform generator (as ac_dimmer does)
        from esphome.components.esp8266.const import require_waveform

        require_waveform()
    if CORE.is_esp32:
        from esphome.components.esp32 import add_idf_sdkconfig_option

        # the gptimer alarm is re-armed from its own ISR, which must keep running during flash writes
        add_idf_sdkconfig_option("CONFIG_GPTIMER_ISR_IRAM_SAFE", True)
        add_idf_sdkconfig_option("CONFIG_GPTIMER_CTRL_FUNC_IN_IRAM", True)

    var = cg.new_Pvariable(config[CONF_ID])
    await cg.register_component(var, config)
    await output.register_output(var, config)

    cg.add(var.set_method(config[CONF_METHOD]))
    cg.add(var.set_load_power(config[CONF_LOAD_POWER]))
    cg.add(var.set_zero_cross_offset(config[CONF_ZERO_CROSS_OFFSET]))
    cg.add(var.set_window(config[CONF_ZERO_CROSS_WINDOW].total_microseconds))

    if CORE.is_host:
        cg.add(var.set_mains_frequency(config.get(CONF_MAINS_FREQUENCY, 50.0)))
        if conf := config.get(CONF_SIMULATED_POWER):
            sens = await sensor.new_sensor(conf)
            cg.add(var.set_simulated_power_sensor(sens))
    else:
        pin = await cg.gpio_pin_expression(config[CONF_GATE_PIN])
        cg.add(var.set_gate_pin(pin))
        pin = await cg.gpio_pin_expression(config[CONF_ZERO_CROSS_PIN])
        cg.add(var.set_zero_cross_pin(pin))
        cg.add(
            var.set_zero_cross_interrupt_type(
                ZC_INTERRUPT_TYPES[config.get(CONF_ZERO_CROSS_INTERRUPT_TYPE, "RISING")]
            )
        )
