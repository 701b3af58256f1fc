#pragma once

#include <string>

#include "esphome/core/component.h"
#include "esphome/components/sensor/sensor.h"

namespace esphome::sim_sensor {

/// Publishes the first number of a text file that a simulator rewrites (atomically, by rename),
/// every update_interval. Unknown (NaN) when the file is missing, holds no finite number first,
/// or was last written more than max_age ago: the simulator has stopped, as a sensor gone quiet.
class SimSensor : public sensor::Sensor, public PollingComponent {
 public:
  /// Public so that a host yaml's on_boot lambda can take the path from an environment variable.
  void set_path(const std::string &path) { this->path_ = path; }
  void set_max_age(uint32_t max_age_ms) { this->max_age_ms_ = max_age_ms; }

  void update() override;
  void dump_config() override;
  float get_setup_priority() const override { return setup_priority::DATA; }

 protected:
  /// The file's value, or NaN with the reason in `problem`.
  float read_value_(const char *&problem) const;

  std::string path_;
  uint32_t max_age_ms_{10000};
  const char *last_problem_{nullptr};  // what made the last update unknown (logged on change only)
};

}  // namespace esphome::sim_sensor
