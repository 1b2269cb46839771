// Driver: the one loop that turns a replica's outbox into effects, shared
// unchanged by the node (called from its Asio loop) and the simulator (called
// from each simulated node's fiber). For every input it ticks the replica to
// the clock's time, hands it the input, and executes the outbox in the order
// the Outbox contract demands: make blocks durable, persist + fsync the safety
// record, send, make commits durable, then tell the subscriber.
#pragma once

#include <functional>

#include "core/replica.h"

namespace synod {

// Receives what the driver has made durable: committed blocks (to serve
// clients and checkers) and replies to client requests.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void on_commits(const std::vector<CommittedBlock>& commits) = 0;
  virtual void on_replies(const std::vector<ClientResponse>& replies) = 0;
};

// Not re-entrant: an input (deliver, request, tick) must return before the
// next one starts, as in the node's loop and a simulated node's fiber; a
// subscriber must not feed the driver from inside on_commits or on_replies.
class Driver {
 public:
  // The steps of one flush, in order. A fault injector may stop the process
  // before any of them (a crash), so each must be safe to lose with the rest.
  enum class Step : std::uint8_t { PersistBlocks, PersistSafety, Send, PersistCommits, Notify };
  using CrashBefore = std::function<bool(Step)>;

  Driver(Replica& replica, Clock& clock, Network& network, Store& store, Subscriber* subscriber = nullptr);

  // Carries out what the replica's recovery produced (commits the store had
  // not recorded yet, messages); once, before any input. Not done by the
  // constructor: a subscriber that holds the driver as a member would be
  // called while it is still being built.
  void start();

  void deliver(NodeId from, const Message& message);
  void request(const ClientRequest& request);
  void tick();
  TimeMs next_deadline() const { return replica_.next_deadline(); }

  // Returns true when a step was stopped by `crash_before`: the caller must
  // then discard this driver and its replica, as a crashed process would.
  bool crashed() const { return crashed_; }
  struct Stats {
    std::uint64_t store_syncs_served = 0;   // catch-up answered from the store
    std::uint64_t store_syncs_refused = 0;  // ... that the store could not (pruned)
  };
  const Stats& stats() const { return stats_; }
  void set_crash_before(CrashBefore crash_before) { crash_before_ = std::move(crash_before); }

 private:
  void flush();
  void carry_out(const Outbox& out);
  void serve_from_store(const StoreSync& sync);
  bool stop_before(Step step);

  Replica& replica_;
  Clock& clock_;
  Network& network_;
  Store& store_;
  Subscriber* subscriber_;
  CrashBefore crash_before_;
  bool crashed_ = false;
  bool started_ = false;
  Outbox outbox_;  // empty between inputs; its buffers are reused
  Stats stats_;
};

}  // namespace synod
