#include "hot_water.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstring>

#include "esphome/core/hal.h"
#include "esphome/core/helpers.h"
#include "esphome/core/log.h"

namespace esphome::hot_water {

static const char *const TAG = "hot_water";

/// Bump when SavedState changes shape: an old record is then ignored rather than misread.
static const uint32_t STATE_PREF_VERSION = 1;
/// The longest boost, also that of a boost of duration 0 (until its target temperature).
static const uint32_t MAX_BOOST_S = 12u * 3600u;
/// Longest gap between two updates whose energy is counted (a stalled loop counts no more).
static const uint32_t MAX_COUNT_GAP_MS = 60000;
/// What the saved state may lag behind before it is saved again: a restart loses at most this much
/// energy and sees the last cycle at most this much earlier than it was (never later).
static const double SAVE_STEP_WH = 10.0;
static const int64_t SAVE_STEP_LEGIONELLA_S = 600;

static const char *action_name(Action a) {
  switch (a) {
    case Action::FORCE:
      return "force";
    case Action::STOP:
      return "stop";
    case Action::SOLAR:
    default:
      return "solar routing";
  }
}

bool PublishGate::due(double value, uint32_t now_ms) const {
  if (!this->done)
    return true;
  const bool unknown = std::isnan(value), was_unknown = std::isnan(this->last);
  if (unknown || was_unknown)
    return unknown != was_unknown;
  if (value == this->last || std::fabs(value - this->last) < this->step)
    return value == 0.0 && this->last != 0.0;
  return value == 0.0 || now_ms - this->last_ms >= this->min_ms;
}

// ------------------------------------------------------------------------------------ configuration

void HotWaterComponent::add_off_peak_window(uint16_t start_min, uint16_t end_min) {
  Config &c = this->manager_.mutable_config();
  c.off_peak.push_back(DailyWindow{start_min, end_min});
  if (c.off_peak_source == OffPeakSource::NONE)
    c.off_peak_source = OffPeakSource::WINDOWS;
}

void HotWaterComponent::set_legionella(float c, uint32_t hold_s, uint8_t every_days) {
  Config &config = this->manager_.mutable_config();
  config.legionella_c = c;
  config.legionella_hold_s = hold_s;
  config.legionella_every_days = every_days;
}

#ifdef USE_BINARY_SENSOR
void HotWaterComponent::set_off_peak_binary_sensor(binary_sensor::BinarySensor *s) {
  this->off_peak_binary_ = s;
  this->manager_.mutable_config().off_peak_source = OffPeakSource::SIGNAL;  // windows, if any, plan ahead
}
#endif

#ifdef USE_TEXT_SENSOR
void HotWaterComponent::set_off_peak_text_sensor(text_sensor::TextSensor *s) {
  this->off_peak_text_ = s;
  this->manager_.mutable_config().off_peak_source = OffPeakSource::SIGNAL;
}
#endif

// ------------------------------------------------------------------------------------ running

void HotWaterComponent::setup() {
  this->pref_ = global_preferences->make_preference<SavedState>(fnv1_hash("hot_water_state") + STATE_PREF_VERSION);
  SavedState saved{};
  saved.last_legionella_s = -1;  // never seen (0 would be a cycle in 1970)
  if (this->pref_.load(&saved)) {
    this->solar_today_.restore(saved.solar);
    this->grid_today_.restore(saved.grid);
    if (saved.last_legionella_s >= 0)
      this->manager_.restore_last_legionella(saved.last_legionella_s);
    // what went into the water today before the restart counts for an energy deadline
    if (saved.solar.day >= 0 && saved.solar.day == saved.grid.day)
      this->manager_.restore_energy_today(saved.solar.day,
                                          float((saved.solar.today_wh + saved.grid.today_wh) / 1000.0));
  }
  this->saved_ = saved;
  // A value not renewed for temperature_timeout is a lost sensor (a dallas_temp that stopped
  // answering keeps its last state).
  this->temperature_ms_ = millis();
  this->temperature_->add_on_state_callback([this](float) { this->temperature_ms_ = millis(); });
}

void HotWaterComponent::update() {
  const uint32_t now_ms = millis();
  Inputs in;
  this->read_clock_(in);
  in.tank_c = this->tank_temperature_(now_ms);
  this->read_power_(in);
  in.off_peak = this->off_peak_signal_();
#ifdef USE_DATETIME_TIME
  if (this->deadline_time_ != nullptr && this->deadline_time_->has_state())
    this->manager_.mutable_config().deadline_min =
        uint16_t(this->deadline_time_->hour * 60u + this->deadline_time_->minute);
#endif
  const Decision d = this->manager_.update(in);
  this->apply_(d);
  this->count_energy_(in, now_ms);
  this->save_state_();
  this->publish_(d, in, now_ms);
}

void HotWaterComponent::read_clock_(Inputs &in) {
  const ESPTime now = this->clock_->now();
  if (now.is_valid()) {
    this->tz_offset_s_ = ESPTime::timezone_offset();
    in.now_s = int64_t(now.timestamp) + this->tz_offset_s_;
    in.clock_known = true;
  } else {
    in.now_s = int64_t(millis_64() / 1000u);  // elapsed time only: boosts still count down
    in.clock_known = false;
  }
}

float HotWaterComponent::tank_temperature_(uint32_t now_ms) const {
  if (!this->temperature_->has_state() || now_ms - this->temperature_ms_ > this->temperature_timeout_ms_)
    return NAN;
  return this->temperature_->state;  // NaN too when the sensor itself reports a failure
}

void HotWaterComponent::read_power_(Inputs &in) {
  this->solar_w_ = this->grid_w_ = 0.0f;
  in.surplus_w = in.water_w = 0.0f;
  if (!this->hub_->link_ok())
    return;  // no fresh frame: nothing known of the power
  const float heater_w = this->manager_.config().heater_w;
  const routeur_pv::Frame &f = this->hub_->parser().frame();
  auto get = [&f](routeur_pv::Field k) { return f.has(k) ? static_cast<float>(f.value[k]) : NAN; };
  const float ree = get(routeur_pv::FIELD_REE);  // positive = export
  const float import_w = ree < 0.0f ? -ree : 0.0f, export_w = ree > 0.0f ? ree : 0.0f;
  float water_w = this->hub_->last_routed_power();
  if (!(water_w > 0.0f))
    water_w = 0.0f;
#ifdef USE_SWITCH
  if (this->relay_ != nullptr && this->relay_->state)
    water_w = heater_w;  // the relay bypasses the SSR: the heater at full power
#endif
  // What the house imports goes to the heater first: channel 1 takes its power from the grid up to
  // the import, the rest is the sun's.
  this->grid_w_ = std::min(water_w, import_w);
  this->solar_w_ = water_w - this->grid_w_;
  // Channel 2 takes what channel 1 cannot: the sun could give the heater that too.
  float ch2_w = 0.0f;
  const routeur_pv::SettingValues &reported = this->hub_->link().settings().reported();
  const float vo2 = get(routeur_pv::FIELD_VO2);
  if (reported.has(routeur_pv::SETTING_CH2) && vo2 > 0.0f)
    ch2_w = vo2 / 100.0f *
            routeur_pv::setting_to_unit(routeur_pv::SETTING_CH2, reported.value[routeur_pv::SETTING_CH2]);
  in.water_w = water_w;
  in.surplus_w = std::min(heater_w, this->solar_w_ + export_w + ch2_w);
}

int8_t HotWaterComponent::off_peak_signal_() const {
#ifdef USE_BINARY_SENSOR
  if (this->off_peak_binary_ != nullptr)
    return this->off_peak_binary_->has_state() ? (this->off_peak_binary_->state ? 1 : 0) : -1;
#endif
#ifdef USE_TEXT_SENSOR
  if (this->off_peak_text_ != nullptr) {
    if (!this->off_peak_text_->has_state())
      return -1;
    for (const auto &text : this->off_peak_texts_) {
      if (this->off_peak_text_->state.find(text) != std::string::npos)
        return 1;
    }
    return 0;
  }
#endif
  return -1;
}

void HotWaterComponent::apply_(const Decision &d) {
  // The hub starts in solar routing: a first decision of solar routing changes nothing (and must
  // not cancel a request made meanwhile, e.g. an automation's boost at boot).
  const bool changed = d.action != this->last_action_;
  const bool first = !this->applied_;
  this->applied_ = true;
  this->last_action_ = d.action;
  if (changed || first) {
    const char *name = action_name(d.action);
    if (std::strcmp(name, d.reason) == 0) {
      ESP_LOGI(TAG, "Decision: %s", name);
    } else {
      ESP_LOGI(TAG, "Decision: %s (%s)", name, d.reason);
    }
  }
  bool relay = false;
#ifdef USE_SWITCH
  if (this->relay_ != nullptr) {
    relay = true;
    const bool on = d.action == Action::FORCE;
    // On changes only (the user may switch it meanwhile), but a stop holds.
    if ((changed || d.action == Action::STOP) && this->relay_->state != on) {
      if (on) {
        this->relay_->turn_on();
      } else {
        this->relay_->turn_off();
      }
    }
  }
#endif
  if (!this->use_link_)
    return;
  const routeur_pv::Ch1Request requested = this->hub_->link().lease().requested();
  switch (d.action) {
    case Action::FORCE:
      // Untimed: the hub renews its 5-s lease while the request holds, so a dead gateway leaves the
      // ATmega back in solar routing within 5 s.
      if (changed && !relay) {
        this->hub_->request_boost(100.0f, 0);
      } else if (changed && requested == routeur_pv::Ch1Request::STOP) {
        this->hub_->request_auto();  // the relay forces; a stop of the SSR would only hide it
      }
      break;
    case Action::STOP:
      // Every update: the maximum must hold even if the "Channel 1 mode" select changed it.
      if (requested != routeur_pv::Ch1Request::STOP)
        this->hub_->request_stop(0);
      break;
    case Action::SOLAR:
    default:
      // in between, a manual "Channel 1 mode" is left alone; and the hub is in auto after a start
      if (changed && requested != routeur_pv::Ch1Request::AUTO)
        this->hub_->request_auto();
      break;
  }
}

void HotWaterComponent::count_energy_(const Inputs &in, uint32_t now_ms) {
  const int32_t day = in.clock_known ? int32_t(in.now_s / 86400) : -1;
  this->solar_today_.set_day(day);
  this->grid_today_.set_day(day);
  if (this->counted_) {
    const uint32_t gap_ms = std::min(now_ms - this->last_count_ms_, MAX_COUNT_GAP_MS);
    const double hours = gap_ms / 3600000.0;
    this->solar_today_.add(this->solar_w_ * hours);
    this->grid_today_.add(this->grid_w_ * hours);
  }
  this->counted_ = true;
  this->last_count_ms_ = now_ms;
}

void HotWaterComponent::save_state_() {
  const SavedState &last = this->saved_;
  SavedState now{};
  now.solar = this->solar_today_.state();
  now.grid = this->grid_today_.state();
  now.last_legionella_s = this->manager_.last_legionella_s();
  const bool legionella_moved =
      now.last_legionella_s != last.last_legionella_s &&
      (last.last_legionella_s < 0 || now.last_legionella_s - last.last_legionella_s >= SAVE_STEP_LEGIONELLA_S);
  const bool due = now.solar.day != last.solar.day || now.grid.day != last.grid.day ||
                   std::fabs(now.solar.today_wh - last.solar.today_wh) >= SAVE_STEP_WH ||
                   std::fabs(now.grid.today_wh - last.grid.today_wh) >= SAVE_STEP_WH || legionella_moved;
  if (!due)
    return;
  this->pref_.save(&now);
  this->saved_ = now;
}

void HotWaterComponent::publish_sensor_(SensorKind kind, double value, uint32_t now_ms) {
  sensor::Sensor *s = this->sensors_[kind];
  if (s == nullptr || !this->gates_[kind].due(value, now_ms))
    return;
  this->gates_[kind].published(value, now_ms);
  s->publish_state(static_cast<float>(value));
}

void HotWaterComponent::publish_binary_(BinaryKind kind, bool value) {
#ifdef USE_BINARY_SENSOR
  binary_sensor::BinarySensor *s = this->binary_sensors_[kind];
  if (s != nullptr && (!s->has_state() || s->state != value))
    s->publish_state(value);
#endif
}

void HotWaterComponent::publish_(const Decision &d, const Inputs &in, uint32_t now_ms) {
  const Config &c = this->manager_.config();
  const bool plausible = std::isfinite(in.tank_c) && in.tank_c >= c.min_plausible_c && in.tank_c <= c.max_plausible_c;
  // The Manager plans only with a deadline, a clock and a temperature: unknown otherwise, not 0.
  const bool planned = c.deadline_enabled && in.clock_known && plausible;
  this->publish_sensor_(SENSOR_ENERGY_NEEDED, planned ? d.energy_needed_kwh : NAN, now_ms);
  this->publish_sensor_(SENSOR_SOLAR_EXPECTED, planned ? d.solar_expected_kwh : NAN, now_ms);
  this->publish_sensor_(SENSOR_FORCING_STARTS,
                        planned && d.forcing_starts_s >= 0 ? double(d.forcing_starts_s - this->tz_offset_s_) : NAN,
                        now_ms);
  const int64_t last_legionella = this->manager_.last_legionella_s();
  if (in.clock_known)  // local seconds: to UTC with the zone's offset
    this->publish_sensor_(SENSOR_LAST_LEGIONELLA,
                          last_legionella >= 0 ? double(last_legionella - this->tz_offset_s_) : NAN, now_ms);
  this->publish_sensor_(SENSOR_SOLAR_ENERGY_TODAY, this->solar_today_.today_wh() / 1000.0, now_ms);
  this->publish_sensor_(SENSOR_GRID_ENERGY_TODAY, this->grid_today_.today_wh() / 1000.0, now_ms);
  this->publish_sensor_(SENSOR_BOOST_REMAINING, double((this->manager_.boost_left_s() + 59u) / 60u), now_ms);

  this->publish_binary_(BINARY_FORCING, d.action == Action::FORCE);
  this->publish_binary_(BINARY_TEMPERATURE_PROBLEM, !plausible);
  if (in.clock_known)
    this->publish_binary_(BINARY_LEGIONELLA_OVERDUE, this->manager_.legionella_overdue(in.now_s));
#ifdef USE_TEXT_SENSOR
  const bool reason_changed = this->last_reason_ == nullptr || std::strcmp(this->last_reason_, d.reason) != 0;
  if (this->state_text_sensor_ != nullptr && reason_changed)
    this->state_text_sensor_->publish_state(d.reason);
#endif
  this->last_reason_ = d.reason;
}

void HotWaterComponent::start_boost(uint32_t seconds, float target_c) {
  if (!(target_c > 0.0f))
    target_c = NAN;
  if (seconds == 0) {
    if (std::isnan(target_c)) {
      ESP_LOGW(TAG, "Boost: neither a duration nor a target temperature, nothing done");
      return;
    }
    seconds = MAX_BOOST_S;
  }
  seconds = std::min(seconds, MAX_BOOST_S);
  if (std::isnan(target_c)) {
    ESP_LOGI(TAG, "Boost for %" PRIu32 " min", (seconds + 59u) / 60u);
  } else {
    ESP_LOGI(TAG, "Boost for %" PRIu32 " min at most, up to %.1f degC", (seconds + 59u) / 60u, target_c);
  }
  this->manager_.boost(seconds, target_c);
  this->update();  // decided (and sent) at once, not at the next interval
}

void HotWaterComponent::cancel_boost() {
  ESP_LOGI(TAG, "Boost cancelled");
  this->manager_.cancel_boost();
  this->update();
}

void HotWaterComponent::dump_config() {
  const Config &c = this->manager_.config();
  ESP_LOGCONFIG(TAG,
                "Hot water:\n"
                "  Heater power: %.0f W\n"
                "  Tank: %.0f L, losses %.2f W/K, ambient %.1f degC\n"
                "  Maximum: %.1f degC, hysteresis %.1f K\n"
                "  Temperature timeout: %" PRIu32 " s",
                c.heater_w, c.tank.volume_l, c.tank.loss_w_per_k, c.tank.ambient_c, c.max_c, c.hysteresis_c,
                this->temperature_timeout_ms_ / 1000u);
  LOG_SENSOR("  ", "Temperature", this->temperature_);
  LOG_UPDATE_INTERVAL(this);
  if (std::isnan(this->boost_target_c_)) {
    ESP_LOGCONFIG(TAG, "  Boost: %" PRIu32 " min, no target", this->boost_duration_s_ / 60u);
  } else {
    ESP_LOGCONFIG(TAG, "  Boost: %" PRIu32 " min, up to %.1f degC", this->boost_duration_s_ / 60u,
                  this->boost_target_c_);
  }
  bool deadline_entity = false;
#ifdef USE_DATETIME_TIME
  deadline_entity = this->deadline_time_ != nullptr;
#endif
  ESP_LOGCONFIG(TAG, "  Deadline: %s, %02u:%02u%s", c.deadline_enabled ? "on" : "off", c.deadline_min / 60u,
                c.deadline_min % 60u, deadline_entity ? " (from its time entity)" : "");
  if (c.deadline_kwh > 0.0f) {
    ESP_LOGCONFIG(TAG, "    at least %.2f kWh into the water today", c.deadline_kwh);
  } else {
    ESP_LOGCONFIG(TAG, "    at least %.1f degC", c.deadline_c);
  }
  switch (c.off_peak_source) {
    case OffPeakSource::NONE:
      ESP_LOGCONFIG(TAG, "  Off-peak: none (forcing at any time)");
      break;
    case OffPeakSource::WINDOWS:
      ESP_LOGCONFIG(TAG, "  Off-peak: %u daily window(s)", (unsigned) c.off_peak.size());
      break;
    case OffPeakSource::SIGNAL:
      ESP_LOGCONFIG(TAG, "  Off-peak: a signal, planned with %s", c.off_peak.empty() ? "its last 24 h" : "the windows");
      break;
  }
  for (const auto &w : c.off_peak)
    ESP_LOGCONFIG(TAG, "    %02u:%02u-%02u:%02u", w.start_min / 60u, w.start_min % 60u, w.end_min / 60u,
                  w.end_min % 60u);
#ifdef USE_BINARY_SENSOR
  LOG_BINARY_SENSOR("    ", "Signal", this->off_peak_binary_);
#endif
#ifdef USE_TEXT_SENSOR
  LOG_TEXT_SENSOR("    ", "Signal", this->off_peak_text_);
  for (const auto &text : this->off_peak_texts_)
    ESP_LOGCONFIG(TAG, "      off-peak when it contains \"%s\"", text.c_str());
#endif
  if (c.legionella_every_days == 0) {
    ESP_LOGCONFIG(TAG, "  Anti-legionella: off");
  } else {
    // Local seconds: their UTC calendar fields are the local date and time.
    char last[20] = "never";
    const int64_t last_s = this->manager_.last_legionella_s();
    if (last_s >= 0)
      ESPTime::from_epoch_utc(static_cast<time_t>(last_s)).strftime(last, sizeof(last), "%Y-%m-%d %H:%M");
    ESP_LOGCONFIG(TAG, "  Anti-legionella: %.1f degC for %" PRIu32 " min every %u days, last: %s", c.legionella_c,
                  c.legionella_hold_s / 60u, (unsigned) c.legionella_every_days, last);
  }
  bool relay = false;
#ifdef USE_SWITCH
  relay = this->relay_ != nullptr;
  LOG_SWITCH("  ", "Bypass relay", this->relay_);
#endif
  if (relay && this->use_link_) {
    ESP_LOGCONFIG(TAG, "  Forcing: through the bypass relay; stop through the ATmega's command line");
  } else if (relay) {
    ESP_LOGCONFIG(TAG, "  Forcing: through the bypass relay (no command line: a stop can only turn the relay "
                       "off, the ATmega still routes the surplus and the heater's own thermostat is the limit)");
  } else {
    ESP_LOGCONFIG(TAG, "  Forcing: the ATmega's boost over the command line");
  }
  LOG_SENSOR("  ", "Energy needed", this->sensors_[SENSOR_ENERGY_NEEDED]);
  LOG_SENSOR("  ", "Solar expected", this->sensors_[SENSOR_SOLAR_EXPECTED]);
  LOG_SENSOR("  ", "Forcing starts", this->sensors_[SENSOR_FORCING_STARTS]);
  LOG_SENSOR("  ", "Last legionella", this->sensors_[SENSOR_LAST_LEGIONELLA]);
  LOG_SENSOR("  ", "Solar energy today", this->sensors_[SENSOR_SOLAR_ENERGY_TODAY]);
  LOG_SENSOR("  ", "Grid energy today", this->sensors_[SENSOR_GRID_ENERGY_TODAY]);
  LOG_SENSOR("  ", "Boost remaining", this->sensors_[SENSOR_BOOST_REMAINING]);
#ifdef USE_BINARY_SENSOR
  LOG_BINARY_SENSOR("  ", "Forcing", this->binary_sensors_[BINARY_FORCING]);
  LOG_BINARY_SENSOR("  ", "Temperature problem", this->binary_sensors_[BINARY_TEMPERATURE_PROBLEM]);
  LOG_BINARY_SENSOR("  ", "Legionella overdue", this->binary_sensors_[BINARY_LEGIONELLA_OVERDUE]);
#endif
#ifdef USE_TEXT_SENSOR
  LOG_TEXT_SENSOR("  ", "State", this->state_text_sensor_);
#endif
}

}  // namespace esphome::hot_water
