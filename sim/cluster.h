// Cluster: a whole synod network in one process, in virtual time, from one
// seed. Each validator runs as a SimNode (the production Driver and Replica in
// a fiber) with its own SimStore and clock; SimNetwork links the instances.
// Key compromise adds instances: a twin is a second honest instance holding a
// validator's key, an equivocator wraps a validator's outbound messages. The
// Checker watches every commit and boot; the Trace hashes every event. Tests,
// scripts, the swarm runner and the Python module all drive this one class.
//
// Instances are addressed by NodeId: ids below validators() are the
// validators' own instances, ids above are twins.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/adversary.h"
#include "sim/checker.h"
#include "sim/sim_crypto.h"
#include "sim/sim_node.h"
#include "sim/trace.h"

namespace synod::sim {

// The simulated clients' rate limit: at most 100 transactions per virtual
// millisecond, far above what a simulated cluster commits.
inline constexpr std::uint32_t load_tx_per_s_max = 100'000;

struct ClusterOptions {
  std::vector<std::uint64_t> weights = {1, 1, 1, 1};
  std::uint64_t seed = 1;
  LinkFaults links;
  ReplicaConfig replica;
  std::size_t accounts = 8;
  std::uint64_t account_balance = 1'000'000;
  // Off for scripted tests: messages wait in in_flight() until delivered.
  bool auto_deliver = true;
  bool real_crypto = false;  // Ed25519 instead of the simulator's keyed hash
  bool wire = false;         // every message through the protobuf codec
  std::vector<NodeId> twins;         // validators that get a second instance
  std::vector<NodeId> equivocators;  // validators whose messages are doubled
  DiskFaults disk;
  double crash_before_step = 0;  // per driver step, for every instance
  bool timeline = false;         // keep heights and faults over time, for reports
};

// Heights and faults over time, for the HTML report.
struct Timeline {
  struct Commit {
    TimeMs at;
    InstanceId instance;
    std::uint64_t height;
  };
  struct Span {
    TimeMs start;
    TimeMs end;  // `never` while open
    std::string what;
    std::vector<InstanceId> instances;  // empty: the whole cluster
  };
  std::vector<Commit> commits;
  std::vector<Span> faults;
};

class Cluster final : private NodeObserver {
 public:
  explicit Cluster(ClusterOptions options);
  ~Cluster() override;

  std::size_t size() const { return instances_.size(); }
  std::size_t validators() const { return options_.weights.size(); }
  NodeId validator_of(NodeId instance) const;
  bool honest(NodeId instance) const { return honest_.at(instance.value); }
  TimeMs now() const { return scheduler_.now(); }
  const Genesis& genesis() const { return genesis_; }
  const KeyPair& account(std::size_t i) const { return accounts_.at(i); }
  const ClusterOptions& options() const { return options_; }
  Scheduler& scheduler() { return scheduler_; }
  SimNetwork& network() { return network_; }

  // ---- running
  void run_for(TimeMs duration_ms);
  // Runs until `done` holds or `timeout_ms` of virtual time passes; true if it held.
  bool run_until(const std::function<bool()>& done, TimeMs timeout_ms);
  // Submits tx_per_s transfers per virtual second (at most
  // load_tx_per_s_max) from the accounts, round-robin over live instances.
  void set_load(std::uint32_t tx_per_s);

