// Swarm runs: one seed, one whole simulated life of a cluster. The seed
// derives a fault plan (which faults, their rates, partition shapes, clock
// drift, disk faults, how many validators are compromised and how) within the
// profile asked for; the run is a safety phase where the plan's faults run
// freely, then a liveness phase that heals every honest instance and demands
// that each commits within a bound. With `unbounded`, faults have no limit and
// only safety is checked. Compromised weight always stays below a third:
// beyond it a fork is expected, and tests make one on purpose (see
// docs/simulation.md).
#pragma once

#include <map>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sim/cluster.h"

namespace synod::sim {

enum class Profile : std::uint8_t { Calm, Network, Partitions, Crashes, Disk, Clocks, Byzantine, Swarm };
std::string_view to_string(Profile p);
std::optional<Profile> parse_profile(std::string_view name);
std::string profile_names();  // "calm|network|..."

struct RunOptions {
  std::uint64_t seed = 1;
  std::vector<std::uint64_t> weights = {1, 1, 1, 1};
  TimeMs duration_ms = 30'000;  // the safety phase
  TimeMs liveness_ms = 30'000;  // the liveness phase; 0 skips it
  TimeMs liveness_bound_ms = 10'000;  // each healed honest instance commits at least this often
  std::uint32_t load_tx_per_s = 100;
  Profile profile = Profile::Swarm;
  std::optional<std::size_t> twins;  // overrides the plan's compromise
  bool unbounded = false;
  bool real_crypto = false;
  bool wire = false;
  // BUGGIFY (FoundationDB): the seed also draws the cluster's shape (1 to 10
  // validators, equal, uneven, one heavy, or a total divisible by 3; replacing
  // `weights`) and shrinks the replica's and mempool's limits, so that every
  // limit path runs in sweeps.
  bool buggify = false;
  bool timeline = false;    // keep heights and faults for a report
  bool keep_trace = false;  // keep every event, for determinism diffs
  std::function<void(const std::string&)> trace_sink;
};

// One fault action on a running cluster, as data. The injector draws them and
// schedules their repairs; a FaultSchedule lists them at fixed times (the
// properties in tests/sim_property_test.cc generate and shrink schedules).
// apply() is the one place where either reaches the Cluster. Nodes are
// instance ids, as in Cluster.
namespace fault {
struct Partition {
  std::vector<std::vector<NodeId>> groups;  // instances in no group are isolated
};
struct OneWayCut {
  std::vector<NodeId> deaf;   // cannot hear `heard`,
  std::vector<NodeId> heard;  // but is heard by it
};
struct Heal {};  // every partition, cut and per-link fault
struct Crash {
  NodeId node;
};
struct Restart {
  NodeId node;
};
struct Pause {
  NodeId node;
};
struct Resume {
  NodeId node;
};
struct Clog {
  NodeId from, to;
  TimeMs duration_ms;
};
struct Filter {
  NodeId from, to;
  KindFilter dropped;
};
struct Links {
  NodeId from, to;
  LinkFaults faults;
};
struct SkewClock {
  NodeId node;
  std::int64_t skew_ms;
  std::int64_t drift_ppm;
};
struct CorruptSafetyRecord {
  NodeId node;
};
}  // namespace fault

using Fault = std::variant<fault::Partition, fault::OneWayCut, fault::Heal, fault::Crash, fault::Restart, fault::Pause,
                           fault::Resume, fault::Clog, fault::Filter, fault::Links, fault::SkewClock,
                           fault::CorruptSafetyRecord>;

void apply(Cluster& cluster, const Fault& fault);
std::string_view kind_name(const Fault& fault);  // "crash", "partition", ...
std::string to_string(const Fault& fault);

struct TimedFault {
  TimeMs at_ms;
  Fault fault;
};
using FaultSchedule = std::vector<TimedFault>;

// Schedules every fault at its virtual time (relative to now).
void schedule_faults(Cluster& cluster, const FaultSchedule& schedule);
std::string to_string(const FaultSchedule& schedule);  // one fault a line

// Ends every fault: crash points off, the network healed with `links`, every
// instance resumed and restarted. What a liveness phase starts from.
void heal_everything(Cluster& cluster, const LinkFaults& links);

// What the seed chose.
struct FaultPlan {
  LinkFaults links;
  TimeMs step_ms = 500;  // how often the injector considers a fault
  double partition = 0;  // chances per step
  // Chance that the first instance to commit a height is cut off, the
  // moment it commits, from every other instance (it still hears them): the
  // Twins paper's aimed partition, which is what breaks a VoteRule without
  // its lock clause (tests/mutant/). With equivocators in the plan it waits
  // for a commit after which one of them leads (docs/simulation.md).
  double aimed_cut = 0;
  double crash = 0;
  double pause = 0;
  double clog = 0;
  double filter = 0;
  double corrupt = 0;
  double link_faults = 0;  // loss, duplication and reordering bursts
  TimeMs outage_ms_max = 5'000;  // longest crash, pause, partition or clog
  std::int64_t drift_ppm_max = 0;
  std::int64_t skew_ms_max = 0;
  DiskFaults disk;
  double crash_before_step = 0;
  std::vector<NodeId> twins;
  std::vector<NodeId> equivocators;

