// SteadyClock: the node's Clock (core/store.h), milliseconds of the
// monotonic clock since the object was made. Never goes back, whatever the
// wall clock does; the replica's timeouts are measured with it.
#pragma once

#include <chrono>

#include "core/store.h"

namespace synod::net {

class SteadyClock final : public Clock {
 public:
  TimeMs now() const override {
    return static_cast<TimeMs>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count());
  }
  // The steady time at which now() reads `ms`, for timers.
  std::chrono::steady_clock::time_point at(TimeMs ms) const { return start_ + std::chrono::milliseconds(ms); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace synod::net
