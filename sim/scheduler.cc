#include "sim/scheduler.h"

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/fixedsize_stack.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/scheduler.hpp>

#include <algorithm>
#include <exception>
#include <list>
#include <optional>
#include <utility>

#include "core/assert.h"

namespace synod::sim {

// ---- Rng -------------------------------------------------------------------

namespace {
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (std::uint64_t& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::below(std::uint64_t bound) {
  SYNOD_ASSERT(bound > 0);
  // Lemire's multiply-shift; the tiny bias is irrelevant to a simulation.
  return static_cast<std::uint64_t>((static_cast<u128>(next()) * bound) >> 64);
}

std::uint64_t Rng::between(std::uint64_t lo, std::uint64_t hi) {
  SYNOD_ASSERT(lo <= hi);
  if (hi - lo == std::numeric_limits<std::uint64_t>::max()) return next();
  return lo + below(hi - lo + 1);
}

double Rng::unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

bool Rng::chance(double probability) { return probability > 0 && unit() < probability; }

// ---- the scheduling algorithm ----------------------------------------------

namespace {

namespace bf = boost::fibers;

// Ready fibers run in the order they became ready; nothing here depends on
// the wall clock or on another thread. A simulated process only ever blocks on
// a Signal, so when nothing is ready the simulation would wait forever: that
// is a bug in the simulation, and it stops here.
//
// Boost's dispatcher is kept aside rather than queued: left in the queue, it
// would run between every two switches only to poll the wall clock for
// sleepers (there are none: Signals sleep on virtual time) and to free
// finished fibers. It runs once on request after a fiber finished, to free
// that fiber's stack; otherwise only if nothing else were ready, which does
// not happen while the main context is queued behind the fibers it runs.
class DeterministicAlgorithm final : public bf::algo::algorithm {
 public:
  void awakened(bf::context* ctx) noexcept override {
    if (ctx->is_context(bf::type::dispatcher_context)) {
      dispatcher_ = ctx;
      return;
    }
    if (ctx->is_context(bf::type::worker_context)) ++workers_ready_;
    ctx->ready_link(queue_);
  }
  bf::context* pick_next() noexcept override {
    if (dispatcher_ != nullptr && (dispatcher_wanted_ || queue_.empty())) {
      dispatcher_wanted_ = false;
      return std::exchange(dispatcher_, nullptr);
    }
    if (queue_.empty()) return nullptr;
    bf::context* ctx = &queue_.front();
    queue_.pop_front();
    if (ctx->is_context(bf::type::worker_context)) --workers_ready_;
    return ctx;
  }
  bool has_ready_fibers() const noexcept override { return !queue_.empty() || dispatcher_ != nullptr; }
  void suspend_until(const std::chrono::steady_clock::time_point&) noexcept override {
    SYNOD_ASSERT(!"simulation deadlock: every fiber waits and no timer can wake one");
  }
  void notify() noexcept override {}
  // Ready simulated processes; the main context is queued here too but is not
  // simulated work.
  std::size_t workers_ready() const { return workers_ready_; }
  // The next pick is the dispatcher, which frees the fibers that finished.
  void want_dispatcher() {
    SYNOD_ASSERT(dispatcher_ != nullptr);  // handed back after each of its runs
    dispatcher_wanted_ = true;
  }

 private:
  bf::scheduler::ready_queue_type queue_;
  bf::context* dispatcher_ = nullptr;
  bool dispatcher_wanted_ = false;
  std::size_t workers_ready_ = 0;
};

// One algorithm per thread, installed on first use: Boost.Fiber keeps the
// scheduler per thread, and a simulation never leaves the thread it runs on.
DeterministicAlgorithm& thread_algorithm() {
  thread_local DeterministicAlgorithm* algorithm = [] {
    auto* a = new DeterministicAlgorithm();  // owned by Boost.Fiber's scheduler
    bf::context::active()->get_scheduler()->set_algo(bf::algo::algorithm::ptr_t(a));
    return a;
  }();
  return *algorithm;
}

constexpr std::size_t fiber_stack_bytes = 256 * 1024;
// Cancelled timers the heap may hold beyond as many as are live.
constexpr std::size_t stale_slack = 16;

}  // namespace

struct Scheduler::Fibers {
  struct Entry {
    bf::fiber fiber;
    bool finished = false;
  };
  std::list<Entry> live;
  std::size_t finished_count = 0;  // entries of `live` whose fiber has finished: run_ready joins them
  std::exception_ptr failure;  // an exception that escaped a fiber, rethrown on the main context
};

Scheduler::Scheduler(std::uint64_t seed) : rng_(seed), fibers_(std::make_unique<Fibers>()) { thread_algorithm(); }

Scheduler::~Scheduler() {
  run_ready();
  SYNOD_ASSERT(fibers_->live.empty());
}

Scheduler::Timer Scheduler::at(TimeMs when, std::function<void()> fire) {
  const std::uint64_t seq = ++seq_;
  const Timer timer{std::max(when, now_), rng_.next(), seq, slots_.put(Slot{seq, std::move(fire)})};
  heap_.push_back(timer);
  std::ranges::push_heap(heap_, std::greater<>());
  ++timers_live_;
  return timer;
}

void Scheduler::cancel(const Timer& timer) {
  if (slots_[timer.slot].seq != timer.seq) return;  // already fired or cancelled
  slots_.take(timer.slot);
  --timers_live_;
  // Cancelled deadlines would otherwise wait in the heap until their time
  // (a node's round deadline, seconds ahead), outnumbering the live timers
  // and deepening every push and pop. Dropping them reorders nothing: the
  // heap's shape never decides which live timer is the least.
  if (heap_.size() > 2 * timers_live_ + stale_slack) {
    std::erase_if(heap_, [this](const Timer& t) { return slots_[t.slot].seq != t.seq; });
    std::ranges::make_heap(heap_, std::greater<>());
  }
}

void Scheduler::pop_stale() {
  while (!heap_.empty() && slots_[heap_.front().slot].seq != heap_.front().seq) {
    std::ranges::pop_heap(heap_, std::greater<>());
    heap_.pop_back();
  }
}

void Scheduler::spawn(std::function<void()> body) {
  Fibers::Entry& entry = fibers_->live.emplace_back();
  entry.fiber = bf::fiber(bf::launch::post, std::allocator_arg, bf::fixedsize_stack(fiber_stack_bytes),
                          [this, &entry, body = std::move(body)] {
                            try {
                              body();
                            } catch (...) {
                              if (!fibers_->failure) fibers_->failure = std::current_exception();
                            }
                            entry.finished = true;
                            ++fibers_->finished_count;
                          });
}

void Scheduler::run_ready() {
  DeterministicAlgorithm& algorithm = thread_algorithm();
  while (algorithm.workers_ready() > 0) boost::this_fiber::yield();
  // Nearly every step finishes no fiber: the list is walked only when one did.
  if (fibers_->finished_count > 0) {
    std::size_t joined = 0;
    for (auto it = fibers_->live.begin(); it != fibers_->live.end();) {
      if (!it->finished) {
        ++it;
        continue;
      }
      it->fiber.join();
      it = fibers_->live.erase(it);
      ++joined;
    }
    SYNOD_ASSERT(joined == fibers_->finished_count);
    fibers_->finished_count = 0;
    algorithm.want_dispatcher();
    boost::this_fiber::yield();  // the dispatcher frees the finished fibers, then main runs on
  }
  if (fibers_->failure) std::rethrow_exception(std::exchange(fibers_->failure, nullptr));
}

bool Scheduler::step(TimeMs end) {
  pop_stale();
  if (heap_.empty() || heap_.front().at > end) return false;
  const Timer timer = heap_.front();
  std::ranges::pop_heap(heap_, std::greater<>());
  heap_.pop_back();
  const std::function<void()> fire = slots_.take(timer.slot).fire;
  --timers_live_;
  now_ = std::max(now_, timer.at);
  ++timers_fired_;
  fire();
  run_ready();
  return true;
}

void Scheduler::run_until(TimeMs end) {
  run_ready();
  while (step(end)) {
  }
  now_ = std::max(now_, end);
}

void Scheduler::sleep_until(TimeMs when) {
  Signal alarm(*this);
  while (now_ < when) alarm.wait_until(when);
}

// ---- Signal ----------------------------------------------------------------

// The waiting fiber is suspended and rescheduled directly, as Boost.Fiber's
// own primitives do underneath: there is one thread, so no lock is needed.
// The deadline's timer (the alarm) outlives a wake-up: a node waits again and
// again for the same round deadline, and re-arming it each time would leave
// a cancelled timer behind per message.
struct Signal::Impl {
  bf::context* waiter = nullptr;  // the suspended fiber, until something wakes it
  bool notified = false;
  bool expired = false;
  std::optional<Scheduler::Timer> alarm;

  void wake() {
    if (waiter != nullptr) bf::context::active()->schedule(std::exchange(waiter, nullptr));
  }
};

Signal::Signal(Scheduler& scheduler) : scheduler_(scheduler), impl_(std::make_unique<Impl>()) {}

Signal::~Signal() {
  SYNOD_ASSERT(impl_->waiter == nullptr);
  if (impl_->alarm) scheduler_.cancel(*impl_->alarm);
}

void Signal::notify() {
  impl_->notified = true;
  impl_->wake();
}

bool Signal::wait_until(TimeMs deadline) {
  Impl& s = *impl_;
  SYNOD_ASSERT(s.waiter == nullptr);
  if (!s.notified && deadline > scheduler_.now()) {
    if (s.alarm && s.alarm->at != deadline) scheduler_.cancel(*std::exchange(s.alarm, std::nullopt));
    if (!s.alarm && deadline != never) {
      s.alarm = scheduler_.at(deadline, [&s] {
        s.alarm.reset();
        s.expired = true;
        s.wake();
      });
    }
    s.expired = false;
    s.waiter = bf::context::active();
    s.waiter->suspend();
    SYNOD_ASSERT(s.notified || s.expired);
  }
  return std::exchange(s.notified, false);
}

}  // namespace synod::sim
