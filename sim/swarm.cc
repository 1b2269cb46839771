#include "sim/swarm.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <sstream>

#include "core/assert.h"

namespace synod::sim {

namespace {
constexpr Profile all_profiles[] = {Profile::Calm,    Profile::Network, Profile::Partitions, Profile::Crashes,
                                    Profile::Disk,    Profile::Clocks,  Profile::Byzantine,  Profile::Swarm};
// Swarm runs shorten the replica's longest backoff so that a run heals in
// seconds; the rule is the same, only the cap differs.
constexpr TimeMs swarm_round_timeout_ms = 500;
constexpr TimeMs swarm_round_timeout_ms_max = 4'000;
// An aimed cut outlasts two timeouts at the longest backoff, and the rounds
// that certify and commit an equivocator's block after them.
constexpr TimeMs aimed_cut_ms_min = 3 * swarm_round_timeout_ms_max;
}  // namespace

std::string_view to_string(Profile p) {
  switch (p) {
    case Profile::Calm: return "calm";
    case Profile::Network: return "network";
    case Profile::Partitions: return "partitions";
    case Profile::Crashes: return "crashes";
    case Profile::Disk: return "disk";
    case Profile::Clocks: return "clocks";
    case Profile::Byzantine: return "byzantine";
    case Profile::Swarm: return "swarm";
  }
  return "unknown";
}

std::optional<Profile> parse_profile(std::string_view name) {
  for (Profile p : all_profiles) {
    if (to_string(p) == name) return p;
  }
  return std::nullopt;
}

std::string profile_names() {
  std::string names;
  for (Profile p : all_profiles) names += (names.empty() ? "" : "|") + std::string(to_string(p));
  return names;
}

// ---- faults ------------------------------------------------------------------

namespace {

struct Apply {
  Cluster& cluster;
  void operator()(const fault::Partition& f) const { cluster.partition(f.groups); }
  void operator()(const fault::OneWayCut& f) const { cluster.cut_one_way(f.deaf, f.heard); }
  void operator()(const fault::Heal&) const { cluster.heal(); }
  void operator()(const fault::Crash& f) const { cluster.crash(f.node); }
  void operator()(const fault::Restart& f) const { cluster.restart(f.node); }
  void operator()(const fault::Pause& f) const { cluster.pause(f.node); }
  void operator()(const fault::Resume& f) const { cluster.resume(f.node); }
  void operator()(const fault::Clog& f) const {
    cluster.network().clog(f.from.value, f.to.value, cluster.now() + f.duration_ms);
  }
  void operator()(const fault::Filter& f) const { cluster.network().filter(f.from.value, f.to.value, f.dropped); }
  void operator()(const fault::Links& f) const { cluster.network().set_faults(f.from.value, f.to.value, f.faults); }
  void operator()(const fault::SkewClock& f) const { cluster.skew_clock(f.node, f.skew_ms, f.drift_ppm); }
  void operator()(const fault::CorruptSafetyRecord& f) const { cluster.corrupt_safety_record(f.node); }
};

std::string nodes_string(const std::vector<NodeId>& nodes) {
  std::ostringstream os;
  os << "[";
  for (std::size_t i = 0; i < nodes.size(); ++i) os << (i ? " " : "") << nodes[i];
  os << "]";
  return os.str();
}

struct Describe {
  std::ostringstream& os;
  void operator()(const fault::Partition& f) const {
    os << "partition";
    for (const auto& group : f.groups) os << " " << nodes_string(group);
  }
  void operator()(const fault::OneWayCut& f) const {
    os << "one-way cut: " << nodes_string(f.deaf) << " cannot hear " << nodes_string(f.heard);
  }
  void operator()(const fault::Heal&) const { os << "heal"; }
  void operator()(const fault::Crash& f) const { os << "crash " << f.node; }
  void operator()(const fault::Restart& f) const { os << "restart " << f.node; }
  void operator()(const fault::Pause& f) const { os << "pause " << f.node; }
  void operator()(const fault::Resume& f) const { os << "resume " << f.node; }
  void operator()(const fault::Clog& f) const {
    os << "clog " << f.from << "->" << f.to << " for " << f.duration_ms << "ms";
  }
  void operator()(const fault::Filter& f) const {
    os << "filter " << f.from << "->" << f.to << " drops message kinds";
    for (std::size_t k = 0; k < f.dropped.size(); ++k) {
      if (f.dropped[k]) os << " " << k;
    }
  }
  void operator()(const fault::Links& f) const {
    os << "link " << f.from << "->" << f.to << ": latency " << f.faults.latency_ms_min << "-"
       << f.faults.latency_ms_max << "ms loss " << f.faults.loss << " duplicate " << f.faults.duplicate
       << " reorder " << f.faults.reorder;
  }
  void operator()(const fault::SkewClock& f) const {
    os << "skew clock " << f.node << " by " << f.skew_ms << "ms, drift " << f.drift_ppm << "ppm";
  }
  void operator()(const fault::CorruptSafetyRecord& f) const { os << "corrupt safety record " << f.node; }
};

}  // namespace

void apply(Cluster& cluster, const Fault& fault) { std::visit(Apply{cluster}, fault); }

std::string_view kind_name(const Fault& fault) {
  static constexpr std::string_view names[] = {"partition", "one-way cut", "heal",  "crash",  "restart",
                                                "pause",     "resume",      "clog",  "filter", "link faults",
                                                "clock skew", "corrupt safety record"};
  static_assert(std::size(names) == std::variant_size_v<Fault>);
  return names[fault.index()];
}

std::string to_string(const Fault& fault) {
  std::ostringstream os;
  std::visit(Describe{os}, fault);
  return os.str();
}

void schedule_faults(Cluster& cluster, const FaultSchedule& schedule) {
  for (const TimedFault& timed : schedule) {
    cluster.scheduler().at(cluster.now() + timed.at_ms, [&cluster, fault = timed.fault] { apply(cluster, fault); });
  }
}

std::string to_string(const FaultSchedule& schedule) {
  std::ostringstream os;
  for (const TimedFault& timed : schedule) os << "at " << timed.at_ms << "ms: " << to_string(timed.fault) << "\n";
  return os.str();
}

void heal_everything(Cluster& cluster, const LinkFaults& links) {
  cluster.set_crash_before_step(0);
  cluster.heal();
  cluster.network().heal({}, links);
  for (std::uint32_t i = 0; i < cluster.size(); ++i) {
    cluster.resume(NodeId(i));
    cluster.restart(NodeId(i));
  }
}

// ---- the plan ----------------------------------------------------------------

FaultPlan make_plan(const RunOptions& options) {
  // Its own stream, so that the plan does not shift when the run changes.
  Rng rng(options.seed ^ 0x706c616e2d763100ULL);
  FaultPlan plan;
  const Profile p = options.profile;
  // In a swarm, each class of fault is present or not, by the seed.
  auto on = [&](Profile only) { return p == only || (p == Profile::Swarm && rng.chance(0.5)); };
  plan.links.latency_ms_min = rng.between(1, 20);
  plan.links.latency_ms_max = plan.links.latency_ms_min + rng.between(0, 60);
  if (on(Profile::Network)) {
    plan.link_faults = 0.05 + 0.2 * rng.unit();
    plan.clog = 0.05 + 0.2 * rng.unit();
    plan.filter = 0.05 * rng.unit();
  }
  if (on(Profile::Partitions)) {
    plan.partition = 0.05 + 0.2 * rng.unit();
    plan.aimed_cut = 0.05 + 0.15 * rng.unit();
  }
  if (on(Profile::Crashes)) {
    plan.crash = 0.05 + 0.2 * rng.unit();
    plan.pause = 0.1 * rng.unit();
    plan.crash_before_step = rng.chance(0.5) ? 0.002 * rng.unit() : 0;
  }
  if (on(Profile::Disk)) {
    plan.disk.fsync_ms = rng.between(1, 10);
    plan.disk.torn_write = rng.unit();
    plan.crash = std::max(plan.crash, 0.05 + 0.1 * rng.unit());
    plan.crash_before_step = std::max(plan.crash_before_step, 0.001 * rng.unit());
    plan.corrupt = 0.02 * rng.unit();
  }
  if (on(Profile::Clocks)) {
    plan.drift_ppm_max = static_cast<std::int64_t>(rng.between(100, 200'000));
    plan.skew_ms_max = static_cast<std::int64_t>(rng.between(0, 5'000));
  }
  plan.outage_ms_max = rng.between(500, 8'000);
  if (options.unbounded) {
    for (double* rate : {&plan.partition, &plan.crash, &plan.pause, &plan.clog, &plan.link_faults}) {
      *rate = std::min(1.0, *rate * 2);
    }
  }

  // Compromise: validators picked in a seeded order while their weight stays
  // below a third of the total, each a twin or an equivocator. An asked-for
  // number of twins takes the lightest validators first (in seeded order
  // among equals), so that it is met whenever the bound allows it, and with
  // `unbounded` it is met past the bound; never fewer (check_twins).
  const std::size_t n = options.weights.size();
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  if (options.twins) {
    std::ranges::stable_sort(order, {}, [&](std::uint32_t v) { return options.weights[v]; });
  }
  const std::uint64_t total = std::accumulate(options.weights.begin(), options.weights.end(), std::uint64_t{0});
  std::uint64_t compromised = 0;
  std::size_t wanted = 0;
  if (options.twins) {
    wanted = *options.twins;
  } else if (p == Profile::Byzantine || (p == Profile::Swarm && rng.chance(0.5))) {
    wanted = rng.between(1, n);
  }
  const bool past_bound = options.twins.has_value() && options.unbounded;
  for (std::uint32_t v : order) {
    if (plan.twins.size() + plan.equivocators.size() >= wanted) break;
    if (!past_bound && 3 * (compromised + options.weights[v]) >= total) continue;
    compromised += options.weights[v];
    const bool twin = options.twins.has_value() || rng.chance(0.5);
    (twin ? plan.twins : plan.equivocators).push_back(NodeId(v));
  }
  SYNOD_ASSERT(!options.twins || plan.twins.size() == *options.twins);
  return plan;
}

std::optional<std::string> check_twins(const std::vector<std::uint64_t>& weights, std::size_t twins,
                                       bool unbounded) {
  if (twins > weights.size()) {
    return "--twins " + std::to_string(twins) + ": the cluster has only " + std::to_string(weights.size()) +
           " validators";
  }
  if (unbounded) return std::nullopt;
  std::vector<std::uint64_t> lightest = weights;
  std::ranges::sort(lightest);
  const std::uint64_t total = std::accumulate(weights.begin(), weights.end(), std::uint64_t{0});
  std::uint64_t compromised = 0;
  std::size_t fit = 0;
  while (fit < lightest.size() && 3 * (compromised + lightest[fit]) < total) compromised += lightest[fit++];
  if (twins <= fit) return std::nullopt;
  return "--twins " + std::to_string(twins) + ": at most " + std::to_string(fit) +
         " twins keep the compromised weight below a third of " + std::to_string(total) +
         "; add --unbounded to go past the bound (safety is then not promised)";
}

std::optional<std::string> bound_warning(const std::vector<std::uint64_t>& weights, const FaultPlan& plan) {
  const std::uint64_t total = std::accumulate(weights.begin(), weights.end(), std::uint64_t{0});
  std::uint64_t compromised = 0;
  for (const auto* group : {&plan.twins, &plan.equivocators}) {
    for (NodeId v : *group) compromised += weights.at(v.value);
  }
  if (3 * compromised < total) return std::nullopt;
  return "compromised weight " + std::to_string(compromised) + " of " + std::to_string(total) + " is " +
         (3 * compromised == total ? "exactly a third: safety still holds, liveness is not promised"
                                   : "past a third: safety is not promised, and a fork is what the run may find");
}

std::string FaultPlan::describe() const {
  std::ostringstream os;
  os << "latency " << links.latency_ms_min << "-" << links.latency_ms_max << "ms";
  auto rate = [&](const char* name, double r) {
    if (r > 0) os << " " << name << "=" << static_cast<int>(r * 1000) / 1000.0;
  };
  rate("partition", partition);
  rate("aimed-cut", aimed_cut);
  rate("crash", crash);
  rate("pause", pause);
  rate("clog", clog);
  rate("filter", filter);
  rate("link-faults", link_faults);
  rate("corrupt", corrupt);
  rate("crash-in-driver", crash_before_step);
  if (disk.fsync_ms) os << " fsync=" << disk.fsync_ms << "ms torn=" << static_cast<int>(disk.torn_write * 100) << "%";
  if (drift_ppm_max) os << " drift<=" << drift_ppm_max << "ppm skew<=" << skew_ms_max << "ms";
  os << " outage<=" << outage_ms_max << "ms";
  for (NodeId v : twins) os << " twin:" << v;
  for (NodeId v : equivocators) os << " equivocator:" << v;
  return os.str();
}

// ---- the injector ------------------------------------------------------------

namespace {

// Acts on the plan during the safety phase: every step, each class of fault
// fires with its chance, and schedules its own repair.
class Injector {
 public:
  Injector(Cluster& cluster, const FaultPlan& plan, const std::vector<std::uint64_t>& weights, std::uint64_t seed)
      : cluster_(cluster), plan_(plan), weights_(weights), rng_(seed ^ 0x696e6a6563746f72ULL) {
    for (std::uint64_t w : weights_) total_weight_ += w;
    for (const auto* group : {&plan_.twins, &plan_.equivocators}) {
      for (NodeId v : *group) failed_weight_ += weights_[v.value];
    }
  }

  void start() {
    for (std::uint32_t i = 0; i < cluster_.size(); ++i) {
      if (plan_.drift_ppm_max == 0) break;
      const auto drift = static_cast<std::int64_t>(rng_.below(2 * plan_.drift_ppm_max + 1)) - plan_.drift_ppm_max;
      const auto skew = static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(plan_.skew_ms_max) + 1));
      apply(cluster_, fault::SkewClock{NodeId(i), skew, drift});
    }
    cluster_.on_crash([this](NodeId id) {
      ++kinds_["crash inside the driver"];
      restart_later(id);
    });
    cluster_.on_commit([this](NodeId id, Height height) { committed(id, height); });
    schedule();
  }
  void stop() { running_ = false; }
  std::uint64_t actions() const { return actions_; }
  const std::map<std::string, std::uint64_t>& kinds() const { return kinds_; }

 private:
  void schedule() {
    cluster_.scheduler().at(cluster_.now() + plan_.step_ms / 2 + rng_.below(plan_.step_ms), [this] { step(); });
  }

  TimeMs outage() { return 100 + rng_.below(plan_.outage_ms_max); }
  NodeId any() { return NodeId(static_cast<std::uint32_t>(rng_.below(cluster_.size()))); }
  void later(TimeMs delay, std::function<void()> action) {
    cluster_.scheduler().at(cluster_.now() + delay, [this, action = std::move(action)] {
      if (running_) action();
    });
  }
  void restart_later(NodeId id) { repair_later(fault::Restart{id}); }
  void act(const Fault& fault) {
    ++actions_;
    ++kinds_[std::string(kind_name(fault))];
    apply(cluster_, fault);
  }
  void repair_later(Fault repair) {
    later(outage(), [this, repair = std::move(repair)] { apply(cluster_, repair); });
  }

  // The first instance to reach a height formed the QC that commits it; cut
  // off right now, its proposal and timeouts carrying that QC reach no one.
  // With equivocators in the plan, the cut waits for a round whose successor
  // one of them leads: the others time out in the round they voted in, then
  // in the cut-off leader's round, and that TC hands the next round to the
  // equivocator, which is when an attack on the lock can work; such a cut
  // lasts at least aimed_cut_ms_min, so that the attack has the time to play out.
  void committed(NodeId id, Height height) {
    if (height <= highest_) return;
    highest_ = height;
    if (!running_ || partitioned_ || !rng_.chance(plan_.aimed_cut) || !equivocator_follows(id)) return;
    std::vector<NodeId> others;
    for (std::uint32_t i = 0; i < cluster_.size(); ++i) {
      if (NodeId(i) != id) others.push_back(NodeId(i));
    }
    partition_for(fault::OneWayCut{others, {id}}, plan_.equivocators.empty() ? 0 : aimed_cut_ms_min);
  }

  bool equivocator_follows(NodeId id) const {
    if (plan_.equivocators.empty()) return true;
    const Replica* replica = cluster_.node(id).replica();
    if (replica == nullptr) return false;
    const NodeId next = replica->leader(replica->round().next());
    return std::ranges::find(plan_.equivocators, next) != plan_.equivocators.end();
  }

  // One partition at a time; the heal ends it.
  void partition_for(const Fault& partition, TimeMs outage_ms_min = 0) {
    partitioned_ = true;
    act(partition);
    later(std::max(outage(), outage_ms_min), [this] {
      partitioned_ = false;
      apply(cluster_, fault::Heal{});
    });
  }

  void step() {
    if (!running_) return;
    schedule();
    const std::size_t n = cluster_.size();
    if (rng_.chance(plan_.partition) && !partitioned_) {
      std::vector<std::vector<NodeId>> groups(2);
      const bool isolate_one = rng_.chance(0.3);
      const NodeId lonely = any();
      for (std::uint32_t i = 0; i < n; ++i) {
        const bool first = isolate_one ? NodeId(i) == lonely : rng_.chance(0.5);
        groups[first ? 0 : 1].push_back(NodeId(i));
      }
      if (rng_.chance(0.3)) {
        // One-way: the first group cannot hear the second, but is heard.
        partition_for(fault::OneWayCut{groups[0], groups[1]});
      } else {
        partition_for(fault::Partition{groups});
      }
    }
    if (rng_.chance(plan_.crash)) {
      const NodeId id = any();
      if (cluster_.node(id).running()) {
        act(fault::Crash{id});
        restart_later(id);
      }
    }
    if (rng_.chance(plan_.pause)) {
      const NodeId id = any();
      if (cluster_.state(id) == NodeState::Up) {
        act(fault::Pause{id});
        repair_later(fault::Resume{id});
      }
    }
    if (rng_.chance(plan_.clog)) {
      const NodeId a = any(), b = any();
      act(fault::Clog{a, b, outage()});
    }
    if (rng_.chance(plan_.filter)) {
      const NodeId a = any(), b = any();
      KindFilter dropped{};
      dropped[rng_.below(message_kinds_count)] = true;
      act(fault::Filter{a, b, dropped});
      repair_later(fault::Filter{a, b, {}});
    }
    if (rng_.chance(plan_.link_faults)) {
      LinkFaults bad = plan_.links;
      bad.loss = 0.3 * rng_.unit();
      bad.duplicate = 0.1 * rng_.unit();
      bad.reorder = 0.3 * rng_.unit();
      const NodeId a = any(), b = any();
      act(fault::Links{a, b, bad});
      repair_later(fault::Links{a, b, plan_.links});
    }
    if (rng_.chance(plan_.corrupt)) {
      // A validator that lost its safety record signs nothing until the others
      // move past it (AmnesiaRule): it counts against the fault budget.
      const NodeId id = any();
      const NodeId v = cluster_.validator_of(id);
      const bool counted = !cluster_.honest(id) || corrupted_.contains(v);
      if (counted || 3 * (failed_weight_ + weights_[v.value]) < total_weight_) {
        if (!counted) failed_weight_ += weights_[v.value];
        corrupted_.insert(v);
        act(fault::CorruptSafetyRecord{id});
      }
    }
  }

  Cluster& cluster_;
  const FaultPlan& plan_;
  const std::vector<std::uint64_t>& weights_;
  std::uint64_t total_weight_ = 0;
  std::uint64_t failed_weight_ = 0;  // compromised, or amnesiac after a corrupted safety record
  std::set<NodeId> corrupted_;
  Rng rng_;
  bool running_ = true;
  bool partitioned_ = false;
  Height highest_{0};  // the highest height any instance committed
  std::uint64_t actions_ = 0;
  std::map<std::string, std::uint64_t> kinds_;
};

}  // namespace

// ---- a run -------------------------------------------------------------------

std::vector<std::uint64_t> buggify_weights(std::uint64_t seed) {
  Rng rng(seed ^ 0x6275676779736861ULL);
  const std::size_t n = 1 + rng.below(10);
  std::vector<std::uint64_t> weights(n, 1);
  switch (rng.below(4)) {
    case 0:
      break;  // equal
    case 1:
      for (auto& w : weights) w = 1 + rng.below(5);  // uneven
      break;
    case 2:
      weights[rng.below(n)] = 1 + rng.below(2 * n);  // one heavy validator, maybe a quorum alone
      break;
    default: {
      // A total divisible by 3: the boundary the quorum arithmetic protects.
      for (auto& w : weights) w = 1 + rng.below(3);
      const std::uint64_t total = std::accumulate(weights.begin(), weights.end(), std::uint64_t{0});
      weights.back() += (3 - total % 3) % 3;
    }
  }
  SYNOD_ASSERT(!weights.empty() && weights.size() <= 10);
  return weights;
}

void buggify_limits(std::uint64_t seed, ReplicaConfig& config) {
  Rng rng(seed ^ 0x6275676779696d74ULL);
  // Each limit is small or left alone, by the seed.
  const auto small = [&] { return rng.chance(0.5); };
  if (small()) config.tree_blocks_max = 8 + rng.below(56);
  if (small()) config.buffered_proposals_max = 1 + rng.below(8);
  if (small()) config.sync_blocks_max = 1 + rng.below(8);
  if (small()) config.sync_bytes_max = 1 + rng.below(4096);
  if (small()) config.committed_blocks_kept_max = 1 + rng.below(32);
  if (small()) config.vote_rounds_ahead_max = 2 + rng.below(8);
  if (small()) config.mempool.txs_max = 8 + rng.below(200);
  if (small()) config.mempool.bytes_max = 4096 + rng.below(65536);
  if (small()) config.mempool.nonce_ahead_max = 1 + rng.below(16);
  if (small()) config.mempool.gap_wait_rounds = rng.below(4);
  SYNOD_ASSERT(config.sync_blocks_max > 0 && config.committed_blocks_kept_max > 0);
}

RunResult run_simulation(const RunOptions& requested) {
  RunOptions options = requested;
  if (options.buggify) options.weights = buggify_weights(options.seed);
  RunResult result;
  result.weights = options.weights;
  result.plan = make_plan(options);
  const FaultPlan& plan = result.plan;

  ClusterOptions c;
  c.weights = options.weights;
  if (options.buggify) buggify_limits(options.seed, c.replica);
  c.seed = options.seed;
  c.links = plan.links;
  c.replica.round_timeout_ms = swarm_round_timeout_ms;
  c.replica.round_timeout_ms_max = swarm_round_timeout_ms_max;
  c.real_crypto = options.real_crypto;
  c.wire = options.wire;
  c.twins = plan.twins;
  c.equivocators = plan.equivocators;
  c.disk = plan.disk;
  c.crash_before_step = plan.crash_before_step;
  c.timeline = options.timeline;
  Cluster cluster(c);
  cluster.trace().set_keep(options.keep_trace);
  if (options.trace_sink) cluster.set_trace(options.trace_sink);

  Injector injector(cluster, plan, options.weights, options.seed);
  injector.start();
  cluster.set_load(options.load_tx_per_s);
  cluster.run_for(options.duration_ms);
  injector.stop();

  if (!options.unbounded && options.liveness_ms > 0) {
    // Liveness phase: every honest instance healed, restarted and resumed.
    heal_everything(cluster, plan.links);
    cluster.start_liveness(options.liveness_bound_ms);
    cluster.run_for(options.liveness_ms);
    cluster.check_liveness();
  }

  result.violations = cluster.violations();
  result.trace_hash = cluster.trace_hash();
  result.events = cluster.events_count();
  result.height = cluster.checker().canonical_height().value;
  result.committed_txs = cluster.checker().committed_txs();
  result.commit_latencies_ms = cluster.checker().commit_latencies_ms();
  result.faults = injector.actions();
  result.kinds = injector.kinds();
  if (!plan.twins.empty()) result.kinds["twins"] = plan.twins.size();
  if (const EquivocatorStats& e = cluster.equivocation(); e.proposals + e.votes + e.timeouts > 0) {
    result.kinds["equivocator"] = e.proposals + e.votes + e.timeouts;
  }
  result.virtual_ms = cluster.now();
  result.timeline = cluster.timeline();
  result.trace = cluster.trace().events();
  result.equivocation = cluster.equivocation();
  return result;
}

std::string reproduce_command(const RunOptions& o, std::string_view program) {
  std::ostringstream os;
  os << program << " --seed " << o.seed;
  if (o.buggify) {
    os << " --buggify";  // the seed draws the weights
  } else {
    os << " --weights ";
    for (std::size_t i = 0; i < o.weights.size(); ++i) os << (i ? "," : "") << o.weights[i];
  }
  os << " --duration " << o.duration_ms << "ms --liveness " << o.liveness_ms << "ms --load " << o.load_tx_per_s
     << " --profile " << to_string(o.profile);
  if (o.twins) os << " --twins " << *o.twins;
  if (o.unbounded) os << " --unbounded";
  if (o.real_crypto) os << " --real-crypto";
  if (o.wire) os << " --wire";
  return os.str();
}

DeterminismCheck check_determinism(RunOptions options) {
  options.keep_trace = true;
  options.trace_sink = nullptr;
  DeterminismCheck check{run_simulation(options), std::nullopt};
  const RunResult& first = check.run;
  const RunResult second = run_simulation(options);
  if (first.trace_hash == second.trace_hash && first.trace == second.trace) return check;
  const std::size_t common = std::min(first.trace.size(), second.trace.size());
  std::size_t i = 0;
  while (i < common && first.trace[i] == second.trace[i]) ++i;
  std::ostringstream os;
  os << "runs diverge at event " << i << ": ";
  os << (i < first.trace.size() ? to_string(first.trace[i]) : "(end)") << " vs ";
  os << (i < second.trace.size() ? to_string(second.trace[i]) : "(end)");
  check.divergence = os.str();
  return check;
}

void SweepTally::add(const RunResult& result) {
  ++runs;
  if (result.height == 0) ++runs_without_commits;
  for (const auto& [kind, count] : result.kinds) {
    if (count > 0) ++runs_with[kind];
  }
}

std::string SweepTally::describe() const {
  std::vector<std::pair<std::uint64_t, std::string>> by_count;
  for (const auto& [kind, count] : runs_with) by_count.emplace_back(count, kind);
  std::ranges::sort(by_count, [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::string out;
  for (const auto& [count, kind] : by_count) out += (out.empty() ? "" : ", ") + kind + " " + std::to_string(count);
  return out.empty() ? "no faults and no adversary" : out;
}

}  // namespace synod::sim
