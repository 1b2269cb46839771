// Scheduler: virtual time and deterministic fibers for one simulation. Every
// simulated process (a node, a client, a fault injector) is a Boost.Fiber on
// the calling thread; they sleep on virtual time and wake each other through
// Signals. The scheduler fires timers in (time, seeded tiebreak) order, so
// events due at the same virtual time run in an order drawn from the seed:
// different seeds explore different interleavings, one seed replays exactly.
// After each timer, every fiber it made ready runs, in FIFO order, until all
// are blocked again. Never reads the wall clock, never starts a thread.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "core/types.h"

namespace synod::sim {

inline constexpr TimeMs never = std::numeric_limits<TimeMs>::max();

// The simulation's only source of randomness: xoshiro256**, seeded through
// splitmix64. Cheap, and identical on every platform (unlike std::
// distributions, whose output the standard leaves to the library).
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  std::uint64_t below(std::uint64_t bound);  // uniform in [0, bound); bound > 0
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi);  // uniform in [lo, hi]
  bool chance(double probability);
  double unit();  // uniform in [0, 1)

 private:
  std::uint64_t s_[4];
};

// Values parked under a small index until taken back; a taken index is
// reused, so a steady flow of values allocates nothing once warm. What the
// scheduler keeps timer callbacks in, and the network its packets in flight.
template <typename T>
class SlotPool {
 public:
  std::uint32_t put(T value) {
    if (free_.empty()) {
      items_.push_back(std::move(value));
      return static_cast<std::uint32_t>(items_.size() - 1);
    }
    const std::uint32_t index = free_.back();
    free_.pop_back();
    items_[index] = std::move(value);
    return index;
  }
  // Returns the value and frees its index; what stays behind is T{}.
  T take(std::uint32_t index) {
    T value = std::exchange(items_.at(index), T{});
    free_.push_back(index);
    return value;
  }
  const T& operator[](std::uint32_t index) const { return items_[index]; }

 private:
  std::vector<T> items_;
  std::vector<std::uint32_t> free_;
};

class Scheduler {
 public:
  struct Timer {
    TimeMs at = 0;
    std::uint64_t tiebreak = 0;  // seeded draw: orders timers due at the same time
    std::uint64_t seq = 0;       // unique; never decides the order of two live timers
    std::uint32_t slot = 0;      // where its callback waits; reused once it fired or was cancelled
    auto operator<=>(const Timer&) const = default;
  };

  explicit Scheduler(std::uint64_t seed);
  ~Scheduler();  // every spawned fiber must have finished
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  TimeMs now() const { return now_; }
  Rng& rng() { return rng_; }

  Timer at(TimeMs when, std::function<void()> fire);  // `when` in the past means now
  void cancel(const Timer& timer);

  // Starts `body` as a fiber; it first runs at the next run_ready().
  void spawn(std::function<void()> body);
  // From the main context: runs ready fibers until every one is blocked.
  void run_ready();
  // Fires the next timer if it is due at or before `end` (then runs what it
  // woke); false when there is none.
  bool step(TimeMs end);
  // Steps until no timer is due at or before `end`, then sets the time to `end`.
  void run_until(TimeMs end);
  // From a fiber: blocks it until virtual time `when`.
  void sleep_until(TimeMs when);

  std::uint64_t timers_fired() const { return timers_fired_; }
  std::size_t timers_pending() const { return timers_live_; }

 private:
  struct Fibers;  // Boost.Fiber objects, kept out of this header

  // A callback and the seq of the timer that owns it (0: the slot is free).
  struct Slot {
    std::uint64_t seq = 0;
    std::function<void()> fire;
  };
  void pop_stale();

  TimeMs now_ = 0;
  Rng rng_;
  std::uint64_t seq_ = 0;
  std::uint64_t timers_fired_ = 0;
  // A min-heap on (at, tiebreak, seq). cancel() only frees the timer's slot;
  // its heap entry, stale from then on, is dropped when it reaches the top, or
  // with all the others once they outnumber the live timers. Cheaper than a
  // tree: most timers are deadlines cancelled by a wake-up.
  std::vector<Timer> heap_;
  SlotPool<Slot> slots_;
  std::size_t timers_live_ = 0;
  std::unique_ptr<Fibers> fibers_;
};

// A wake-up for one waiting fiber, with an optional virtual deadline. A
// notify() with nobody waiting is remembered: the next wait returns at once.
class Signal {
 public:
  explicit Signal(Scheduler& scheduler);
  ~Signal();
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

  void notify();
  // Blocks the calling fiber until notify() or virtual time `deadline`
  // (`never` for no deadline). True if notified.
  bool wait_until(TimeMs deadline);

 private:
  struct Impl;
  Scheduler& scheduler_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace synod::sim
