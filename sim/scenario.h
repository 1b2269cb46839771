// Scenario: a Cluster driven by named operations (partition, crash,
// compromise, load, ...) that are checked before they run and recorded, each
// at its virtual time, as a text that replays the run exactly:
// `synod-sim --replay FILE`. The Python module's synod.sim.Cluster is a
// Scenario, so a scenario written in Python and failing in a sweep
// reproduces without Python (docs/scenarios.md).
//
// The recording holds operations, not the decisions that led to them: a
// Python predicate that ended a run_until is recorded as the time the run
// ended. Given the seed, the same operations at the same virtual times make
// the same trace, which the replay checks against the recorded trace hash.
//
// A bad argument (an instance that does not exist, a node that is down, a
// second twin) is a ScenarioError naming it, thrown before anything changes.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/cluster.h"
#include "sim/swarm.h"

namespace synod::sim {

class ScenarioError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct ScenarioOptions {
  std::vector<std::uint64_t> weights = {1, 1, 1, 1};
  std::uint64_t seed = 1;
  LinkFaults links;
  std::size_t accounts = 8;
};

// What a client's submission got back.
struct SubmitResult {
  bool accepted = false;
  std::string error;  // why it was rejected; empty when accepted
};

class Scenario {
 public:
  // Every count and duration is bounded, so that a mistyped number is an
  // error and not an hour-long run.
  static constexpr std::size_t validators_max = 64;
  static constexpr std::size_t accounts_max = 10'000;
  static constexpr TimeMs latency_ms_max = 60'000;
  static constexpr std::int64_t skew_ms_max = 3'600'000;
  static constexpr TimeMs run_ms_max = 365ull * 24 * 3'600'000;

  // Throws ScenarioError on options out of bounds.
  explicit Scenario(ScenarioOptions options);

  const ScenarioOptions& options() const { return options_; }
  const Cluster& cluster() const { return cluster_; }
  TimeMs now() const { return cluster_.now(); }

  // ---- operations, recorded
  // Instances in no group are isolated from every group.
  void partition(const std::vector<std::vector<NodeId>>& groups);
  void heal();
  void isolate(NodeId instance);
  void crash(NodeId instance);
  void restart(NodeId instance);
  void pause(NodeId instance);
  void resume(NodeId instance);
  // The instance dies just before its driver's next step named `step`:
  // persist-blocks, persist-safety, send, persist-commits or notify. A crash
  // before `send` is a crash between persisting a vote and sending it.
  void crash_before(NodeId instance, const std::string& step);
  // Starts a twin holding the validator's key; returns its instance id.
  NodeId compromise(NodeId validator);
  void equivocate(NodeId validator);
  // Copies the instance's ledger; returns the backup's number (0, 1, ...).
  std::size_t backup(NodeId instance);
  // Replaces a down instance's ledger by a backup, keeping its safety record.
  void restore(NodeId instance, std::size_t backup);
  // The down instance runs the next protocol version from its restart.
  void upgrade(NodeId instance);
  void set_latency(TimeMs ms_min, TimeMs ms_max);
  void set_loss(double probability);
  void skew_clock(NodeId instance, std::int64_t skew_ms);
  void load(std::uint32_t tx_per_s);
  SubmitResult submit(NodeId via, std::size_t from_account, std::size_t to_account, std::uint64_t amount);
  // Advances virtual time. Not recorded: the next operation's time says it.
  void run_for(TimeMs duration_ms);
  // One line per event from now on (Cluster::set_trace); the hash is the same with or without.
  void set_trace(std::function<void(const std::string&)> sink) { cluster_.set_trace(std::move(sink)); }

  // The recording, ending with the time and the trace hash reached so far.
  std::string recording() const;
  // What the run did, in the shape the HTML report draws.
  RunResult result() const;
  // The HTML report of the run so far; `command` is the line that replays it.
  std::string report(const std::string& command) const;

 private:
  void check_instance(NodeId instance) const;
  void check_validator(NodeId validator) const;
  // The instance exists and is in `wanted` state, else a ScenarioError
  // naming the operation, the state it is in, and `hint`.
  void require(NodeId instance, std::string_view operation, NodeState wanted, std::string_view hint = {}) const;
  // The instance exists and its process runs (up or paused).
  void require_running(NodeId instance, std::string_view operation) const;
  void record(const std::string& operation);

  ScenarioOptions options_;
  Cluster cluster_;
  std::vector<std::string> operations_;  // "@T op args", in order
};

struct Replayed {
  std::uint64_t trace_hash = 0;
  std::uint64_t recorded_hash = 0;
  TimeMs virtual_ms = 0;
  Height height;  // the honest instances' agreed height
  std::vector<std::string> violations;
  std::string report_html;  // when asked for
  bool same_trace() const { return trace_hash == recorded_hash; }
};

struct ReplayOutputs {
  std::function<void(const std::string&)> trace_sink;  // every event's line, when set
  std::string report_command;  // when set, the HTML report, headed by this command
};

// Replays a recording. A recording that does not parse, or names an
// operation its cluster refuses, is an error naming the line.
std::expected<Replayed, std::string> replay_scenario(const std::string& recording, const ReplayOutputs& outputs = {});

}  // namespace synod::sim