  std::string describe() const;
};

FaultPlan make_plan(const RunOptions& options);

// Why `twins` twins cannot be had in a cluster of these weights (more twins
// than validators; or, without `unbounded`, more than keep the compromised
// weight below a third), or nothing if they can.
std::optional<std::string> check_twins(const std::vector<std::uint64_t>& weights, std::size_t twins, bool unbounded);
// What a plan's compromise at or past a third of the weight gives up, or nothing below it.
std::optional<std::string> bound_warning(const std::vector<std::uint64_t>& weights, const FaultPlan& plan);

struct RunResult {
  FaultPlan plan;
  std::vector<std::uint64_t> weights;  // the cluster's, as drawn when buggified
  std::vector<std::string> violations;
  std::uint64_t trace_hash = 0;
  std::uint64_t events = 0;
  std::uint64_t height = 0;  // the honest instances' agreed height
  std::uint64_t committed_txs = 0;
  std::uint64_t faults = 0;  // fault actions taken
  // What the run did, by kind: fault actions ("crash", "partition", ...,
  // "crash inside the driver") and adversaries ("twins", "equivocator" when
  // it signed a conflicting message). A sweep sums them, so that a sweep that
  // tested nothing shows it.
  std::map<std::string, std::uint64_t> kinds;
  TimeMs virtual_ms = 0;
  std::vector<TimeMs> commit_latencies_ms;
  Timeline timeline;
  std::vector<TraceEvent> trace;  // when keep_trace
  EquivocatorStats equivocation;
  bool ok() const { return violations.empty(); }
};

RunResult run_simulation(const RunOptions& options);

// What buggify draws from a seed: the shape, and the limits applied to `config`.
std::vector<std::uint64_t> buggify_weights(std::uint64_t seed);
void buggify_limits(std::uint64_t seed, ReplicaConfig& config);

// The command line that replays exactly this run; `program` is synod-sim, or
// the mutant build's synod-sim-mutant.
std::string reproduce_command(const RunOptions& options, std::string_view program = "synod-sim");

// Runs the seed twice: the first run, and the first difference of the
// second run's trace from it (empty if both agree).
struct DeterminismCheck {
  RunResult run;
  std::optional<std::string> divergence;
};
DeterminismCheck check_determinism(RunOptions options);

// How many runs of a sweep had each kind of fault and adversary
// (RunResult::kinds), and how many committed nothing.
struct SweepTally {
  std::uint64_t runs = 0;
  std::uint64_t runs_without_commits = 0;
  std::map<std::string, std::uint64_t> runs_with;
  void add(const RunResult& result);
  std::string describe() const;  // "crash 80, partition 71, ..., twins 12"
};

}  // namespace synod::sim
