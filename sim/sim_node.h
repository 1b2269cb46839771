// SimNode: one simulated node process. Its fiber runs the production Driver
// over the production Replica exactly as the node's event loop does: take the
// next inbound message or client request, or tick when the replica's deadline
// passes on the node's own (skewed, drifting) clock, and let the driver persist,
// send and apply. Crash, restart and pause act on the process: a crash unwinds
// the fiber wherever it waits (including inside an fsync) and keeps only the
// SimStore; a restart boots a new replica from that store, or refuses to when
// the store reports corruption.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/driver.h"
#include "sim/sim_network.h"
#include "sim/sim_store.h"

namespace synod::sim {

inline constexpr std::size_t inbox_max = 8192;  // beyond this the process drops input

// A node's local clock: offset by `skew_ms` and running `drift_ppm` parts per
// million fast (or slow) against virtual time. Monotonic; set_drift re-anchors.
class SimClock final : public Clock {
 public:
  explicit SimClock(const Scheduler& scheduler) : scheduler_(scheduler) {}
  TimeMs now() const override { return local(scheduler_.now()); }
  void set(std::int64_t skew_ms, std::int64_t drift_ppm);
  // The earliest virtual time at which now() >= local_ms.
  TimeMs to_virtual(TimeMs local_ms) const;

 private:
  TimeMs local(TimeMs virtual_ms) const;

  const Scheduler& scheduler_;
  TimeMs anchor_virtual_ = 0;
  TimeMs anchor_local_ = 0;
  std::int64_t drift_ppm_ = 0;
};

enum class NodeState : std::uint8_t { Down, Up, Paused, Refused };
std::string_view to_string(NodeState s);

// What a node process reports to the cluster: boot, commits, replies, death.
class NodeObserver {
 public:
  virtual ~NodeObserver() = default;
  virtual void on_boot(InstanceId id, const Recovery& recovery) = 0;
  virtual void on_refused(InstanceId id, const StoreError& error) = 0;
  virtual void on_commits(InstanceId id, const std::vector<CommittedBlock>& commits) = 0;
  virtual void on_replies(InstanceId id, const std::vector<ClientResponse>& replies) = 0;
  virtual void on_tick(InstanceId id) = 0;
  virtual void on_crashed(InstanceId id) = 0;
};

struct NodeSetup {
  InstanceId id = 0;
  NodeId validator;
  KeyPair key;
  const Genesis* genesis = nullptr;
  const SignatureScheme* scheme = nullptr;
  ReplicaConfig config;
  std::uint64_t seed = 0;
};

class SimNode {
 public:
  SimNode(Scheduler& scheduler, NodeSetup setup, Network& outbound, NodeObserver& observer);
  ~SimNode();

  // ---- process control, from the main context
  void start();
  void crash();
  void pause();
  void resume();
  void set_disk(const DiskFaults& faults);
  // Crashes the process just before a driver step, with this probability per step.
  void set_crash_before_step(double probability) { crash_before_step_ = probability; }
  // The process dies just before its driver's next step of this kind (a
  // crash between persisting and sending, say); disarmed when it dies.
  void crash_before_next(Driver::Step step) { crash_armed_ = step; }

  // ---- input
  void deliver(const Packet& packet);
  void request(const ClientRequest& request);

  NodeState state() const { return state_; }
  bool running() const { return running_; }
  const NodeSetup& setup() const { return setup_; }
  const Replica* replica() const { return replica_.get(); }
  SimStore& store() { return store_; }
  const SimStore& store() const { return store_; }
  SimClock& clock() { return clock_; }
  const std::optional<StoreError>& refusal() const { return refusal_; }
  std::uint64_t dropped_inputs() const { return dropped_inputs_; }

 private:
  class Relay;
  using Input = std::variant<Packet, ClientRequest>;

  void accept(Input input);
  void run();  // the process's fiber
  void serve();
  bool sync_wait(TimeMs duration_ms);

  Scheduler& scheduler_;
  NodeSetup setup_;
  Network& outbound_;
  NodeObserver& observer_;
  SimStore store_;
  SimClock clock_;
  Signal wake_;
  Rng rng_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<Replica> replica_;
  std::unique_ptr<Driver> driver_;
  // A queue that is drained to empty between bursts, so a vector read from
  // inbox_head_ and cleared when drained reuses one allocation for good.
  std::vector<Input> inbox_;
  std::size_t inbox_head_ = 0;
  NodeState state_ = NodeState::Down;
  bool running_ = false;  // the fiber is alive
  bool dying_ = false;    // crash requested; the fiber unwinds at its next wait
  double crash_before_step_ = 0;
  std::optional<Driver::Step> crash_armed_;
  std::optional<StoreError> refusal_;
  std::uint64_t dropped_inputs_ = 0;
};

}  // namespace synod::sim