  // ---- faults
  void crash(NodeId node);
  void restart(NodeId node);
  void pause(NodeId node);
  void resume(NodeId node);
  bool is_up(NodeId node) const;
  NodeState state(NodeId node) const;
  // Messages between different groups are dropped; instances in no group are isolated.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  // Messages from `heard` to `deaf` are dropped; the other way still works.
  void cut_one_way(const std::vector<NodeId>& deaf, const std::vector<NodeId>& heard);
  // Cuts every link to and from the instance, both ways; other cuts stay.
  void isolate(NodeId node);
  void heal();
  // A burst of link faults, which heal() ends.
  void set_link_faults(const LinkFaults& faults);
  // The links' normal faults from now on (options().links): heal() restores these.
  void set_links(const LinkFaults& faults);
  void skew_clock(NodeId node, std::int64_t skew_ms, std::int64_t drift_ppm);
  bool corrupt_safety_record(NodeId node);
  // Key compromise mid-run. A twin is a second honest instance holding the
  // validator's key, with a store of its own, started now (its links are
  // uncut, whatever partition holds); returns its instance id. An
  // equivocator wraps each of the validator's instances' outbound messages.
  // Either way the validator's instances are no longer honest: the checker
  // stops holding them to agreement and liveness.
  NodeId compromise(NodeId validator);
  // A copy of the instance's durable ledger (not its safety record), kept by
  // the cluster; returns its number. restore() puts one back into a node
  // that is down, keeping that node's safety record.
  std::size_t backup(NodeId node);
  void restore(NodeId node, std::size_t backup);
  std::size_t backups() const { return backups_.size(); }
  // A flag-day upgrade: the instance, which must be down, runs the next
  // protocol version from its restart. Instances on different versions do
  // not hear each other, as the peer Hello refuses a version it does not
  // speak (docs/transport.md).
  void upgrade(NodeId node);
  std::uint32_t version(NodeId node) const { return versions_.at(node.value); }
  std::uint64_t refused_version() const { return refused_version_; }
  void equivocate(NodeId validator);
  std::uint64_t total_weight() const;
  // The weight of validators with an instance that is not honest.
  std::uint64_t compromised_weight() const;
  void set_crash_before_step(double probability);
  // The instance dies just before its next driver step of this kind.
  void crash_before(NodeId node, Driver::Step step);
  // Called when an instance dies by itself (a crash point inside the driver).
  void on_crash(std::function<void(NodeId)> listener) { crash_listener_ = std::move(listener); }
  // Called after an instance commits, with the height it reached.
  void on_commit(std::function<void(NodeId, Height)> listener) { commit_listener_ = std::move(listener); }
  // Every instance of the honest validators must commit within `bound_ms`, from now on.
  void start_liveness(TimeMs bound_ms);
  void check_liveness() { checker_->check_liveness(now()); }

  // ---- clients
  // Returns the node's reply (accepted or rejected) to a signed transfer.
  ClientResponse submit_transfer(NodeId via, std::size_t from_account, std::size_t to_account,
                                 std::uint64_t amount);
  ClientResponse request(NodeId via, const ClientRequest& request);

  // ---- manual stepping, for scripted tests (auto_deliver = false)
  const std::vector<Packet>& in_flight() { return network_.held(); }
  // Delivers the messages queued now, in order; what they cause is queued.
  void deliver_queued(const std::function<bool(const Packet&)>& which);
  void drop_queued(const std::function<bool(const Packet&)>& which);
  // Advances time; nodes whose deadline passed wake up.
  void advance(TimeMs duration_ms);

  // ---- observation
  const Replica* replica(NodeId node) const;
  const SimStore& store(NodeId node) const;
  const SimNode& node(NodeId node) const;
  Height committed_height(NodeId node) const;
  Height min_committed_height() const;  // over live instances
  const Checker& checker() const { return *checker_; }
  // The checker's findings, each with the virtual time it was made.
  std::vector<std::string> violations() const;
  // One line per event (sends, deliveries, commits, faults), when set.
  void set_trace(std::function<void(const std::string&)> sink) { trace_.set_sink(std::move(sink)); }
  Trace& trace() { return trace_; }
  std::uint64_t events_count() const { return trace_.count(); }
  std::uint64_t trace_hash() const { return trace_.hash(); }
  const Timeline& timeline() const { return timeline_; }
  EquivocatorStats equivocation() const;

 private:
  struct Instance;
  class Port;

