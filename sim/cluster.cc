#include "sim/cluster.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "core/assert.h"
#include "core/sign_bytes.h"
#include "core/wire.h"

namespace synod::sim {

namespace {
// A client whose account nonce has not moved for this long assumes its
// in-flight transactions were lost (sent to a node that crashed) and resends.
constexpr TimeMs client_resync_ms = 3000;
constexpr TimeMs liveness_check_interval_ms = 1000;

std::string name(InstanceId id) { return "n" + std::to_string(id); }
}  // namespace

// The network endpoint of one instance: what it sends goes to every instance
// of the addressed validator.
class Cluster::Port final : public Network {
 public:
  Port(Cluster& cluster, InstanceId self) : cluster_(cluster), self_(self) {}
  void send(NodeId to, const MessagePtr& message) override { cluster_.route(self_, to, message); }

 private:
  Cluster& cluster_;
  InstanceId self_;
};

// One instance: its node, and what its driver sends through, which is the
// equivocator once its key is compromised that way.
struct Cluster::Instance final : Network {
  Instance(Cluster& cluster, InstanceId self) : port(cluster, self) {}
  void send(NodeId to, const MessagePtr& message) override {
    if (equivocator) {
      equivocator->send(to, message);
    } else {
      port.send(to, message);
    }
  }

