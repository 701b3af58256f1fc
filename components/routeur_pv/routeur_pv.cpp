#include "routeur_pv.h"

#include <algorithm>
#include <cmath>
#include <string>
#ifdef USE_HOST
#include <csignal>
#endif

#include "esphome/core/hal.h"
#include "esphome/core/log.h"

namespace esphome::routeur_pv {

static const char *const TAG = "routeur_pv";

/// Bytes handled per loop() pass at most (9600 baud brings ~16 bytes per 16 ms loop).
static const size_t MAX_BYTES_PER_LOOP = 256;
/// Bytes of a command line written per loop() pass at most: the ESP8266's software UART sends each
/// with interrupts off, ~1 ms at 9600 baud (a whole 48-character line would block loop() 50 ms).
static const size_t TX_BYTES_PER_LOOP = 16;
/// Frame counters are published at most this often (a garbage flood must not flood the API).
static const uint32_t COUNTERS_INTERVAL_MS = 1000;

static const char *const STA_NAMES[STA_FLAG_COUNT] = {"NO_MAINS",      "NO_ZERO_CROSS",  "ADC_CLIPPED",
                                                      "CH1_SATURATED", "WATCHDOG_RESET", "SETTINGS_DEFAULTS"};
/// The mode in force (MOD 0, 1, 2), as the "Channel 1 mode in force" text sensor says it.
static const char *const CH1_MODES[] = {"auto", "boost", "off"};

/// Bump when SavedEnergy changes shape: an old record is then ignored rather than misread.
static const uint32_t ENERGY_PREF_VERSION = 1;

void RouteurPvComponent::setup() {
#ifdef USE_HOST
  // A peer that drops its socket (Home Assistant restarting) must not kill the process with SIGPIPE:
  // the write then fails with EPIPE, which the API server handles.
  signal(SIGPIPE, SIG_IGN);
#endif
  this->last_frame_ms_ = millis();
  this->energy_pref_ = global_preferences->make_preference<SavedEnergy>(fnv1_hash("routeur_pv_energy") +
                                                                        ENERGY_PREF_VERSION);
  SavedEnergy saved{};
  if (this->energy_pref_.load(&saved)) {
    for (uint8_t k = 0; k < ENERGY_KIND_COUNT; k++)
      this->energy_[k].restore(saved.energy[k]);
    this->routed_today_.restore(saved.routed_today);
  }
  this->publish_energy_(true);
  // Midnight: today back to 0 even if no frame comes (once a second, not every loop pass).
  this->set_interval("day", 1000, [this]() {
    if (this->routed_today_.set_day(this->local_day_()))
      this->energy_dirty_ = true;
  });
#ifdef USE_BINARY_SENSOR
  if (this->link_sensor_ != nullptr)
    this->link_sensor_->publish_initial_state(false);
#endif
#ifdef USE_SENSOR
  this->gates_[SENSOR_CHANNEL1_LEASE].set_zero_goes_out(true);  // the end of a lease always shows
#endif
  this->publish_channel1_request_();  // auto: a restarted gateway requests nothing (the leases end)
}

void RouteurPvComponent::loop() {
  uint8_t chunk[64];
  size_t budget = MAX_BYTES_PER_LOOP;
  size_t avail;
  bool received = false, at_line_end = false;
  while (budget > 0 && (avail = this->available()) > 0) {
    size_t n = std::min(std::min(avail, sizeof(chunk)), budget);
    if (!this->read_array(chunk, n))
      break;
    budget -= n;
    received = true;
    at_line_end = chunk[n - 1] == '\n' || chunk[n - 1] == '\r';
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
  if (received)
    this->link_.on_rx(now, at_line_end);
  if (!this->unavailable_published_ && now - this->last_frame_ms_ > this->timeout_ms_)
    this->handle_timeout_();
  this->publish_counters_(false);
  this->publish_energy_(false);
  if (this->command_line_)
    this->send_commands_(now);
}

int32_t RouteurPvComponent::local_day_() {
#ifdef USE_TIME
  if (this->time_ != nullptr) {
    const ESPTime now = this->time_->now();
    if (now.is_valid())
      return int32_t(now.year) * 1000 + now.day_of_year;
  }
#endif
  return -1;
}

void RouteurPvComponent::count_energy_(const Frame &f, float routed_watts, uint32_t now) {
  // Counters (our ATmega) when the frame has them, else the frame's power up to the next frame.
  static const Field COUNTER_FIELD[ENERGY_KIND_COUNT] = {FIELD_WH1, FIELD_WHI, FIELD_WHE};
  const float ree = f.has(FIELD_REE) ? static_cast<float>(f.value[FIELD_REE]) : NAN;
  const float watts[ENERGY_KIND_COUNT] = {routed_watts, std::max(-ree, 0.0f), std::max(ree, 0.0f)};
  const bool gap_ok = this->link_ok_ && now - this->last_frame_ms_ <= this->timeout_ms_;
  const double dt_s = gap_ok ? (now - this->last_frame_ms_) / 1000.0 : 0.0;
  double routed_added = 0.0;
  for (uint8_t k = 0; k < ENERGY_KIND_COUNT; k++) {
    double added;
    if (f.has(COUNTER_FIELD[k])) {
      added = this->energy_[k].on_counter(f.value[COUNTER_FIELD[k]]);
    } else {
      this->energy_[k].forget_counter();
      added = this->energy_[k].on_power(this->last_frame_watts_[k], dt_s);
    }
    this->last_frame_watts_[k] = std::isnan(watts[k]) ? 0.0f : watts[k];
    if (added > 0.0)
      this->energy_dirty_ = true;
    if (k == ENERGY_ROUTED)
      routed_added = added;
  }
  if (this->routed_today_.set_day(this->local_day_()))
    this->energy_dirty_ = true;
  this->routed_today_.add(routed_added);
  SavedEnergy saved{};
  for (uint8_t k = 0; k < ENERGY_KIND_COUNT; k++)
    saved.energy[k] = this->energy_[k].state();
  saved.routed_today = this->routed_today_.state();
  this->energy_pref_.save(&saved);
}

void RouteurPvComponent::publish_energy_(bool force) {
#ifdef USE_SENSOR
  const uint32_t now = millis();
  if (!force && (!this->energy_dirty_ || now - this->last_energy_publish_ms_ < this->energy_interval_ms_))
    return;
  this->last_energy_publish_ms_ = now;
  this->energy_dirty_ = false;
  for (uint8_t k = 0; k < ENERGY_KIND_COUNT; k++) {
    if (this->energy_sensors_[k] != nullptr)
      this->energy_sensors_[k]->publish_state(this->energy_[k].total_wh() / 1000.0);
  }
  if (this->routed_today_sensor_ != nullptr)
    this->routed_today_sensor_->publish_state(this->routed_today_.today_wh() / 1000.0);
#endif
}

#ifdef USE_SENSOR
void RouteurPvComponent::publish_(SensorKind kind, float value) {
  sensor::Sensor *s = this->sensors_[kind];
  if (s == nullptr)
    return;
  // A field the frame does not carry: unknown, published once rather than every second.
  if (std::isnan(value) && !s->has_state())
    return;
  const uint32_t now = millis();
  if (!this->gates_[kind].should_publish(value, now))
    return;
  this->gates_[kind].published(value, now);
  s->publish_state(value);
}
#endif

void RouteurPvComponent::handle_frame_(const Frame &f) {
  if (f.channel2_only()) {
    this->handle_channel2_frame_(f);
    return;
  }
  const uint32_t now = millis();
  this->legacy_.update(f);
  auto get = [&f](Field k) -> float { return f.has(k) ? static_cast<float>(f.value[k]) : NAN; };
  const float por = get(FIELD_POR);
  const float por_clamped = std::isnan(por) ? NAN : std::max(por, 0.0f);
  // What channel 1 delivered, as the ATmega measured it (0 while the thermostat is open); an older
  // ATmega only says what it fired: POR x the heater's rating.
  const float routed_watts = f.has(FIELD_PW1) ? get(FIELD_PW1) : por_clamped * this->heater_power_ / 100.0f;
  this->count_energy_(f, routed_watts, now);
  this->last_frame_ms_ = now;
  this->unavailable_published_ = false;
  ESP_LOGD(TAG, "Frame: REE=%.2f W POR=%.2f %% VO2=%.0f %%", get(FIELD_REE), por, get(FIELD_VO2));
#ifdef USE_SENSOR
  // HA convention: positive grid power = import. REE is positive on export, hence the sign flip.
  const float ree = get(FIELD_REE);
  this->publish_(SENSOR_GRID_POWER, ree == 0.0f ? 0.0f : -ree);
  this->publish_(SENSOR_ROUTED_POWER, routed_watts);
  this->publish_(SENSOR_ROUTED_RATIO, por_clamped);
  this->publish_(SENSOR_CHANNEL2_RATIO, get(FIELD_VO2));
  this->publish_(SENSOR_MAINS_FREQUENCY, get(FIELD_FRQ));
  this->publish_(SENSOR_MAINS_VOLTAGE, get(FIELD_VRM));
  this->publish_(SENSOR_BUCKET_ENERGY, get(FIELD_EIB));
  this->publish_(SENSOR_FIRING_DELAY, get(FIELD_FID));
  this->publish_(SENSOR_MIN_ROUTABLE_POWER, get(FIELD_MPC));
  this->publish_(SENSOR_SAMPLES_PER_CYCLE, get(FIELD_SPL));
#endif
  this->publish_commands_state_(f);
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
  if (this->command_line_)
    this->link_.on_frame(f, now);
  if (!this->link_ok_)
    ESP_LOGI(TAG, "Link up");
  this->link_ok_ = true;
  this->frame_callbacks_.call(f);
  // Per frame (a few a second at most): tools and tests count frames with them; they are diagnostics,
  // disabled by default, so Home Assistant's recorder does not keep them.
  this->publish_counters_(true);
  this->publish_energy_(false);
}

// Channel 2 moves between the regular frames: VO2 (and PO2) to the legacy API, the sensor the clients
// follow and the loads; nothing else changes. The link's state is the regular frames' (one a second):
// without them this frame is dropped, as channel 2 stays at 0 while the link is down.
void RouteurPvComponent::handle_channel2_frame_(const Frame &f) {
  if (!this->link_ok_)
    return;
  this->legacy_.update(f);
  ESP_LOGD(TAG, "Channel 2: VO2=%.0f %%", f.value[FIELD_VO2]);
#ifdef USE_SENSOR
  this->publish_(SENSOR_CHANNEL2_RATIO, static_cast<float>(f.value[FIELD_VO2]));
#endif
  this->frame_callbacks_.call(f);
  this->publish_counters_(true);
}

void RouteurPvComponent::handle_timeout_() {
  ESP_LOGW(TAG, "No valid frame for %u ms: link lost, values unknown", (unsigned) this->timeout_ms_);
  this->unavailable_published_ = true;
  this->link_ok_ = false;
  this->publish_energy_(true);  // the totals as they stand: they keep this value until frames return
  this->legacy_.clear();  // the legacy API serves zeros, as before the first frame (VO2 0: dimmer off)
#ifdef USE_SENSOR
  // Frame counters describe the gateway itself, not the ATmega: they stay valid (a rising
  // "frames rejected" is exactly what a broken link shows).
  for (uint8_t k = 0; k < SENSOR_KIND_COUNT; k++) {
    if (k == SENSOR_FRAMES_RECEIVED || k == SENSOR_FRAMES_REJECTED)
      continue;
    this->publish_(static_cast<SensorKind>(k), NAN);
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
  if (this->mode_text_sensor_ != nullptr && this->mode_text_sensor_->has_state())
    this->mode_text_sensor_->publish_state("unknown");
#endif
  // The ATmega's settings are unknown until the frames report them again.
  this->link_.on_link_lost();
  for (uint8_t k = 0; k < SETTING_COUNT; k++)
    this->publish_setting_(static_cast<Setting>(k), NAN);
  this->last_refused_ = UINT32_MAX;
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

// ---------------------------------------------------------------------------------- commands

void RouteurPvComponent::request_boost(float percent, uint32_t duration_ms) {
  if (std::isnan(percent)) {
    ESP_LOGW(TAG, "Boost: no power given, nothing sent");
    return;
  }
  const auto p = static_cast<uint8_t>(std::lround(std::min(std::max(percent, 0.0f), 100.0f)));
  if (duration_ms != 0) {
    ESP_LOGI(TAG, "Channel 1: boost at %u %% for %u s", p, unsigned(duration_ms / 1000u));
  } else {
    ESP_LOGI(TAG, "Channel 1: boost at %u %% until changed", p);
  }
  this->link_.request_ch1(Ch1Request::BOOST, p, duration_ms, millis());
  this->publish_channel1_request_();
}

void RouteurPvComponent::request_stop(uint32_t duration_ms) {
  if (duration_ms != 0) {
    ESP_LOGI(TAG, "Channel 1: off for %u s", unsigned(duration_ms / 1000u));
  } else {
    ESP_LOGI(TAG, "Channel 1: off until changed");
  }
  this->link_.request_ch1(Ch1Request::STOP, 0, duration_ms, millis());
  this->publish_channel1_request_();
}

void RouteurPvComponent::request_auto() {
  ESP_LOGI(TAG, "Channel 1: solar routing");
  this->link_.request_ch1(Ch1Request::AUTO, 0, 0, millis());
  this->publish_channel1_request_();
}

void RouteurPvComponent::select_channel1(Ch1Request what) {
  switch (what) {
    case Ch1Request::BOOST:
      this->request_boost(this->boost_percent_, this->boost_duration_ms_);
      break;
    case Ch1Request::STOP:
      this->request_stop(0);
      break;
    case Ch1Request::AUTO:
    default:
      this->request_auto();
      break;
  }
}

void RouteurPvComponent::set_boost_power(float percent) {
  this->boost_percent_ = percent;
  const LeaseKeeper &lease = this->link_.lease();
  if (lease.requested() == Ch1Request::BOOST && !std::isnan(percent)) {
    // the boost under way follows, with the same end
    const auto p = static_cast<uint8_t>(std::lround(std::min(std::max(percent, 0.0f), 100.0f)));
    this->link_.lease().request(Ch1Request::BOOST, p, lease.until_ms());
  }
}

void RouteurPvComponent::set_boost_duration(float minutes) {
  this->boost_duration_ms_ = std::isnan(minutes) || minutes <= 0.0f ? 0 : static_cast<uint32_t>(minutes * 60000.0f);
}

bool RouteurPvComponent::request_settings(const std::pair<Setting, float> *settings, size_t count) {
  SettingValues wanted;
  std::string what;
  for (size_t i = 0; i < count; i++) {
    const Setting s = settings[i].first;
    int16_t v;
    if (s >= SETTING_COUNT || !setting_from_unit(s, settings[i].second, v)) {
      ESP_LOGW(TAG, "Settings refused: %s %f is no value, nothing sent", s < SETTING_COUNT ? setting_info(s).key : "?",
               settings[i].second);
      return false;
    }
    wanted.set(s, v);
    what += std::string(what.empty() ? "" : " ") + setting_info(s).key + "=" + std::to_string(v);
  }
  const SettingsCheck check = this->link_.settings().request(wanted);
  if (check != SettingsCheck::OK) {
    ESP_LOGW(TAG, "Settings refused (%s, with what the ATmega reports): %s, nothing sent", settings_check_name(check),
             what.c_str());
    return false;
  }
  ESP_LOGI(TAG, "Settings: %s", what.c_str());
  return true;
}

void RouteurPvComponent::send_commands_(uint32_t now) {
  if (this->tx_line_.empty()) {
    this->tx_line_ = this->link_.poll(now);
    this->tx_done_ = 0;
    if (!this->tx_line_.empty())
      ESP_LOGD(TAG, "Sending: %.*s", static_cast<int>(this->tx_line_.size() - 2), this->tx_line_.c_str());  // no CR LF
  }
  if (!this->tx_line_.empty()) {
    const size_t n = std::min(TX_BYTES_PER_LOOP, this->tx_line_.size() - this->tx_done_);
    this->write_array(reinterpret_cast<const uint8_t *>(this->tx_line_.data()) + this->tx_done_, n);
    this->tx_done_ += n;
    if (this->tx_done_ == this->tx_line_.size())
      this->tx_line_.clear();
  }
  this->publish_channel1_request_();  // a timed boost or stop that ended: back to Auto
  const uint8_t given_up = this->link_.settings().take_given_up();
  for (uint8_t k = 0; k < SETTING_COUNT; k++) {
    if ((given_up >> k) & 1u)
      ESP_LOGW(TAG, "Setting %s: not shown by the ATmega's frames after %u lines, given up (see 'Commands refused')",
               setting_info(static_cast<Setting>(k)).key, (unsigned) this->link_.settings().max_attempts());
  }
}

void RouteurPvComponent::publish_channel1_request_() {
#ifdef USE_SELECT
  if (this->mode_select_ == nullptr)
    return;
  const auto index = static_cast<size_t>(this->link_.lease().requested());
  const auto active = this->mode_select_->active_index();
  if (!active.has_value() || *active != index)
    this->mode_select_->publish_state(index);
#endif
}

void RouteurPvComponent::publish_setting_(Setting s, float value) {
#ifdef USE_NUMBER
  number::Number *n = this->setting_numbers_[s];
  if (n == nullptr)
    return;
  if (std::isnan(value) ? (n->has_state() && !std::isnan(n->state)) : (!n->has_state() || n->state != value))
    n->publish_state(value);  // on change only: one setting a frame, nearly always the same
#endif
}

void RouteurPvComponent::publish_commands_state_(const Frame &f) {
  auto get = [&f](Field k) -> float { return f.has(k) ? static_cast<float>(f.value[k]) : NAN; };
#ifdef USE_SENSOR
  this->publish_(SENSOR_CHANNEL1_LEASE, get(FIELD_LSR));
  this->publish_(SENSOR_COMMANDS_ACCEPTED, get(FIELD_CAC));
  this->publish_(SENSOR_COMMANDS_REFUSED, get(FIELD_CRJ));
  this->publish_(SENSOR_SETTINGS_CHECKSUM, get(FIELD_SCS));
#endif
#ifdef USE_TEXT_SENSOR
  if (this->mode_text_sensor_ != nullptr) {
    const char *mode = f.has(FIELD_MOD) ? CH1_MODES[static_cast<uint8_t>(f.value[FIELD_MOD])] : "unknown";
    if (f.has(FIELD_MOD) ? this->mode_text_sensor_->state != mode : this->mode_text_sensor_->has_state())
      this->mode_text_sensor_->publish_state(mode);
  }
#endif
  for (uint8_t k = 0; k < SETTING_COUNT; k++) {
    const Setting s = static_cast<Setting>(k);
    const Field field = setting_info(s).field;
    if (f.has(field))
      this->publish_setting_(s, setting_to_unit(s, static_cast<int16_t>(f.value[field])));
  }
  if (f.has(FIELD_CRJ)) {
    const auto refused = static_cast<uint32_t>(f.value[FIELD_CRJ]);
    if (this->last_refused_ != UINT32_MAX && refused > this->last_refused_)
      ESP_LOGW(TAG, "The ATmega refused %u command line(s) (%u since its reset)",
               unsigned(refused - this->last_refused_), unsigned(refused));
    this->last_refused_ = refused;
  }
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
  if (this->command_line_) {
    const SettingsKeeper &settings = this->link_.settings();
    ESP_LOGCONFIG(TAG, "  Command line: on (uart TX)\n    Lines sent: %u\n    Settings given up: %u",
                  (unsigned) this->link_.lines_sent(), (unsigned) settings.failures());
    for (uint8_t k = 0; k < SETTING_COUNT; k++) {
      const Setting s = static_cast<Setting>(k);
      if (settings.reported().has(s))
        ESP_LOGCONFIG(TAG, "    %s: %d", setting_info(s).key, settings.reported().value[k]);
    }
  } else {
    ESP_LOGCONFIG(TAG, "  Command line: off (frames only)");
  }
}

}  // namespace esphome::routeur_pv
