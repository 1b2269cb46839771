#include "sim/sim_node.h"

#include "core/assert.h"

namespace synod::sim {

// ---- SimClock --------------------------------------------------------------

namespace {
constexpr std::int64_t ppm = 1'000'000;
}

TimeMs SimClock::local(TimeMs virtual_ms) const {
  const auto elapsed = static_cast<std::int64_t>(virtual_ms - anchor_virtual_);
  return anchor_local_ + static_cast<TimeMs>(elapsed + elapsed * drift_ppm_ / ppm);
}

void SimClock::set(std::int64_t skew_ms, std::int64_t drift_ppm) {
  SYNOD_ASSERT(drift_ppm > -ppm / 2);
  SYNOD_ASSERT(drift_ppm < ppm);
  const TimeMs now_virtual = scheduler_.now();
  const TimeMs now_local = local(now_virtual);
  // The local clock never runs backwards: a smaller skew only slows it down from here.
  anchor_local_ = std::max(now_local, static_cast<TimeMs>(std::max<std::int64_t>(0, static_cast<std::int64_t>(now_virtual) + skew_ms)));
  anchor_virtual_ = now_virtual;
  drift_ppm_ = drift_ppm;
}

TimeMs SimClock::to_virtual(TimeMs local_ms) const {
  if (local_ms == never) return never;
  const TimeMs now_virtual = scheduler_.now();
  if (local(now_virtual) >= local_ms) return now_virtual;
  const auto ahead = static_cast<std::int64_t>(local_ms - anchor_local_);
  // Without drift, no division: a node converts a deadline on every wait.
  TimeMs v = anchor_virtual_ + static_cast<TimeMs>(drift_ppm_ == 0 ? ahead : ahead * ppm / (ppm + drift_ppm_));
  v = std::max(v, now_virtual);
  while (local(v) < local_ms) ++v;
  return v;
}

std::string_view to_string(NodeState s) {
  switch (s) {
    case NodeState::Down: return "down";
    case NodeState::Up: return "up";
    case NodeState::Paused: return "paused";
    case NodeState::Refused: return "refused";
  }
  return "unknown";
}

// ---- SimNode ---------------------------------------------------------------

class SimNode::Relay final : public Subscriber {
 public:
  explicit Relay(SimNode& node) : node_(node) {}
  void on_commits(const std::vector<CommittedBlock>& commits) override {
    if (!commits.empty()) node_.observer_.on_commits(node_.setup_.id, commits);
  }
  void on_replies(const std::vector<ClientResponse>& replies) override {
    if (!replies.empty()) node_.observer_.on_replies(node_.setup_.id, replies);
  }

 private:
  SimNode& node_;
};

SimNode::SimNode(Scheduler& scheduler, NodeSetup setup, Network& outbound, NodeObserver& observer)
    : scheduler_(scheduler),
      setup_(std::move(setup)),
      outbound_(outbound),
      observer_(observer),
      store_(setup_.scheme->digest(), setup_.genesis->chain_id(), setup_.seed),
      clock_(scheduler),
      wake_(scheduler),
      rng_(setup_.seed ^ 0x6e6f6465ULL),
      relay_(std::make_unique<Relay>(*this)) {
  SYNOD_ASSERT(setup_.genesis != nullptr);
  SYNOD_ASSERT(setup_.scheme != nullptr);
  set_disk(DiskFaults{});
}

void SimNode::set_disk(const DiskFaults& faults) {
  store_.set_disk(faults, [this](TimeMs duration_ms) { return sync_wait(duration_ms); });
}

SimNode::~SimNode() { SYNOD_ASSERT(!running_); }

void SimNode::start() {
  if (running_ || state_ == NodeState::Refused) return;
  state_ = NodeState::Up;
  running_ = true;
  dying_ = false;
  scheduler_.spawn([this] { run(); });
}

void SimNode::crash() {
  if (!running_) return;
  dying_ = true;
  wake_.notify();
  scheduler_.run_ready();  // the fiber unwinds now, wherever it waited
  SYNOD_ASSERT(!running_);
}

void SimNode::pause() {
  if (state_ == NodeState::Up) state_ = NodeState::Paused;
}

void SimNode::resume() {
  if (state_ != NodeState::Paused) return;
  state_ = NodeState::Up;
  wake_.notify();
}

void SimNode::deliver(const Packet& packet) { accept(packet); }

void SimNode::request(const ClientRequest& request) { accept(request); }

// A dead process takes nothing; a live one queues up to inbox_max inputs.
void SimNode::accept(Input input) {
  if (!running_) return;
  if (inbox_.size() - inbox_head_ >= inbox_max) {
    ++dropped_inputs_;
    return;
  }
  inbox_.push_back(std::move(input));
  wake_.notify();
}

bool SimNode::sync_wait(TimeMs duration_ms) {
  const TimeMs until = scheduler_.now() + duration_ms;
  while (!dying_ && scheduler_.now() < until) wake_.wait_until(until);
  return !dying_;
}

void SimNode::run() {
  try {
    serve();
  } catch (const ProcessCrashed&) {
  }
  driver_.reset();
  replica_.reset();
  crash_armed_.reset();
  inbox_.clear();
  inbox_head_ = 0;
  if (state_ != NodeState::Refused) state_ = NodeState::Down;
  running_ = false;
  if (dying_) return;  // crashed from outside: the caller reports it
  if (state_ == NodeState::Down) observer_.on_crashed(setup_.id);
}

void SimNode::serve() {
  auto recovery = store_.load();
  if (!recovery) {
    state_ = NodeState::Refused;
    refusal_ = recovery.error();
    observer_.on_refused(setup_.id, recovery.error());
    return;
  }
  observer_.on_boot(setup_.id, *recovery);
  replica_ = std::make_unique<Replica>(*setup_.genesis, setup_.validator, setup_.key, *setup_.scheme,
                                       setup_.config, *recovery, clock_.now());
  driver_ = std::make_unique<Driver>(*replica_, clock_, outbound_, store_, relay_.get());
  driver_->start();  // before any crash point is set, as a process's start
  // Random crash points draw from the seed only in a process started with
  // them on, so that a run without them draws nothing.
  const bool random_crashes = crash_before_step_ > 0;
  driver_->set_crash_before([this, random_crashes](Driver::Step step) {
    if (crash_armed_ == step) {
      crash_armed_.reset();
      return true;
    }
    return random_crashes && rng_.chance(crash_before_step_);
  });
  while (!dying_ && !driver_->crashed()) {
    if (state_ == NodeState::Paused) {
      wake_.wait_until(never);
    } else if (inbox_head_ < inbox_.size()) {
      Input input = std::move(inbox_[inbox_head_++]);
      if (inbox_head_ == inbox_.size()) {  // drained: start over, keeping the capacity
        inbox_.clear();
        inbox_head_ = 0;
      }
      if (auto* packet = std::get_if<Packet>(&input)) {
        driver_->deliver(packet->from, *packet->message);
      } else {
        driver_->request(std::get<ClientRequest>(input));
      }
    } else if (const TimeMs deadline = driver_->next_deadline(); clock_.now() >= deadline) {
      observer_.on_tick(setup_.id);
      driver_->tick();
    } else {
      wake_.wait_until(clock_.to_virtual(deadline));
    }
  }
}

}  // namespace synod::sim
