// LogLimiter: Byzantine input is logged once per (peer, reason) and interval,
// never once per bad frame (STYLE.md habit 3). Bounded: past entries_max
// pairs it forgets them all, so a peer cycling addresses cannot grow it.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>

namespace synod::net {

class LogLimiter {
 public:
  static constexpr std::size_t entries_max = 4096;
  explicit LogLimiter(std::chrono::steady_clock::duration interval = std::chrono::seconds(60)) : interval_(interval) {}

  // True when this (who, reason) was not allowed within the interval.
  bool allow(const std::string& who, const std::string& reason) {
    const auto now = std::chrono::steady_clock::now();
    if (last_.size() >= entries_max) last_.clear();
    auto [it, fresh] = last_.try_emplace({who, reason}, now);
    if (!fresh && now - it->second < interval_) return false;
    it->second = now;
    return true;
  }

 private:
  std::chrono::steady_clock::duration interval_;
  std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> last_;
};

}  // namespace synod::net
