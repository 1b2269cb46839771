// Cluster: a whole synod network in one process, in virtual time, from one
// seed. Each node is the production Replica behind the production Driver, with
// its own MemStore; links add seeded latency; partitions, crashes and restarts
// are injected between events. Single-threaded and deterministic: the same
// options replay the same run. The fiber scheduler of issue 3 replaces this
// event loop, not the nodes it drives.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/driver.h"
#include "core/mem_store.h"

namespace synod::sim {

struct ClusterOptions {
  std::vector<std::uint64_t> weights = {1, 1, 1, 1};
  std::uint64_t seed = 1;
  TimeMs latency_ms_min = 10;
  TimeMs latency_ms_max = 50;
  ReplicaConfig replica;
  std::size_t accounts = 8;
  std::uint64_t account_balance = 1'000'000;
  // Off for scripted tests: messages wait in a queue until `deliver` is called.
  bool auto_deliver = true;
};

// A message on its way from one node to another.
struct InFlight {
  NodeId from;
  NodeId to;
  MessagePtr message;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  ~Cluster();

  std::size_t size() const { return nodes_.size(); }
  TimeMs now() const { return now_; }
  const Genesis& genesis() const { return genesis_; }
  const KeyPair& account(std::size_t i) const { return accounts_.at(i); }

  // ---- running
  void run_for(TimeMs duration_ms);
  // Runs until `done` holds or `timeout_ms` of virtual time passes; true if it held.
  bool run_until(const std::function<bool()>& done, TimeMs timeout_ms);
  // Submits one transfer per interval from the accounts, round-robin over live nodes.
  void set_load(std::uint32_t tx_per_s);

  // ---- faults
  void crash(NodeId node);
  void restart(NodeId node);
  bool is_up(NodeId node) const;
  // Messages between different groups are dropped; nodes in no group are isolated.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void heal();

  // ---- clients
  // Returns the node's reply (accepted or rejected) to a signed transfer.
  ClientResponse submit_transfer(NodeId via, std::size_t from_account, std::size_t to_account,
                                 std::uint64_t amount);
  ClientResponse request(NodeId via, const ClientRequest& request);

  // ---- manual stepping, for scripted tests (auto_deliver = false)
  const std::vector<InFlight>& in_flight() const { return in_flight_; }
  // Delivers the messages queued now, in order; what they cause is queued.
  void deliver_queued(const std::function<bool(const InFlight&)>& which);
  void drop_queued(const std::function<bool(const InFlight&)>& which);
  // Advances time and wakes every node whose deadline has passed.
  void advance(TimeMs duration_ms);

  // ---- observation
  const Replica* replica(NodeId node) const;
  const MemStore& store(NodeId node) const;
  Height committed_height(NodeId node) const;
  Height min_committed_height() const;  // over live nodes
  // Safety checks over every node's durable history and live state. Empty when
  // all hold: agreement on committed blocks and state roots at every height,
  // no transaction executed twice, conservation of the total balance.
  std::vector<std::string> violations() const;
  // Every sent message, delivery and commit, one line each, when set.
  void set_trace(std::function<void(const std::string&)> trace) { trace_ = std::move(trace); }
  std::uint64_t events_count() const { return events_count_; }

 private:
  struct Node;
  struct Event;
  class NodeNetwork;
  class NodeSubscriber;

  void boot(NodeId node);
  void send(NodeId from, NodeId to, const MessagePtr& message);
  void deliver(const InFlight& message);
  void wake(NodeId node);
  void schedule_wake(NodeId node);
  void after_call(NodeId node);
  bool linked(NodeId from, NodeId to) const;
  void load_tick();
  void emit(const std::string& line) const;
  std::uint64_t draw(std::uint64_t bound);  // uniform in [0, bound), seeded

  ClusterOptions options_;
  Genesis genesis_;
  std::vector<KeyPair> keys_;
  std::vector<KeyPair> accounts_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::mt19937_64 rng_;
  TimeMs now_ = 0;
  std::uint64_t sequence_ = 0;
  std::multimap<std::pair<TimeMs, std::uint64_t>, Event> events_;
  std::vector<InFlight> in_flight_;
  std::vector<int> group_;  // partition group per node; empty when healed
  std::function<void(const std::string&)> trace_;
  std::uint64_t events_count_ = 0;
  std::uint64_t request_id_ = 0;

  // Load: each account's client keeps its own next nonce.
  TimeMs load_interval_ms_ = 0;
  std::size_t load_next_account_ = 0;
  std::size_t load_next_node_ = 0;
  std::vector<std::uint64_t> client_nonce_;
  std::vector<std::pair<std::uint64_t, TimeMs>> client_progress_;  // (ledger nonce, when seen)
};

}  // namespace synod::sim
