#include "command_link.h"

#include "frame_parser.h"

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

std::string LeaseKeeper::poll(uint32_t now_ms) {
  if (this->what_ != Ch1Request::AUTO && this->until_ms_ != 0 && this->remaining_ms(now_ms) == 0)
    this->request(Ch1Request::AUTO);
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

}  // namespace esphome::routeur_pv
