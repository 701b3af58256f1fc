#include "routeur_pv.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "esphome/core/hal.h"
#include "esphome/core/log.h"

namespace esphome::routeur_pv {

static const char *const TAG = "routeur_pv";

/// Bytes handled per loop() pass at most (9600 baud brings ~16 bytes per 16 ms loop).
static const size_t MAX_BYTES_PER_LOOP = 256;
/// Frame counters are published at most this often (a garbage flood must not flood the API).
static const uint32_t COUNTERS_INTERVAL_MS = 1000;

static const char *const STA_NAMES[STA_FLAG_COUNT] = {"NO_MAINS", "NO_ZERO_CROSS", "ADC_CLIPPED", "CH1_SATURATED",
                                                      "WATCHDOG_RESET"};

void RouteurPvComponent::setup() {
  this->last_frame_ms_ = millis();
#ifdef USE_BINARY_SENSOR
  if (this->link_sensor_ != nullptr)
    this->link_sensor_->publish_initial_state(false);
#endif
}

void RouteurPvComponent::loop() {
  uint8_t chunk[64];
  size_t budget = MAX_BYTES_PER_LOOP;
  size_t avail;
  while (budget > 0 && (avail = this->available()) > 0) {
    size_t n = std::min(std::min(avail, sizeof(chunk)), budget);
    if (!this->read_array(chunk, n))
      break;
    budget -= n;
    for (size_t i = 0; i < n; i++) {
      FeedResult r = this->parser_.feed(chunk[i]);
      if (r == FeedResult::FRAME) {
        this->handle_frame_(this->parser_.frame());
      } else if (r == FeedResult::REJECTED) {
        ESP_LOGD(TAG, "Line rejected: %s", reject_name(this->parser_.last_reject()));
      }
    }
  }
  const uint32_t now = millis();
  if (!this->unavailable_published_ && now - this->last_frame_ms_ > this->timeout_ms_)
    this->handle_timeout_();
  this->publish_counters_(false);
}

#ifdef USE_SENSOR
void RouteurPvComponent::publish_(SensorKind kind, float value) {
  sensor::Sensor *s = this->sensors_[kind];
  if (s == nullptr)
    return;
  // A field the frame does not carry: unavailable, published once rather than every second.
  if (std::isnan(value) && (!s->has_state() || std::isnan(s->state)))
    return;
  s->publish_state(value);
}
#endif

void RouteurPvComponent::handle_frame_(const Frame &f) {
  this->last_frame_ms_ = millis();
  this->unavailable_published_ = false;
  this->legacy_.update(f);
  auto get = [&f](Field k) -> float { return f.has(k) ? static_cast<float>(f.value[k]) : NAN; };
  const float por = get(FIELD_POR);
  const float por_clamped = std::isnan(por) ? NAN : std::max(por, 0.0f);
  ESP_LOGD(TAG, "Frame: REE=%.2f W POR=%.2f %% VO2=%.0f %%", get(FIELD_REE), por, get(FIELD_VO2));
#ifdef USE_SENSOR
  // HA convention: positive grid power = import. REE is positive on export, hence the sign flip.
  const float ree = get(FIELD_REE);
  this->publish_(SENSOR_GRID_POWER, ree == 0.0f ? 0.0f : -ree);
  this->publish_(SENSOR_ROUTED_POWER, por_clamped * this->heater_power_ / 100.0f);
  this->publish_(SENSOR_ROUTED_RATIO, por_clamped);
  this->publish_(SENSOR_CHANNEL2_RATIO, get(FIELD_VO2));
  this->publish_(SENSOR_MAINS_FREQUENCY, get(FIELD_FRQ));
  this->publish_(SENSOR_MAINS_VOLTAGE, get(FIELD_VRM));
  this->publish_(SENSOR_BUCKET_ENERGY, get(FIELD_EIB));
  this->publish_(SENSOR_FIRING_DELAY, get(FIELD_FID));
  this->publish_(SENSOR_MIN_ROUTABLE_POWER, get(FIELD_MPC));
  this->publish_(SENSOR_SAMPLES_PER_CYCLE, get(FIELD_SPL));
#endif
  const bool has_sta = f.has(FIELD_STA);
  const auto sta = has_sta ? static_cast<uint16_t>(f.value[FIELD_STA]) : 0;
#ifdef USE_BINARY_SENSOR
  for (uint8_t b = 0; b < STA_FLAG_COUNT; b++) {
    auto *s = this->sta_sensors_[b];
    if (s == nullptr)
      continue;
    if (has_sta) {
      s->publish_state((sta >> b) & 1u);
    } else if (s->has_state()) {
      s->invalidate_state();
    }
  }
  if (this->link_sensor_ != nullptr)
    this->link_sensor_->publish_state(true);
#endif
#ifdef USE_TEXT_SENSOR
  if (this->status_text_sensor_ != nullptr) {
    std::string text;
    if (!has_sta) {
      text = "n/a";
    } else if (sta == 0) {
      text = "OK";
    } else {
      for (uint8_t b = 0; b < 16; b++) {
        if (!((sta >> b) & 1u))
          continue;
        if (!text.empty())
          text += ",";
        text += b < STA_FLAG_COUNT ? STA_NAMES[b] : ("BIT" + std::to_string(b));
      }
    }
    if (!this->status_text_sensor_->has_state() || this->status_text_sensor_->state != text)
      this->status_text_sensor_->publish_state(text);
  }
#endif
  if (!this->link_ok_)
    ESP_LOGI(TAG, "Link up");
  this->link_ok_ = true;
  this->publish_counters_(true);  // one frame a second (a few more while VO2 moves fast): never throttled
}

void RouteurPvComponent::handle_timeout_() {
  ESP_LOGW(TAG, "No valid frame for %u ms: link lost, values unavailable", (unsigned) this->timeout_ms_);
  this->unavailable_published_ = true;
  this->link_ok_ = false;
  this->legacy_.clear();  // the legacy API serves zeros, as before the first frame (VO2 0: dimmer off)
#ifdef USE_SENSOR
  // Frame counters describe the gateway itself, not the ATmega: they stay valid (a rising
  // "frames rejected" is exactly what a broken link shows).
  for (uint8_t k = 0; k < SENSOR_KIND_COUNT; k++) {
    if (k == SENSOR_FRAMES_RECEIVED || k == SENSOR_FRAMES_REJECTED)
      continue;
    auto *s = this->sensors_[k];
    if (s != nullptr)
      s->publish_state(NAN);
  }
#endif
#ifdef USE_BINARY_SENSOR
  for (auto *s : this->sta_sensors_) {
    if (s != nullptr)
      s->invalidate_state();
  }
  if (this->link_sensor_ != nullptr)
    this->link_sensor_->publish_state(false);
#endif
#ifdef USE_TEXT_SENSOR
  if (this->status_text_sensor_ != nullptr)
    this->status_text_sensor_->publish_state("NO_LINK");
#endif
}

void RouteurPvComponent::publish_counters_(bool force) {
#ifdef USE_SENSOR
  const uint32_t now = millis();
  const uint32_t ok = this->parser_.frames_ok(), rej = this->parser_.frames_rejected();
  if (ok == this->published_ok_ && rej == this->published_rejected_)
    return;
  if (!force && this->published_ok_ != UINT32_MAX && now - this->last_counters_ms_ < COUNTERS_INTERVAL_MS)
    return;
  this->last_counters_ms_ = now;
  if (ok != this->published_ok_ && this->sensors_[SENSOR_FRAMES_RECEIVED] != nullptr)
    this->sensors_[SENSOR_FRAMES_RECEIVED]->publish_state(ok);
  if (rej != this->published_rejected_ && this->sensors_[SENSOR_FRAMES_REJECTED] != nullptr)
    this->sensors_[SENSOR_FRAMES_REJECTED]->publish_state(rej);
  this->published_ok_ = ok;
  this->published_rejected_ = rej;
#endif
}

void RouteurPvComponent::dump_config() {
  ESP_LOGCONFIG(TAG, "Routeur PV:");
  ESP_LOGCONFIG(TAG, "  Heater power: %.0f W", this->heater_power_);
  ESP_LOGCONFIG(TAG, "  Timeout: %u ms\n  Baud rate: %u", (unsigned) this->timeout_ms_, (unsigned) this->baud_rate_);
  ESP_LOGCONFIG(TAG, "  Frames OK: %u, rejected: %u", (unsigned) this->parser_.frames_ok(),
                (unsigned) this->parser_.frames_rejected());
  for (uint8_t r = 1; r < static_cast<uint8_t>(Reject::COUNT); r++) {
    auto reason = static_cast<Reject>(r);
    if (this->parser_.rejected(reason) != 0)
      ESP_LOGCONFIG(TAG, "    %s: %u", reject_name(reason), (unsigned) this->parser_.rejected(reason));
  }
  this->check_uart_settings(this->baud_rate_);
#ifdef USE_SENSOR
  LOG_SENSOR("  ", "Grid power", this->sensors_[SENSOR_GRID_POWER]);
  LOG_SENSOR("  ", "Routed power", this->sensors_[SENSOR_ROUTED_POWER]);
  LOG_SENSOR("  ", "Routed ratio", this->sensors_[SENSOR_ROUTED_RATIO]);
  LOG_SENSOR("  ", "Channel 2 ratio", this->sensors_[SENSOR_CHANNEL2_RATIO]);
  LOG_SENSOR("  ", "Mains frequency", this->sensors_[SENSOR_MAINS_FREQUENCY]);
  LOG_SENSOR("  ", "Mains voltage", this->sensors_[SENSOR_MAINS_VOLTAGE]);
#endif
#ifdef USE_BINARY_SENSOR
  LOG_BINARY_SENSOR("  ", "Link", this->link_sensor_);
#endif
}

}  // namespace esphome::routeur_pv
