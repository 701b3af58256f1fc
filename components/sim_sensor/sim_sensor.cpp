#include "sim_sensor.h"

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sys/stat.h>

#include "esphome/core/log.h"

namespace esphome::sim_sensor {

static const char *const TAG = "sim_sensor";

// The simulator writes one short line ("%.2f\n"); anything longer past this is not read.
static const size_t MAX_READ = 64;

float SimSensor::read_value_(const char *&problem) const {
  struct stat st;
  if (this->path_.empty()) {
    problem = "no path set";
    return NAN;
  }
  if (stat(this->path_.c_str(), &st) != 0) {
    problem = errno == ENOENT ? "file missing" : "file not accessible";
    return NAN;
  }
  // mtime is wall-clock time: compare it with the wall clock, not with millis()
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double age_s = (now.tv_sec - st.st_mtim.tv_sec) + (now.tv_nsec - st.st_mtim.tv_nsec) * 1e-9;
  if (age_s * 1000.0 > this->max_age_ms_) {
    problem = "file too old (simulator stopped?)";
    return NAN;
  }
  FILE *f = fopen(this->path_.c_str(), "r");
  if (f == nullptr) {
    problem = "file not readable";
    return NAN;
  }
  char text[MAX_READ + 1];
  size_t len = fread(text, 1, MAX_READ, f);
  fclose(f);
  text[len] = '\0';
  char *end;
  float value = strtof(text, &end);
  if (end == text || !std::isfinite(value)) {
    problem = "no number in file";
    return NAN;
  }
  problem = nullptr;
  return value;
}

void SimSensor::update() {
  const char *problem;
  float value = this->read_value_(problem);
  // once per change, not every second a simulator stays stopped
  if (problem != this->last_problem_) {
    if (problem != nullptr) {
      ESP_LOGW(TAG, "'%s': %s: %s, state unknown", this->get_name().c_str(), this->path_.c_str(), problem);
    } else {
      ESP_LOGI(TAG, "'%s': %s readable again", this->get_name().c_str(), this->path_.c_str());
    }
    this->last_problem_ = problem;
  }
  // unknown once, not every second while it stays unknown (nothing new for Home Assistant)
  if (std::isnan(value) && this->has_state() && std::isnan(this->state))
    return;
  this->publish_state(value);
}

void SimSensor::dump_config() {
  LOG_SENSOR("", "Simulator file sensor", this);
  ESP_LOGCONFIG(TAG,
                "  Path: %s\n"
                "  Max age: %" PRIu32 " ms",
                this->path_.c_str(), this->max_age_ms_);
  LOG_UPDATE_INTERVAL(this);
}

}  // namespace esphome::sim_sensor