  Port port;
  std::unique_ptr<Equivocator> equivocator;
  std::unique_ptr<SimNode> node;
};

Cluster::Cluster(ClusterOptions options)
    : options_(std::move(options)),
      scheduler_(options_.seed),
      scheme_(options_.real_crypto ? &ed25519_scheme() : &sim_scheme_),
      network_(scheduler_, options_.weights.size() + options_.twins.size(), options_.links,
               [this](const Packet& p) { arrive(p); }) {
  SYNOD_ASSERT(!options_.weights.empty());
  auto make_key = [&](const std::string& label) {
    return options_.real_crypto ? KeyPair::from_label(label) : sim_scheme_.key(label);
  };
  genesis_.chain_name = "synod-sim";
  for (std::size_t i = 0; i < options_.weights.size(); ++i) {
    keys_.push_back(make_key("validator-" + std::to_string(i)));
    genesis_.validators.push_back(Validator{keys_.back().public_key, Weight(options_.weights[i]),
                                            "sim:" + std::to_string(i), "simulated validator"});
  }
  for (std::size_t i = 0; i < options_.accounts; ++i) {
    accounts_.push_back(make_key("account-" + std::to_string(i)));
    genesis_.allocations.push_back(Allocation{accounts_.back().public_key, options_.account_balance});
  }
  chain_ = genesis_.chain_id();
  client_nonce_.assign(options_.accounts, 0);
  client_progress_.assign(options_.accounts, {0, 0});
  committed_nonce_.assign(options_.accounts, 0);
  for (std::size_t i = 0; i < accounts_.size(); ++i) account_index_.emplace(accounts_[i].public_key, i);

  std::set<NodeId> compromised(options_.twins.begin(), options_.twins.end());
  compromised.insert(options_.equivocators.begin(), options_.equivocators.end());
  for (std::size_t i = 0; i < options_.weights.size(); ++i) validator_of_.push_back(NodeId(static_cast<std::uint32_t>(i)));
  validator_of_.insert(validator_of_.end(), options_.twins.begin(), options_.twins.end());
  instances_of_.resize(options_.weights.size());
  for (InstanceId id = 0; id < validator_of_.size(); ++id) {
    const NodeId v = validator_of_[id];
    SYNOD_ASSERT(v.value < options_.weights.size());
    honest_.push_back(!compromised.contains(v));
    instances_of_[v.value].push_back(id);
  }
  checker_.emplace(genesis_, *scheme_, honest_);
  network_.set_hold(!options_.auto_deliver);

  for (InstanceId id = 0; id < validator_of_.size(); ++id) {
    add_instance(id, std::ranges::find(options_.equivocators, validator_of_[id]) != options_.equivocators.end());
  }
  for (auto& instance : instances_) instance->node->start();
  scheduler_.run_ready();
}

// The seeds are drawn in this order, equivocator first: a seed's run depends on it.
void Cluster::add_instance(InstanceId id, bool equivocates) {
  SYNOD_ASSERT(id == instances_.size());
  SYNOD_ASSERT(id < validator_of_.size());
  const NodeId v = validator_of_[id];
  auto instance = std::make_unique<Instance>(*this, id);
  versions_.push_back(1);
  if (equivocates) {
    instance->equivocator = std::make_unique<Equivocator>(instance->port, genesis_, v, keys_[v.value], *scheme_,
                                                          scheduler_.rng().next());
  }
  NodeSetup setup{id, v, keys_[v.value], &genesis_, scheme_, options_.replica, scheduler_.rng().next()};
  instance->node = std::make_unique<SimNode>(scheduler_, setup, *instance, static_cast<NodeObserver&>(*this));
  instance->node->set_disk(options_.disk);
  instance->node->set_crash_before_step(options_.crash_before_step);
  instances_.push_back(std::move(instance));
  SYNOD_ASSERT(instances_.size() == id + 1);
}

void Cluster::mark_compromised(NodeId v) {
  SYNOD_ASSERT(v.value < validators());
  for (InstanceId id : instances_of_[v.value]) {
    honest_[id] = false;
    checker_->compromise(id);
  }
}

NodeId Cluster::compromise(NodeId v) {
  SYNOD_ASSERT(v.value < validators());
  SYNOD_ASSERT(options_.auto_deliver);
  const InstanceId id = network_.add_instance(options_.links);
  SYNOD_ASSERT(id == instances_.size());
  mark_compromised(v);
  validator_of_.push_back(v);
  instances_of_[v.value].push_back(id);
  honest_.push_back(false);
  SYNOD_ASSERT(checker_->add_instance(false) == id);
  record(EventKind::Fault, id, 4, v.value);
  open_fault("twin:" + name(id), name(id) + ": a twin of validator " + std::to_string(v.value), {id});
  add_instance(id, false);
  instances_.back()->node->start();
  scheduler_.run_ready();
  SYNOD_ASSERT(size() == validator_of_.size());
  return NodeId(id);
}

void Cluster::equivocate(NodeId v) {
  SYNOD_ASSERT(v.value < validators());
  mark_compromised(v);
  record(EventKind::Fault, v.value, 5, 0);
  for (InstanceId id : instances_of_[v.value]) {
    Instance& instance = *instances_[id];
    if (instance.equivocator) continue;
    instance.equivocator = std::make_unique<Equivocator>(instance.port, genesis_, v, keys_[v.value], *scheme_,
                                                         scheduler_.rng().next());
    open_fault("equivocator:" + name(id), name(id) + " equivocates", {id});
  }
}

std::size_t Cluster::backup(NodeId id) {
  SYNOD_ASSERT(id.value < size());
  backups_.push_back(node(id).store().backup());
  record(EventKind::Fault, id.value, 8, backups_.size() - 1);
  if (trace_.has_sink()) trace_.line([&] { return "backup " + name(id.value) + " at height " + std::to_string(backups_.back().committed.size()); });
  return backups_.size() - 1;
}

void Cluster::restore(NodeId id, std::size_t backup) {
  SYNOD_ASSERT(id.value < size());
  SYNOD_ASSERT(backup < backups_.size());
  SYNOD_ASSERT(state(id) == NodeState::Down);
  const SimStore::Backup& b = backups_[backup];
  record(EventKind::Fault, id.value, 9, backup);
  open_fault("restore:" + name(id.value), "restore " + name(id.value) + " to height " + std::to_string(b.committed.size()), {id.value});
  close_fault("restore:" + name(id.value));
  node_at(id).store().restore(b);
  checker_->on_restore(id.value, Height(b.committed.size()));
  SYNOD_ASSERT(committed_height(id) == Height(b.committed.size()));
}

void Cluster::upgrade(NodeId id) {
  SYNOD_ASSERT(id.value < size());
  SYNOD_ASSERT(state(id) == NodeState::Down);
  ++versions_[id.value];
  record(EventKind::Fault, id.value, 10, versions_[id.value]);
  if (trace_.has_sink()) trace_.line([&] { return "upgrade " + name(id.value) + " to version " + std::to_string(versions_[id.value]); });
  SYNOD_ASSERT(versions_[id.value] > 1);
}

std::uint64_t Cluster::total_weight() const {
  return std::accumulate(options_.weights.begin(), options_.weights.end(), std::uint64_t{0});
}

std::uint64_t Cluster::compromised_weight() const {
  std::uint64_t weight = 0;
  for (std::uint32_t v = 0; v < validators(); ++v) {
    const auto& ids = instances_of_[v];
    if (std::ranges::any_of(ids, [&](InstanceId id) { return !honest_[id]; })) weight += options_.weights[v];
  }
  SYNOD_ASSERT(weight <= total_weight());
  return weight;
}

Cluster::~Cluster() {
  for (auto& instance : instances_) instance->node->crash();
}

const SimNode& Cluster::node(NodeId node) const { return *instances_.at(node.value)->node; }
SimNode& Cluster::node_at(NodeId node) { return *instances_.at(node.value)->node; }

NodeId Cluster::validator_of(NodeId instance) const { return validator_of_.at(instance.value); }

EquivocatorStats Cluster::equivocation() const {
  EquivocatorStats total;
  for (const auto& instance : instances_) {
    if (!instance->equivocator) continue;
    total.proposals += instance->equivocator->stats().proposals;
    total.votes += instance->equivocator->stats().votes;
    total.timeouts += instance->equivocator->stats().timeouts;
    total.withheld += instance->equivocator->stats().withheld;
  }
  return total;
}

// ---- events ----------------------------------------------------------------

void Cluster::record(EventKind kind, std::uint32_t a, std::uint32_t b, std::uint64_t detail) {
  trace_.record(TraceEvent{now(), kind, a, b, detail});
}

void Cluster::open_fault(const std::string& key, const std::string& what, std::vector<InstanceId> instances) {
  record(EventKind::Fault, instances.empty() ? 0 : instances.front(), static_cast<std::uint32_t>(instances.size()),
         what.size());
  if (trace_.has_sink()) trace_.line([&] { return what; });
  if (!options_.timeline) return;
  close_fault(key);
  open_faults_[key] = timeline_.faults.size();
  timeline_.faults.push_back(Timeline::Span{now(), never, what, std::move(instances)});
}

void Cluster::close_fault(const std::string& key) {
  const auto it = open_faults_.find(key);
  if (it == open_faults_.end()) return;
  timeline_.faults[it->second].end = now();
  open_faults_.erase(it);
}

// ---- nodes -----------------------------------------------------------------

void Cluster::on_boot(InstanceId id, const Recovery& recovery) {
  checker_->on_boot(id, now(), recovery);
  if (recovery.safety_lost && trace_.has_sink()) {
    trace_.line([&] { return name(id) + " boots without its safety record: " + to_string(*recovery.safety_lost); });
  }
}

void Cluster::on_refused(InstanceId id, const StoreError& error) {
  record(EventKind::Refused, id, 0, static_cast<std::uint64_t>(error.kind));
  if (trace_.has_sink()) trace_.line([&] { return name(id) + " refuses to start: " + to_string(error); });
}

void Cluster::on_commits(InstanceId id, const std::vector<CommittedBlock>& commits) {
  for (const CommittedBlock& c : commits) {
    record(EventKind::Commit, id, static_cast<std::uint32_t>(c.block->height().value), fingerprint(c.block->id));
    if (c.block->height().value > committed_nonce_height_) {
      committed_nonce_height_ = c.block->height().value;
      for (std::size_t i = 0; i < c.block->txs.size(); ++i) {
        if (c.outcome.txs[i].error) continue;  // failed: the nonce did not move
        const Transaction& tx = c.block->txs[i];
        if (const std::size_t* account = account_index_.find(tx.sender)) {
          committed_nonce_[*account] = std::max(committed_nonce_[*account], tx.nonce + 1);
        }
      }
    }
    if (options_.timeline) timeline_.commits.push_back(Timeline::Commit{now(), id, c.block->height().value});
    if (trace_.has_sink()) {
      trace_.line([&] {
        std::ostringstream line;
        line << name(id) << " commit " << c.block->height() << " " << c.block->round << " b:" << c.block->id
             << " txs:" << c.block->txs.size() << " root:" << c.outcome.state_root;
        return line.str();
      });
    }
  }
  const Replica* r = node_at(NodeId(id)).replica();
  SYNOD_ASSERT(r != nullptr);
  checker_->on_commits(id, now(), commits, r->ledger().total_balance());
  if (commit_listener_ && !commits.empty()) commit_listener_(NodeId(id), commits.back().block->height());
}

void Cluster::on_replies(InstanceId, const std::vector<ClientResponse>& replies) {
  for (const ClientResponse& reply : replies) {
    if (awaited_.erase(reply.id)) replies_.emplace(reply.id, reply);
  }
}

void Cluster::on_tick(InstanceId id) { record(EventKind::Tick, id, 0, 0); }

void Cluster::on_crashed(InstanceId id) {
  record(EventKind::Crash, id, 1, 0);
  open_fault("down:" + name(id), "crash " + name(id) + " (inside the driver)", {id});
  if (crash_listener_) crash_listener_(NodeId(id));
}

void Cluster::crash(NodeId id) {
  if (!node(id).running()) return;
  record(EventKind::Crash, id.value, 0, 0);
  open_fault("down:" + name(id.value), "crash " + name(id.value), {id.value});
  node_at(id).crash();
}

void Cluster::restart(NodeId id) {
  if (state(id) != NodeState::Down) return;
  record(EventKind::Restart, id.value, 0, 0);
  if (trace_.has_sink()) trace_.line([&] { return "restart " + name(id.value); });
  close_fault("down:" + name(id.value));
  node_at(id).start();
  scheduler_.run_ready();
}

void Cluster::pause(NodeId id) {
  if (state(id) != NodeState::Up) return;
  open_fault("pause:" + name(id.value), "pause " + name(id.value), {id.value});
  node_at(id).pause();
}

void Cluster::resume(NodeId id) {
  if (state(id) != NodeState::Paused) return;
  record(EventKind::Fault, id.value, 0, 1);
  close_fault("pause:" + name(id.value));
  node_at(id).resume();
  scheduler_.run_ready();
}

bool Cluster::is_up(NodeId id) const { return node(id).replica() != nullptr; }
NodeState Cluster::state(NodeId id) const { return node(id).state(); }
const Replica* Cluster::replica(NodeId id) const { return node(id).replica(); }
const SimStore& Cluster::store(NodeId id) const { return node(id).store(); }
Height Cluster::committed_height(NodeId id) const { return store(id).committed_height(); }

Height Cluster::min_committed_height() const {
  Height h(std::numeric_limits<std::uint64_t>::max());
  for (std::uint32_t i = 0; i < size(); ++i) {
    if (is_up(NodeId(i))) h = std::min(h, committed_height(NodeId(i)));
  }
  return h;
}

void Cluster::skew_clock(NodeId id, std::int64_t skew_ms, std::int64_t drift_ppm) {
  record(EventKind::Fault, id.value, 2, static_cast<std::uint64_t>(drift_ppm));
  node_at(id).clock().set(skew_ms, drift_ppm);
}

bool Cluster::corrupt_safety_record(NodeId id) {
  record(EventKind::Fault, id.value, 3, 0);
  open_fault("corrupt:" + name(id.value), "corrupt safety record " + name(id.value), {id.value});
  close_fault("corrupt:" + name(id.value));
  return node_at(id).store().corrupt_safety_record();
}

void Cluster::set_crash_before_step(double probability) {
  for (auto& instance : instances_) instance->node->set_crash_before_step(probability);
}

void Cluster::crash_before(NodeId id, Driver::Step step) {
  SYNOD_ASSERT(id.value < size());
  record(EventKind::Fault, id.value, 7, static_cast<std::uint64_t>(step));
  node_at(id).crash_before_next(step);
}

void Cluster::start_liveness(TimeMs bound_ms) {
  std::vector<InstanceId> healed;
  for (InstanceId i = 0; i < size(); ++i) {
    if (honest_[i] && state(NodeId(i)) != NodeState::Refused) healed.push_back(i);
  }
  checker_->start_liveness(now(), std::move(healed), bound_ms);
  if (liveness_ticking_) return;
  liveness_ticking_ = true;
  scheduler_.at(now() + liveness_check_interval_ms, [this] { liveness_tick(); });
}

void Cluster::liveness_tick() {
  checker_->check_liveness(now());
  scheduler_.at(now() + liveness_check_interval_ms, [this] { liveness_tick(); });
}

// ---- network ---------------------------------------------------------------

void Cluster::route(InstanceId source, NodeId to, const MessagePtr& message) {
  if (to.value >= instances_of_.size()) return;  // no such validator: nobody hears it
  const MessagePtr sent = options_.wire ? transcode(message) : message;
  const NodeId from = validator_of_[source];
  // A broadcast reaches here once per validator: the checker sees it once.
  if (checked_sent_ != message) {
    checked_sent_ = message;
    checker_->on_sent(source, from, now(), *message);
  }
  for (InstanceId target : instances_of_[to.value]) {
    if (versions_[source] != versions_[target]) {
      ++refused_version_;
      continue;
    }
    if (trace_.has_sink()) {
      trace_.line([&] {
        return name(source) + " -> " + name(target) + " " + describe(*sent) +
               (network_.is_cut(source, target) ? " (dropped: partition)" : "");
      });
    }
    network_.send(Packet{source, target, from, sent});
  }
}

// Encodes and decodes the message as a peer link would. Our own messages must
// always decode: anything else is a codec bug.
MessagePtr Cluster::transcode(const MessagePtr& message) {
  if (transcoded_.first == message) return transcoded_.second;
  auto decoded = decode_message(scheme_->digest(), chain_, genesis_.params, encode(*message));
  SYNOD_ASSERT(decoded.has_value());
  transcoded_ = {message, std::make_shared<const Message>(std::move(*decoded))};
  return transcoded_.second;
}

void Cluster::arrive(const Packet& p) {
  record(EventKind::Deliver, p.target, p.source, fingerprint(*p.message));
  Instance& instance = *instances_.at(p.target);
  if (instance.equivocator) instance.equivocator->observe(*p.message);
  instance.node->deliver(p);
}

void Cluster::partition(const std::vector<std::vector<NodeId>>& groups) {
  std::vector<std::vector<InstanceId>> ids;
  std::string what = "partition";
  for (const auto& group : groups) {
    ids.emplace_back();
    what += " [";
    for (NodeId n : group) {
      ids.back().push_back(n.value);
      what += " " + name(n.value);
    }
    what += " ]";
  }
  open_fault("partition", what, {});
  network_.partition(ids);
}

void Cluster::cut_one_way(const std::vector<NodeId>& deaf, const std::vector<NodeId>& heard) {
  std::string what = "one-way cut:";
  for (NodeId n : deaf) what += " " + name(n.value);
  what += " cannot hear";
  for (NodeId n : heard) what += " " + name(n.value);
  open_fault("partition", what, {});
  for (NodeId a : heard) {
    for (NodeId b : deaf) network_.cut(a.value, b.value, true);
  }
}

void Cluster::isolate(NodeId node) {
  SYNOD_ASSERT(node.value < size());
  open_fault("partition", "isolate " + name(node.value), {node.value});
  for (InstanceId other = 0; other < size(); ++other) {
    if (other == node.value) continue;
    network_.cut(node.value, other, true);
    network_.cut(other, node.value, true);
  }
}

void Cluster::heal() {
  record(EventKind::Fault, 0, 0, 2);
  if (trace_.has_sink()) trace_.line([] { return std::string("heal"); });
  for (auto it = open_faults_.begin(); it != open_faults_.end();) {
    const std::string key = (it++)->first;
    if (key == "partition" || key.starts_with("link")) close_fault(key);
  }
  network_.heal({}, options_.links);
}

void Cluster::set_links(const LinkFaults& faults) {
  SYNOD_ASSERT(faults.latency_ms_min <= faults.latency_ms_max);
  record(EventKind::Fault, 0, 6, faults.latency_ms_max);
  if (trace_.has_sink()) {
    trace_.line([&] {
      return "links: latency " + std::to_string(faults.latency_ms_min) + "-" + std::to_string(faults.latency_ms_max) +
             " ms, loss " + std::to_string(faults.loss);
    });
  }
  options_.links = faults;
  network_.set_all_faults(faults);
}

void Cluster::set_link_faults(const LinkFaults& faults) {
  open_fault("links", "link faults", {});
  network_.set_all_faults(faults);
}

// ---- running ---------------------------------------------------------------

void Cluster::run_for(TimeMs duration_ms) { scheduler_.run_until(now() + duration_ms); }

bool Cluster::run_until(const std::function<bool()>& done, TimeMs timeout_ms) {
  const TimeMs end = now() + timeout_ms;
  while (!done()) {
    if (now() >= end) return false;
    run_for(std::min<TimeMs>(100, end - now()));
  }
  return true;
}

void Cluster::advance(TimeMs duration_ms) { scheduler_.run_until(now() + duration_ms); }

void Cluster::deliver_queued(const std::function<bool(const Packet&)>& which) {
  std::vector<Packet> queued = std::exchange(network_.held(), {});
  for (Packet& p : queued) {
    if (which(p)) {
      arrive(p);
      scheduler_.run_ready();
    } else {
      network_.held().push_back(std::move(p));
    }
  }
}

void Cluster::drop_queued(const std::function<bool(const Packet&)>& which) {
  // A message to oneself crosses no wire and cannot be lost.
  std::erase_if(network_.held(), [&](const Packet& p) { return p.source != p.target && which(p); });
}

// ---- clients ---------------------------------------------------------------

ClientResponse Cluster::request(NodeId via, const ClientRequest& request) {
  SYNOD_ASSERT(state(via) == NodeState::Up);
  record(EventKind::Request, via.value, 0, request.id);
  awaited_.insert(request.id);
  node_at(via).request(request);
  scheduler_.run_ready();
  const auto it = replies_.find(request.id);
  SYNOD_ASSERT(it != replies_.end());
  ClientResponse response = std::move(it->second);
  replies_.erase(it);
  return response;
}

ClientResponse Cluster::submit_transfer(NodeId via, std::size_t from_account, std::size_t to_account,
                                        std::uint64_t amount) {
  return request(via, ClientRequest{++request_id_, SubmitTx{client_transfer(from_account, to_account, amount)}});
}

Transaction Cluster::client_transfer(std::size_t from, std::size_t to, std::uint64_t amount) {
  Transaction tx{accounts_.at(from).public_key, client_nonce_.at(from)++, Transfer{accounts_.at(to).public_key, amount}, {}};
  const TxHash hash = sign_tx(*scheme_, chain_, accounts_[from], tx, scratch_);
  checker_->on_submitted(hash, tx.sig, now());
  return tx;
}

void Cluster::set_load(std::uint32_t tx_per_s) {
  SYNOD_ASSERT(tx_per_s <= load_tx_per_s_max);
  load_tx_per_s_ = tx_per_s;
  load_start_ms_ = now();
  load_count_ = 0;
  if (tx_per_s > 0 && !load_timer_) schedule_load();
}

// The k-th transaction since set_load goes at start + k * 1000 / rate ms,
// rounded down: the average rate is exact whatever the rate (several in one
// millisecond above 1,000 per second), and for a rate dividing 1,000 the
// ticks fall every 1000 / rate ms.
void Cluster::schedule_load() {
  ++load_count_;
  const TimeMs at = load_start_ms_ + load_count_ * 1000 / load_tx_per_s_;
  load_timer_ = scheduler_.at(std::max(at, now()), [this] { load_tick(); });
}

void Cluster::load_tick() {
  load_timer_.reset();
  if (load_tx_per_s_ == 0) return;
  schedule_load();
  std::vector<NodeId>& up = load_up_;
  up.clear();
  for (std::uint32_t i = 0; i < size(); ++i) {
    if (state(NodeId(i)) == NodeState::Up && is_up(NodeId(i))) up.push_back(NodeId(i));
  }
  if (up.empty() || accounts_.size() < 2) return;
  const std::size_t from = load_next_account_++ % accounts_.size();
  const NodeId via = up[load_next_node_++ % up.size()];
  const std::uint64_t ledger_nonce = committed_nonce_[from];
  auto& [seen_nonce, seen_ms] = client_progress_[from];
  if (ledger_nonce != seen_nonce) {
    seen_nonce = ledger_nonce;
    seen_ms = now();
  }
  if (client_nonce_[from] < ledger_nonce ||
      (client_nonce_[from] > ledger_nonce && now() - seen_ms > client_resync_ms)) {
    client_nonce_[from] = ledger_nonce;
    seen_ms = now();
  }
  Rng& rng = scheduler_.rng();
  const std::size_t to = (from + 1 + rng.below(accounts_.size() - 1)) % accounts_.size();
  Transaction tx = client_transfer(from, to, 1 + rng.below(100));
  record(EventKind::Request, via.value, 1, tx.nonce);
  node_at(via).request(ClientRequest{++request_id_, SubmitTx{std::move(tx)}});
}

// ---- checks ----------------------------------------------------------------

std::vector<std::string> Cluster::violations() const {
  std::vector<std::string> found;
  for (const Violation& v : checker_->violations()) {
    found.push_back("t=" + std::to_string(v.at) + "ms " + v.what);
  }
  return found;
}

}  // namespace synod::sim
