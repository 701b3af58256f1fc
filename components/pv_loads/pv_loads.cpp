#include "pv_loads.h"

#include <cmath>
#include <utility>

#include "esphome/core/hal.h"
#include "esphome/core/log.h"

namespace esphome::pv_loads {

static const char *const TAG = "pv_loads";
/// Between frames the shares are computed again this often: a load that went silent loses its share
/// to the next one without waiting for a change of VO2.
static const uint32_t ALLOT_INTERVAL_MS = 500;

void LoadPriorityNumber::control(float value) { this->parent_->set_priority(this->index_, uint8_t(std::lround(value))); }

void PvLoads::add_load(sensor::Sensor *offered, sensor::Sensor *allotted, uint8_t priority,
                       LoadPriorityNumber *number) {
  const size_t index = this->allotter_.add_load(priority);
  if (number != nullptr) {
    number->set_parent(this);
    number->set_index(index);
  }
  this->loads_.push_back(Entry{offered, allotted, number, {}, {}});
}

void PvLoads::setup() {
  for (size_t i = 0; i < this->loads_.size(); ++i) {
    Entry &e = this->loads_[i];
    // Each report refreshes the load (packet_transport publishes every packet it receives, once a
    // second at least): positive = its rating while it follows; 0 = off or forced; NaN = unknown.
    e.offered->add_on_state_callback([this, i](float watts) {
      if (std::isnan(watts))
        return;
      this->allotter_.report(i, watts, watts > 0.0f, millis());
    });
    if (e.number != nullptr) {
      e.pref = global_preferences->make_preference<uint8_t>(e.number->get_preference_hash() ^ fnv1_hash("pv_loads"));
      uint8_t saved;
      if (e.pref.load(&saved) && saved >= 1 && saved <= 9)
        this->allotter_.set_priority(i, saved);
      e.number->publish_state(this->allotter_.load(i).priority);
    }
    e.allotted->publish_state(0.0f);
    e.gate.published(0.0f, millis());
  }
  this->hub_->add_on_frame_callback([this](const routeur_pv::Frame &f) { this->on_frame_(f); });
}

void PvLoads::set_priority(size_t index, uint8_t priority) {
  if (index >= this->loads_.size() || priority < 1 || priority > 9)
    return;
  this->allotter_.set_priority(index, priority);
  Entry &e = this->loads_[index];
  if (e.number != nullptr) {
    e.pref.save(&priority);
    e.number->publish_state(priority);
  }
  this->allot_(millis());
}

void PvLoads::on_frame_(const routeur_pv::Frame &f) {
  if (f.has(routeur_pv::FIELD_DIM) && f.value[routeur_pv::FIELD_DIM] > 0)
    this->reported_full_scale_w_ = static_cast<float>(f.value[routeur_pv::FIELD_DIM]);
  this->vo2_percent_ = f.has(routeur_pv::FIELD_VO2) ? static_cast<float>(f.value[routeur_pv::FIELD_VO2]) : NAN;
  this->po2_w_ = f.has(routeur_pv::FIELD_PO2) ? static_cast<float>(f.value[routeur_pv::FIELD_PO2]) : NAN;
  const uint32_t now = millis();
  this->allot_(now);
  if (this->follow_capacity_ && this->hub_->has_command_line()) {
    const float reported = this->reported_full_scale_w_ > 0.0f ? this->reported_full_scale_w_ : NAN;
    const bool idle = !(this->vo2_percent_ > 0.0f);
    const float wanted = this->full_scale_follower_.update(this->allotter_.capacity_w(now), reported, idle, now);
    if (!std::isnan(wanted)) {
      ESP_LOGI(TAG, "Channel-2 full scale (DIM) %.0f W -> %.0f W, the loads' capacity", reported, wanted);
      const std::pair<routeur_pv::Setting, float> setting{routeur_pv::SETTING_CH2, wanted};
      this->hub_->request_settings(&setting, 1);
    }
  }
}

void PvLoads::loop() {
  const uint32_t now = millis();
  if (now - this->last_allot_ms_ >= ALLOT_INTERVAL_MS)
    this->allot_(now);
}

void PvLoads::allot_(uint32_t now_ms) {
  this->last_allot_ms_ = now_ms;
  // No fresh frame: nothing to share (the ATmega's channel 2 is unknown): every load goes to 0.
  if (!this->hub_->link_ok())
    this->vo2_percent_ = this->po2_w_ = NAN;
  this->allotter_.allot(routeur_pv::channel_2_watts(this->po2_w_, this->vo2_percent_, this->full_scale_w_()), now_ms);
  for (size_t i = 0; i < this->loads_.size(); ++i) {
    Entry &e = this->loads_[i];
    const float watts = std::round(this->allotter_.allotted_w(i));
    if (e.gate.should_publish(watts, now_ms)) {
      e.gate.published(watts, now_ms);
      e.allotted->publish_state(watts);
    }
  }
}

void PvLoads::dump_config() {
  ESP_LOGCONFIG(TAG, "Channel-2 loads: %u, full scale %.0f W until the frames report DIM, timeout %u ms",
                unsigned(this->loads_.size()), this->configured_full_scale_w_, unsigned(this->allotter_.timeout_ms()));
  const char *follows = !this->follow_capacity_ ? "no" : this->hub_->has_command_line() ? "yes" : "no (no command line)";
  ESP_LOGCONFIG(TAG, "  DIM follows the loads' capacity: %s", follows);
  for (size_t i = 0; i < this->loads_.size(); ++i) {
    ESP_LOGCONFIG(TAG, "  Load %u: priority %u", unsigned(i), unsigned(this->allotter_.load(i).priority));
    LOG_SENSOR("    ", "Allotted power", this->loads_[i].allotted);
  }
}

}  // namespace esphome::pv_loads
