#pragma once

#include "esphome/core/component.h"
#include "esphome/core/defines.h"
#include "esphome/components/uart/uart.h"
#ifdef USE_SENSOR
#include "esphome/components/sensor/sensor.h"
#endif
#ifdef USE_BINARY_SENSOR
#include "esphome/components/binary_sensor/binary_sensor.h"
#endif
#ifdef USE_TEXT_SENSOR
#include "esphome/components/text_sensor/text_sensor.h"
#endif

#include "frame_parser.h"
#include "legacy_json.h"

namespace esphome::routeur_pv {

enum SensorKind : uint8_t {
  SENSOR_GRID_POWER = 0,
  SENSOR_ROUTED_POWER,
  SENSOR_ROUTED_RATIO,
  SENSOR_CHANNEL2_RATIO,
  SENSOR_MAINS_FREQUENCY,
  SENSOR_MAINS_VOLTAGE,
  SENSOR_BUCKET_ENERGY,
  SENSOR_FIRING_DELAY,
  SENSOR_MIN_ROUTABLE_POWER,
  SENSOR_SAMPLES_PER_CYCLE,
  SENSOR_FRAMES_RECEIVED,
  SENSOR_FRAMES_REJECTED,
  SENSOR_KIND_COUNT,
};

/// STA flags exposed as binary sensors (bit index in the STA field).
static const uint8_t STA_FLAG_COUNT = 5;

/// Hub: reads the ATmega's frames from a UART and publishes them.
class RouteurPvComponent : public Component, public uart::UARTDevice {
 public:
  void setup() override;
  void loop() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::DATA; }

  void set_heater_power(float watts) { this->heater_power_ = watts; }
  /// Not `set_timeout`: that would hide Component::set_timeout (scheduler).
  void set_link_timeout(uint32_t ms) { this->timeout_ms_ = ms; }
  void set_baud_rate(uint32_t baud) { this->baud_rate_ = baud; }

#ifdef USE_SENSOR
  void set_grid_power_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_GRID_POWER] = s; }
  void set_routed_power_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_ROUTED_POWER] = s; }
  void set_routed_ratio_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_ROUTED_RATIO] = s; }
  void set_channel2_ratio_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_CHANNEL2_RATIO] = s; }
  void set_mains_frequency_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_MAINS_FREQUENCY] = s; }
  void set_mains_voltage_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_MAINS_VOLTAGE] = s; }
  void set_bucket_energy_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_BUCKET_ENERGY] = s; }
  void set_firing_delay_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_FIRING_DELAY] = s; }
  void set_min_routable_power_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_MIN_ROUTABLE_POWER] = s; }
  void set_samples_per_cycle_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_SAMPLES_PER_CYCLE] = s; }
  void set_frames_received_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_FRAMES_RECEIVED] = s; }
  void set_frames_rejected_sensor(sensor::Sensor *s) { this->sensors_[SENSOR_FRAMES_REJECTED] = s; }
#endif
#ifdef USE_BINARY_SENSOR
  void set_link_binary_sensor(binary_sensor::BinarySensor *s) { this->link_sensor_ = s; }
  /// `bit`: index of the STA flag (0 NO_MAINS .. 4 WATCHDOG_RESET).
  void set_status_flag_binary_sensor(uint8_t bit, binary_sensor::BinarySensor *s) {
    if (bit < STA_FLAG_COUNT)
      this->sta_sensors_[bit] = s;
  }
#endif
#ifdef USE_TEXT_SENSOR
  void set_status_text_sensor(text_sensor::TextSensor *s) { this->status_text_sensor_ = s; }
#endif

  /// Values served by the legacy JSON API (0 before the first frame and after a link loss).
  const LegacyValues &legacy_values() const { return this->legacy_; }
  const FrameParser &parser() const { return this->parser_; }
  bool link_ok() const { return this->link_ok_; }

 protected:
  void handle_frame_(const Frame &frame);
  void handle_timeout_();
  void publish_counters_(bool force);
#ifdef USE_SENSOR
  void publish_(SensorKind kind, float value);
  sensor::Sensor *sensors_[SENSOR_KIND_COUNT]{};
#endif
#ifdef USE_BINARY_SENSOR
  binary_sensor::BinarySensor *link_sensor_{nullptr};
  binary_sensor::BinarySensor *sta_sensors_[STA_FLAG_COUNT]{};
#endif
#ifdef USE_TEXT_SENSOR
  text_sensor::TextSensor *status_text_sensor_{nullptr};
#endif

  FrameParser parser_;
  LegacyValues legacy_;
  float heater_power_{NAN};
  uint32_t timeout_ms_{5000};
  uint32_t baud_rate_{9600};
  uint32_t last_frame_ms_{0};
  uint32_t last_counters_ms_{0};
  uint32_t published_ok_{UINT32_MAX};
  uint32_t published_rejected_{UINT32_MAX};
  bool link_ok_{false};
  bool unavailable_published_{false};
};

}  // namespace esphome::routeur_pv
