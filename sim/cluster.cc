#include "sim/cluster.h"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>
#include <variant>

#include "core/assert.h"
#include "core/sign_bytes.h"

namespace synod::sim {

namespace {
constexpr TimeMs never = std::numeric_limits<TimeMs>::max();
// A client whose account nonce has not moved for this long assumes its
// in-flight transactions were lost (sent to a node that crashed) and resends.
constexpr TimeMs client_resync_ms = 3000;

class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(const TimeMs& now) : now_(now) {}
  TimeMs now() const override { return now_; }

 private:
  const TimeMs& now_;
};
}  // namespace

struct Cluster::Event {
  struct Deliver {
    InFlight message;
  };
  struct Wake {
    NodeId node;
    TimeMs at;
  };
  struct Load {};
  std::variant<Deliver, Wake, Load> body;
};

class Cluster::NodeNetwork final : public Network {
 public:
  NodeNetwork(Cluster& cluster, NodeId self) : cluster_(cluster), self_(self) {}
  void send(NodeId to, const MessagePtr& message) override { cluster_.send(self_, to, message); }

 private:
  Cluster& cluster_;
  NodeId self_;
};

class Cluster::NodeSubscriber final : public Subscriber {
 public:
  NodeSubscriber(Cluster& cluster, NodeId self) : cluster_(cluster), self_(self) {}
  void on_commits(const std::vector<CommittedBlock>& commits) override {
    if (!cluster_.trace_) return;
    for (const CommittedBlock& c : commits) {
      std::ostringstream line;
      line << self_ << " commit " << c.block->height() << " " << c.block->round << " b:" << c.block->id
           << " txs:" << c.block->txs.size() << " root:" << c.outcome.state_root;
      cluster_.emit(line.str());
    }
  }
  void on_replies(const std::vector<ClientResponse>& replies) override {
    last_replies.insert(last_replies.end(), replies.begin(), replies.end());
  }
  std::vector<ClientResponse> last_replies;

 private:
  Cluster& cluster_;
  NodeId self_;
};

struct Cluster::Node {
  MemStore store;
  std::unique_ptr<NodeNetwork> network;
  std::unique_ptr<NodeSubscriber> subscriber;
  std::unique_ptr<VirtualClock> clock;
  std::unique_ptr<Replica> replica;
  std::unique_ptr<Driver> driver;
  TimeMs wake_at = never;
};

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)), rng_(options_.seed) {
  SYNOD_ASSERT(!options_.weights.empty());
  SYNOD_ASSERT(options_.latency_ms_min <= options_.latency_ms_max);
  genesis_.chain_name = "synod-sim";
  for (std::size_t i = 0; i < options_.weights.size(); ++i) {
    keys_.push_back(KeyPair::from_label("validator-" + std::to_string(i)));
    genesis_.validators.push_back(Validator{keys_.back().public_key, Weight(options_.weights[i]),
                                            "sim:" + std::to_string(i), "simulated validator"});
  }
  for (std::size_t i = 0; i < options_.accounts; ++i) {
    accounts_.push_back(KeyPair::from_label("account-" + std::to_string(i)));
    genesis_.allocations.push_back(Allocation{accounts_.back().public_key, options_.account_balance});
  }
  client_nonce_.assign(options_.accounts, 0);
  client_progress_.assign(options_.accounts, {0, 0});
  for (std::size_t i = 0; i < options_.weights.size(); ++i) {
    nodes_.push_back(std::make_unique<Node>());
    boot(NodeId(static_cast<std::uint32_t>(i)));
  }
}

Cluster::~Cluster() = default;

std::uint64_t Cluster::draw(std::uint64_t bound) {
  SYNOD_ASSERT(bound > 0);
  return rng_() % bound;
}

void Cluster::emit(const std::string& line) const {
  if (trace_) trace_(line);
}

// ---- nodes -----------------------------------------------------------------

void Cluster::boot(NodeId id) {
  Node& node = *nodes_.at(id.value);
  SYNOD_ASSERT(node.replica == nullptr);
  node.network = std::make_unique<NodeNetwork>(*this, id);
  node.subscriber = std::make_unique<NodeSubscriber>(*this, id);
  node.clock = std::make_unique<VirtualClock>(now_);
  node.replica = std::make_unique<Replica>(genesis_, id, keys_[id.value], ed25519_scheme(), options_.replica,
                                           node.store.load(), now_);
  node.driver = std::make_unique<Driver>(*node.replica, *node.clock, *node.network, node.store,
                                         node.subscriber.get());
  node.wake_at = never;
  schedule_wake(id);
}

void Cluster::crash(NodeId id) {
  Node& node = *nodes_.at(id.value);
  if (!node.replica) return;
  emit(std::string("crash ") + (std::ostringstream() << id).str());
  node.driver.reset();
  node.replica.reset();
  node.wake_at = never;
}

