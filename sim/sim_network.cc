#include "sim/sim_network.h"

#include "core/assert.h"

namespace synod::sim {

SimNetwork::SimNetwork(Scheduler& scheduler, std::size_t instances, LinkFaults faults, Deliver deliver)
    : scheduler_(scheduler),
      instances_(instances),
      links_(instances * instances, Link{faults}),
      deliver_(std::move(deliver)),
      rng_(scheduler.rng().next()) {
  SYNOD_ASSERT(faults.latency_ms_min <= faults.latency_ms_max);
}

InstanceId SimNetwork::add_instance(const LinkFaults& faults) {
  SYNOD_ASSERT(faults.latency_ms_min <= faults.latency_ms_max);
  const std::size_t n = instances_ + 1;
  std::vector<Link> links(n * n, Link{faults});
  for (InstanceId from = 0; from < instances_; ++from) {
    for (InstanceId to = 0; to < instances_; ++to) links[from * n + to] = link(from, to);
  }
  links_ = std::move(links);
  instances_ = n;
  SYNOD_ASSERT(links_.size() == instances_ * instances_);
  return static_cast<InstanceId>(instances_ - 1);
}

void SimNetwork::send(Packet packet) {
  ++stats_.sent;
  if (packet.source == packet.target && !hold_) {
    // A process's message to itself (a leader's vote for the round it leads
    // next) crosses no wire: no fault applies, and it waits behind the work
    // already queued, which is what paces a validator that is a quorum alone.
    schedule(std::move(packet), scheduler_.now() + loopback_latency_ms);
    return;
  }
  Link& l = link(packet.source, packet.target);
  if (l.cut) {
    ++stats_.dropped_cut;
    return;
  }
  if (l.dropped[packet.message->index()]) {
    ++stats_.dropped_filter;
    return;
  }
  if (hold_) {
    held_.push_back(std::move(packet));
    return;
  }
  if (rng_.chance(l.faults.loss)) {
    ++stats_.dropped_loss;
    return;
  }
  const int copies = rng_.chance(l.faults.duplicate) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    if (l.in_flight >= link_in_flight_max) {
      ++stats_.dropped_full;
      return;
    }
    if (i > 0) ++stats_.duplicated;
    TimeMs delay = rng_.between(l.faults.latency_ms_min, l.faults.latency_ms_max);
    if (rng_.chance(l.faults.reorder)) delay += rng_.between(1, l.faults.reorder_ms_max);
    schedule(packet, scheduler_.now() + delay);
  }
}

// The packet waits in a pooled slot and the timer carries only its index, so
// the timer's callback fits std::function's inline buffer: no allocation.
void SimNetwork::schedule(Packet packet, TimeMs at) {
  ++link(packet.source, packet.target).in_flight;
  const std::uint32_t index = in_flight_.put(std::move(packet));
  scheduler_.at(at, [this, index] { arrive(in_flight_.take(index)); });
}

void SimNetwork::arrive(Packet packet) {
  Link& l = link(packet.source, packet.target);
  --l.in_flight;
  // A partition that began while the message travelled still stops it.
  if (packet.source != packet.target && l.cut) {
    ++stats_.dropped_cut;
    return;
  }
  if (packet.source != packet.target && l.clogged_until > scheduler_.now()) {
    schedule(std::move(packet), l.clogged_until + rng_.below(l.faults.latency_ms_max + 1));
    return;
  }
  ++stats_.delivered;
  deliver_(packet);
}

void SimNetwork::set_faults(InstanceId from, InstanceId to, const LinkFaults& faults) {
  SYNOD_ASSERT(faults.latency_ms_min <= faults.latency_ms_max);
  link(from, to).faults = faults;
}

void SimNetwork::set_all_faults(const LinkFaults& faults) {
  for (InstanceId a = 0; a < instances_; ++a) {
    for (InstanceId b = 0; b < instances_; ++b) set_faults(a, b, faults);
  }
}

void SimNetwork::cut(InstanceId from, InstanceId to, bool cut) { link(from, to).cut = cut; }

void SimNetwork::partition(const std::vector<std::vector<InstanceId>>& groups) {
  std::vector<int> group(instances_, -1);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (InstanceId i : groups[g]) group.at(i) = static_cast<int>(g);
  }
  for (InstanceId a = 0; a < instances_; ++a) {
    for (InstanceId b = 0; b < instances_; ++b) {
      link(a, b).cut = a != b && (group[a] < 0 || group[a] != group[b]);
    }
  }
}

void SimNetwork::clog(InstanceId from, InstanceId to, TimeMs until) { link(from, to).clogged_until = until; }

void SimNetwork::filter(InstanceId from, InstanceId to, const KindFilter& dropped) { link(from, to).dropped = dropped; }

void SimNetwork::heal(const std::vector<InstanceId>& instances, const LinkFaults& faults) {
  std::vector<bool> member(instances_, instances.empty());
  for (InstanceId i : instances) member.at(i) = true;
  for (InstanceId a = 0; a < instances_; ++a) {
    for (InstanceId b = 0; b < instances_; ++b) {
      if (!member[a] || !member[b]) continue;
      Link& l = link(a, b);
      l.faults = faults;
      l.cut = false;
      l.clogged_until = 0;
      l.dropped = {};
    }
  }
}

}  // namespace synod::sim
