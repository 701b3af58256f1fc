#include "command_link.h"

#include <cmath>

namespace esphome::routeur_pv {

std::string build_command(const std::vector<std::pair<const char *, int>> &fields) {
  std::string line;
  for (const auto &field : fields) {
    line += field.first;
    line += '>';
    line += std::to_string(field.second);
    line += ';';
  }
  const uint8_t crc = crc8_maxim(line.data(), line.size());
  line += '$';
  line += std::to_string(static_cast<unsigned>(crc));
  line += "\r\n";
  return line;
}

// ------------------------------------------------------------------------------------ channel 1

void LeaseKeeper::request(Ch1Request what, uint8_t percent, uint32_t until_ms) {
  this->what_ = what;
  this->percent_ = what == Ch1Request::BOOST ? (percent > 100 ? 100 : percent) : 0;
  this->until_ms_ = what == Ch1Request::AUTO ? 0 : until_ms;
  this->due_ = true;
}

uint32_t LeaseKeeper::remaining_ms(uint32_t now_ms) const {
  if (this->what_ == Ch1Request::AUTO || this->until_ms_ == 0)
    return 0;
  const int32_t left = static_cast<int32_t>(this->until_ms_ - now_ms);  // wraps with millis()
  return left > 0 ? static_cast<uint32_t>(left) : 0;
}

bool LeaseKeeper::expire(uint32_t now_ms) {
  if (this->what_ == Ch1Request::AUTO || this->until_ms_ == 0 || this->remaining_ms(now_ms) != 0)
    return false;
  this->request(Ch1Request::AUTO);
  return true;
}

std::string LeaseKeeper::poll(uint32_t now_ms) {
  this->expire(now_ms);
  const bool renew = this->what_ != Ch1Request::AUTO && now_ms - this->last_sent_ms_ >= this->renew_ms_;
  if (!this->due_ && !renew)
    return "";
  this->due_ = false;
  this->last_sent_ms_ = now_ms;
  return this->line_();
}

std::string LeaseKeeper::line_() const {
  switch (this->what_) {
    case Ch1Request::BOOST:
      return build_command({{"BST", this->percent_}, {"LSE", this->lease_s_}});
    case Ch1Request::STOP:
      return build_command({{"STP", 1}, {"LSE", this->lease_s_}});
    case Ch1Request::AUTO:
    default:
      return build_command({{"AUT", 1}});
  }
}

// ------------------------------------------------------------------------------------ settings

// What the ATmega accepts (atmega/routeur_pv/config.h, checked against it by the host tests).
static const SettingInfo SETTING_INFO[SETTING_COUNT] = {
    {"HTR", FIELD_HTR, 300, 8000, 1.0f},   // W: above the ATmega's 200-W absorption probe
    {"DIM", FIELD_DIM, 50, 8000, 1.0f},    // W
    {"EXT", FIELD_EXT, 0, 79, 1.0f},       // W: below 1 % of the largest heater (and of this one)
    {"VCL", FIELD_VCL, 250, 1000, 0.01f},  // 2.50..10.00 mV/V (5.00 nominal)
    {"ICL", FIELD_ICL, 100, 1600, 0.1f},   // 10.0..160.0 mV/A (40.0 nominal)
};

const SettingInfo &setting_info(Setting s) { return SETTING_INFO[s]; }

/// Steps per user unit, an exact integer: 1 (W), 100 (0.01 mV/V), 10 (0.1 mV/A).
static double steps_per_unit(Setting s) { return std::round(1.0 / static_cast<double>(SETTING_INFO[s].unit)); }

bool setting_from_unit(Setting s, float value, int16_t &out) {
  if (!std::isfinite(value))
    return false;
  const double scaled = std::round(static_cast<double>(value) * steps_per_unit(s));
  if (scaled < -32767.0 || scaled > 32767.0)
    return false;
  out = static_cast<int16_t>(scaled);
  return true;
}

float setting_to_unit(Setting s, int16_t value) {
  return static_cast<float>(value / steps_per_unit(s));  // 520 -> 5.2f, as the number shows it
}

SettingValues SettingValues::merged(const SettingValues &other) const {
  SettingValues out = *this;
  for (uint8_t k = 0; k < SETTING_COUNT; k++) {
    if (other.has(static_cast<Setting>(k)))
      out.set(static_cast<Setting>(k), other.value[k]);
  }
  return out;
}

const char *settings_check_name(SettingsCheck c) {
  switch (c) {
    case SettingsCheck::OK:
      return "ok";
    case SettingsCheck::EMPTY:
      return "no setting given";
    case SettingsCheck::OUT_OF_RANGE:
      return "out of range";
    case SettingsCheck::EXPORT_TOO_HIGH:
      return "export target not below 1 % of the heater rating";
    default:
      return "?";
  }
}

SettingsCheck check_settings(const SettingValues &values) {
  if (values.empty())
    return SettingsCheck::EMPTY;
  for (uint8_t k = 0; k < SETTING_COUNT; k++) {
    const Setting s = static_cast<Setting>(k);
    if (values.has(s) && (values.value[k] < SETTING_INFO[k].min || values.value[k] > SETTING_INFO[k].max))
      return SettingsCheck::OUT_OF_RANGE;
  }
  if (values.has(SETTING_HEATER) && values.has(SETTING_EXPORT) &&
      int32_t(values.value[SETTING_EXPORT]) * 100 >= int32_t(values.value[SETTING_HEATER]))
    return SettingsCheck::EXPORT_TOO_HIGH;
  return SettingsCheck::OK;
}

std::string build_settings_command(const SettingValues &values) {
  std::vector<std::pair<const char *, int>> fields;
  for (uint8_t k = 0; k < SETTING_COUNT; k++) {
    if (values.has(static_cast<Setting>(k)))
      fields.emplace_back(SETTING_INFO[k].key, values.value[k]);
  }
  return build_command(fields);
}

SettingsCheck SettingsKeeper::request(const SettingValues &wanted) {
  if (wanted.empty())
    return SettingsCheck::EMPTY;
  const SettingsCheck check = check_settings(this->reported_.merged(this->pending_).merged(wanted));
  if (check != SettingsCheck::OK)
    return check;
  bool changed = false;
  for (uint8_t k = 0; k < SETTING_COUNT; k++) {
    const Setting s = static_cast<Setting>(k);
    if (!wanted.has(s))
      continue;
    const int16_t v = wanted.value[k];
    if (this->pending_.has(s) ? this->pending_.value[k] == v
                              : (this->reported_.has(s) && this->reported_.value[k] == v))
      continue;  // already on its way, or already in force
    this->pending_.set(s, v);
    changed = true;
  }
  if (changed) {
    this->due_ = true;
    this->attempts_ = 0;  // a new request: a full set of attempts for the line that carries it
  }
  return SettingsCheck::OK;
}

void SettingsKeeper::on_reported(Setting s, int16_t value) {
  this->reported_.set(s, value);
  if (this->pending_.has(s) && this->pending_.value[s] == value) {
    this->pending_.clear(s);
    if (this->pending_.empty()) {
      this->due_ = false;
      this->attempts_ = 0;
    }
  }
}

std::string SettingsKeeper::poll(uint32_t now_ms) {
  if (this->pending_.empty())
    return "";
  if (!this->due_ && now_ms - this->sent_ms_ < this->retry_ms_)
    return "";
  if (!this->due_ && this->attempts_ >= this->max_attempts_) {
    // The frames never showed them: give up (the entities keep what the ATmega reports).
    this->failures_++;
    this->given_up_ = static_cast<uint8_t>(this->given_up_ | this->pending_.present);
    this->pending_ = SettingValues{};
    this->attempts_ = 0;
    return "";
  }
  this->due_ = false;
  this->attempts_++;
  this->sent_ms_ = now_ms;
  return build_settings_command(this->pending_);
}

// ------------------------------------------------------------------------------------ the link

void CommandLink::request_ch1(Ch1Request what, uint8_t percent, uint32_t duration_ms, uint32_t now_ms) {
  if (duration_ms > MAX_TIMED_MS)
    duration_ms = MAX_TIMED_MS;
  uint32_t until = 0;
  if (what != Ch1Request::AUTO && duration_ms != 0) {
    until = now_ms + duration_ms;
    if (until == 0)
      until = 1;  // 0 means "no end"
  }
  this->lease_.request(what, percent, until);
}

void CommandLink::on_rx(uint32_t now_ms, bool at_line_end) {
  this->rx_at_line_end_ = at_line_end;
  if (at_line_end)
    this->last_line_end_ms_ = now_ms;
}

void CommandLink::on_frame(const Frame &frame, uint32_t now_ms) {
  for (uint8_t k = 0; k < SETTING_COUNT; k++) {
    const Field field = SETTING_INFO[k].field;
    if (frame.has(field))
      this->settings_.on_reported(static_cast<Setting>(k), static_cast<int16_t>(frame.value[field]));
  }
  // In auto, an ATmega not in auto (a lease from before a gateway restart) or not reporting at all
  // (no command line since its reset): say auto, which also makes it report its settings.
  const bool atmega_auto = frame.has(FIELD_MOD) && frame.value[FIELD_MOD] == 0.0;
  if (this->lease_.requested() == Ch1Request::AUTO && !atmega_auto &&
      (!this->lease_sent_any_ || now_ms - this->last_lease_line_ms_ >= RESYNC_MS)) {
    this->lease_.request(Ch1Request::AUTO);
    this->lease_sent_any_ = true;  // counts from now: a lost line is retried RESYNC_MS later
    this->last_lease_line_ms_ = now_ms;
  }
}

bool CommandLink::rx_quiet_(uint32_t now_ms) const {
  const uint32_t since_line_end = now_ms - this->last_line_end_ms_;
  return (this->rx_at_line_end_ && since_line_end <= RX_WINDOW_MS) || since_line_end >= RX_SILENT_MS;
}

std::string CommandLink::poll(uint32_t now_ms) {
  this->lease_.expire(now_ms);
  if (this->sent_any_ && now_ms - this->last_line_ms_ < LINE_GAP_MS)
    return "";
  if (!this->rx_quiet_(now_ms))
    return "";
  std::string line = this->lease_.poll(now_ms);
  if (!line.empty()) {
    this->lease_sent_any_ = true;
    this->last_lease_line_ms_ = now_ms;
  } else {
    line = this->settings_.poll(now_ms);
  }
  if (!line.empty()) {
    this->sent_any_ = true;
    this->last_line_ms_ = now_ms;
    this->lines_sent_++;
  }
  return line;
}

}  // namespace esphome::routeur_pv