void Cluster::restart(NodeId id) {
  if (is_up(id)) return;
  emit(std::string("restart ") + (std::ostringstream() << id).str());
  boot(id);
}

bool Cluster::is_up(NodeId id) const { return nodes_.at(id.value)->replica != nullptr; }

const Replica* Cluster::replica(NodeId id) const { return nodes_.at(id.value)->replica.get(); }
const MemStore& Cluster::store(NodeId id) const { return nodes_.at(id.value)->store; }

Height Cluster::committed_height(NodeId id) const {
  return Height(nodes_.at(id.value)->store.committed().size());
}

Height Cluster::min_committed_height() const {
  Height h(std::numeric_limits<std::uint64_t>::max());
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    if (is_up(NodeId(i))) h = std::min(h, committed_height(NodeId(i)));
  }
  return h;
}

// ---- network ---------------------------------------------------------------

void Cluster::partition(const std::vector<std::vector<NodeId>>& groups) {
  group_.assign(nodes_.size(), -1);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (NodeId n : groups[g]) group_.at(n.value) = static_cast<int>(g);
  }
}

void Cluster::heal() { group_.clear(); }

bool Cluster::linked(NodeId from, NodeId to) const {
  if (group_.empty()) return true;
  return group_[from.value] >= 0 && group_[from.value] == group_[to.value];
}

void Cluster::send(NodeId from, NodeId to, const MessagePtr& message) {
  if (trace_) {
    std::ostringstream line;
    line << from << " -> " << to << " " << describe(*message);
    if (!linked(from, to)) line << " (dropped: partition)";
    emit(line.str());
  }
  if (!linked(from, to)) return;
  InFlight m{from, to, message};
  if (!options_.auto_deliver) {
    in_flight_.push_back(std::move(m));
    return;
  }
  const TimeMs latency = options_.latency_ms_min + draw(options_.latency_ms_max - options_.latency_ms_min + 1);
  events_.emplace(std::pair(now_ + latency, sequence_++), Event{Event::Deliver{std::move(m)}});
}

void Cluster::deliver(const InFlight& m) {
  Node& node = *nodes_.at(m.to.value);
  if (!node.driver || !linked(m.from, m.to)) return;
  ++events_count_;
  node.driver->deliver(m.from, *m.message);
  after_call(m.to);
}

void Cluster::after_call(NodeId id) {
  Node& node = *nodes_.at(id.value);
  if (node.driver && node.driver->crashed()) return crash(id);
  schedule_wake(id);
}

void Cluster::schedule_wake(NodeId id) {
  Node& node = *nodes_.at(id.value);
  if (!node.driver) return;
  const TimeMs at = node.driver->next_deadline();
  if (at == node.wake_at) return;
  node.wake_at = at;
  if (options_.auto_deliver) {
    events_.emplace(std::pair(std::max(at, now_), sequence_++), Event{Event::Wake{id, at}});
  }
}

void Cluster::wake(NodeId id) {
  Node& node = *nodes_.at(id.value);
  if (!node.driver) return;
  ++events_count_;
  node.wake_at = never;
  node.driver->tick();
  after_call(id);
}

// ---- running ---------------------------------------------------------------

void Cluster::run_for(TimeMs duration_ms) {
  const TimeMs end = now_ + duration_ms;
  while (!events_.empty() && events_.begin()->first.first <= end) {
    auto it = events_.begin();
    now_ = std::max(now_, it->first.first);
    Event event = std::move(it->second);
    events_.erase(it);
    if (auto* d = std::get_if<Event::Deliver>(&event.body)) {
      deliver(d->message);
    } else if (auto* w = std::get_if<Event::Wake>(&event.body)) {
      if (nodes_.at(w->node.value)->wake_at == w->at) wake(w->node);
    } else {
      load_tick();
    }
  }
  now_ = end;
}

bool Cluster::run_until(const std::function<bool()>& done, TimeMs timeout_ms) {
  const TimeMs end = now_ + timeout_ms;
  while (!done()) {
    if (now_ >= end) return false;
    run_for(std::min<TimeMs>(100, end - now_));
  }
  return true;
}

void Cluster::advance(TimeMs duration_ms) {
  now_ += duration_ms;
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = *nodes_[i];
    if (node.driver && node.wake_at <= now_) wake(NodeId(i));
  }
}

void Cluster::deliver_queued(const std::function<bool(const InFlight&)>& which) {
  std::vector<InFlight> now_queued = std::exchange(in_flight_, {});
  for (InFlight& m : now_queued) {
    if (which(m)) {
      deliver(m);
    } else {
      in_flight_.push_back(std::move(m));
    }
  }
}