  void add_instance(InstanceId id, bool equivocates);
  void mark_compromised(NodeId validator);
  // NodeObserver
  void on_boot(InstanceId id, const Recovery& recovery) override;
  void on_refused(InstanceId id, const StoreError& error) override;
  void on_commits(InstanceId id, const std::vector<CommittedBlock>& commits) override;
  void on_replies(InstanceId id, const std::vector<ClientResponse>& replies) override;
  void on_tick(InstanceId id) override;
  void on_crashed(InstanceId id) override;

  void route(InstanceId source, NodeId to, const MessagePtr& message);
  void arrive(const Packet& packet);
  MessagePtr transcode(const MessagePtr& message);
  void record(EventKind kind, std::uint32_t a, std::uint32_t b, std::uint64_t detail);
  void open_fault(const std::string& key, const std::string& what, std::vector<InstanceId> instances);
  void close_fault(const std::string& key);
  void load_tick();
  void schedule_load();
  // Signs a transfer at the client's next nonce and tells the checker.
  Transaction client_transfer(std::size_t from, std::size_t to, std::uint64_t amount);
  void liveness_tick();
  SimNode& node_at(NodeId node);

  ClusterOptions options_;
  Scheduler scheduler_;
  SimSignatureScheme sim_scheme_;
  const SignatureScheme* scheme_;
  Genesis genesis_;
  ChainId chain_;  // genesis_.chain_id(), which hashes the whole genesis
  std::vector<KeyPair> keys_;
  std::vector<KeyPair> accounts_;
  std::vector<bool> honest_;
  Trace trace_;
  std::optional<Checker> checker_;  // made once the genesis exists
  SimNetwork network_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::vector<NodeId> validator_of_;                   // by instance
  std::vector<std::vector<InstanceId>> instances_of_;  // by validator: its instance and any twins
  std::function<void(NodeId)> crash_listener_;
  std::function<void(NodeId, Height)> commit_listener_;
  std::vector<SimStore::Backup> backups_;
  std::vector<std::uint32_t> versions_;  // by instance: the protocol version it runs
  std::uint64_t refused_version_ = 0;     // messages between instances of different versions
  Timeline timeline_;
  std::map<std::string, std::size_t> open_faults_;  // key -> index in timeline_.faults
  // The last message through the codec, and what it decoded to. The message
  // itself is held, not only its address: a freed message's address is reused,
  // and a later message there must not be taken for it.
  std::pair<MessagePtr, MessagePtr> transcoded_;
  MessagePtr checked_sent_;  // the last message the checker saw sent, held for the same reason

  // Clients: each account's client keeps its own next nonce.
  std::uint64_t request_id_ = 0;
  std::set<std::uint64_t> awaited_;  // synchronous requests waiting for their reply
  std::map<std::uint64_t, ClientResponse> replies_;
  std::uint32_t load_tx_per_s_ = 0;
  TimeMs load_start_ms_ = 0;
  std::uint64_t load_count_ = 0;  // transactions scheduled since set_load
  std::optional<Scheduler::Timer> load_timer_;
  std::size_t load_next_account_ = 0;
  std::size_t load_next_node_ = 0;
  std::vector<std::uint64_t> client_nonce_;
  Bytes scratch_;  // the client's sign-bytes buffer for the transactions it signs
  std::vector<std::pair<std::uint64_t, TimeMs>> client_progress_;  // (ledger nonce, when seen)
  // Each account's nonce after the first commit of every height any instance
  // made: what the furthest-ahead ledger says, kept as commits arrive instead
  // of asking every node's ledger per transaction.
  DigestMap<PublicKey, std::size_t> account_index_;  // the simulator's keys: hashes
  std::vector<std::uint64_t> committed_nonce_;
  std::uint64_t committed_nonce_height_ = 0;
  std::vector<NodeId> load_up_;  // load_tick's live instances, kept for its capacity
  bool liveness_ticking_ = false;
};

}  // namespace synod::sim