void Cluster::drop_queued(const std::function<bool(const InFlight&)>& which) {
  std::erase_if(in_flight_, which);
}

// ---- clients ---------------------------------------------------------------

ClientResponse Cluster::request(NodeId via, const ClientRequest& request) {
  Node& node = *nodes_.at(via.value);
  SYNOD_ASSERT(node.driver != nullptr);
  ++events_count_;
  node.subscriber->last_replies.clear();
  node.driver->request(request);
  SYNOD_ASSERT(node.subscriber->last_replies.size() == 1);
  ClientResponse response = node.subscriber->last_replies.front();
  after_call(via);
  return response;
}

ClientResponse Cluster::submit_transfer(NodeId via, std::size_t from_account, std::size_t to_account,
                                        std::uint64_t amount) {
  Transaction tx;
  tx.sender = accounts_.at(from_account).public_key;
  tx.nonce = client_nonce_.at(from_account)++;
  tx.op = Transfer{accounts_.at(to_account).public_key, amount};
  tx.sig = ed25519_scheme().sign(accounts_[from_account], tx_sign_bytes(genesis_.chain_id(), tx));
  return request(via, ClientRequest{++request_id_, SubmitTx{std::move(tx)}});
}

void Cluster::set_load(std::uint32_t tx_per_s) {
  const bool was_running = load_interval_ms_ > 0;
  load_interval_ms_ = tx_per_s == 0 ? 0 : std::max<TimeMs>(1, 1000 / tx_per_s);
  if (load_interval_ms_ > 0 && !was_running) {
    events_.emplace(std::pair(now_ + load_interval_ms_, sequence_++), Event{Event::Load{}});
  }
}

void Cluster::load_tick() {
  if (load_interval_ms_ == 0) return;
  events_.emplace(std::pair(now_ + load_interval_ms_, sequence_++), Event{Event::Load{}});
  std::vector<NodeId> up;
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    if (is_up(NodeId(i))) up.push_back(NodeId(i));
  }
  if (up.empty() || accounts_.size() < 2) return;
  const std::size_t from = load_next_account_++ % accounts_.size();
  const NodeId via = up[load_next_node_++ % up.size()];
  std::uint64_t ledger_nonce = 0;
  for (NodeId n : up) {
    const auto account = replica(n)->ledger().account(accounts_[from].public_key);
    ledger_nonce = std::max(ledger_nonce, account.value_or(Account{}).nonce);
  }
  auto& [seen_nonce, seen_ms] = client_progress_[from];
  if (ledger_nonce != seen_nonce) {
    seen_nonce = ledger_nonce;
    seen_ms = now_;
  }
  if (client_nonce_[from] < ledger_nonce ||
      (client_nonce_[from] > ledger_nonce && now_ - seen_ms > client_resync_ms)) {
    client_nonce_[from] = ledger_nonce;
    seen_ms = now_;
  }
  const std::size_t to = (from + 1 + draw(accounts_.size() - 1)) % accounts_.size();
  (void)submit_transfer(via, from, to, 1 + draw(100));
}

// ---- checks ----------------------------------------------------------------

std::vector<std::string> Cluster::violations() const {
  std::vector<std::string> found;
  auto report = [&](const std::string& what) { found.push_back(what); };
  std::size_t longest = 0;
  for (const auto& node : nodes_) longest = std::max(longest, node->store.committed().size());
  for (std::size_t h = 0; h < longest; ++h) {
    const CommittedBlock* first = nullptr;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
      const auto& chain = nodes_[i]->store.committed();
      if (h >= chain.size()) continue;
      if (!first) {
        first = &chain[h];
      } else if (chain[h].block->id != first->block->id) {
        report("agreement: n" + std::to_string(i) + " committed a different block at height " +
               std::to_string(h + 1));
      } else if (chain[h].outcome.state_root != first->outcome.state_root) {
        report("state: n" + std::to_string(i) + " has a different state root at height " +
               std::to_string(h + 1));
      }
    }
  }
  BalanceSum total = 0;
  for (const Allocation& a : genesis_.allocations) total += a.balance;
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
    std::set<TxHash> executed;
    for (const CommittedBlock& c : nodes_[i]->store.committed()) {
      for (const TxOutcome& o : c.outcome.txs) {
        if (!o.error && !executed.insert(o.hash).second) {
          report("n" + std::to_string(i) + " executed a transaction twice");
        }
      }
    }
    if (const Replica* r = replica(NodeId(i))) {
      if (r->ledger().total_balance() != total) report("n" + std::to_string(i) + " does not conserve balance");
      if (r->committed_height() != committed_height(NodeId(i))) {
        report("n" + std::to_string(i) + " live height differs from its store");
      }
    }
  }
  return found;
}

}  // namespace synod::sim
