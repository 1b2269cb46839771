// SimNetwork: the links between simulated node instances. Each directed link
// has a fault setting (latency as base + seeded jitter, loss, duplication,
// reordering delay), may be cut (partitions, symmetric or one-way), clogged
// (messages held, not lost, until a time), or filtered by message kind, and
// holds at most link_in_flight_max messages: beyond that it drops, as a full
// socket buffer would. Deliveries are scheduler timers, so equal arrival times
// are ordered by the seed. Instances, not validators, are the endpoints: a
// validator's twin is a second instance that receives what is sent to it.
// An instance's messages to itself take the loopback, which no fault touches.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/messages.h"
#include "sim/scheduler.h"

namespace synod::sim {

using InstanceId = std::uint32_t;

inline constexpr std::size_t link_in_flight_max = 4096;
// An instance's messages to itself arrive after this delay, free of faults.
inline constexpr TimeMs loopback_latency_ms = 1;

struct LinkFaults {
  TimeMs latency_ms_min = 10;
  TimeMs latency_ms_max = 50;
  double loss = 0;           // probability a message is dropped
  double duplicate = 0;      // probability a message is delivered twice
  double reorder = 0;        // probability a message gets an extra delay
  TimeMs reorder_ms_max = 200;
};

// Message kinds, in the order of the Message variant; a filter is a bit set.
inline constexpr std::size_t message_kinds_count = std::variant_size_v<Message>;
using KindFilter = std::array<bool, message_kinds_count>;

struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dropped_cut = 0;
  std::uint64_t dropped_loss = 0;
  std::uint64_t dropped_filter = 0;
  std::uint64_t dropped_full = 0;
  std::uint64_t duplicated = 0;
};

// A message between instances; `from` is the sending validator's id.
struct Packet {
  InstanceId source;
  InstanceId target;
  NodeId from;
  MessagePtr message;
};

class SimNetwork {
 public:
  using Deliver = std::function<void(const Packet&)>;

  SimNetwork(Scheduler& scheduler, std::size_t instances, LinkFaults faults, Deliver deliver);

  void send(Packet packet);

  // ---- faults (on directed links unless said otherwise)
  void set_faults(InstanceId from, InstanceId to, const LinkFaults& faults);
  void set_all_faults(const LinkFaults& faults);
  const LinkFaults& faults(InstanceId from, InstanceId to) const { return link(from, to).faults; }
  void cut(InstanceId from, InstanceId to, bool cut);
  bool is_cut(InstanceId from, InstanceId to) const { return link(from, to).cut; }
  // Cuts every link between different groups, both ways; instances in no group are isolated.
  void partition(const std::vector<std::vector<InstanceId>>& groups);
  void clog(InstanceId from, InstanceId to, TimeMs until);
  void filter(InstanceId from, InstanceId to, const KindFilter& dropped);
  // Restores every link among `instances` (all when empty): uncut, unclogged,
  // unfiltered, with `faults`.
  void heal(const std::vector<InstanceId>& instances, const LinkFaults& faults);
  // Adds an instance (a twin made mid-run) whose links have `faults`, uncut;
  // returns its id. Every existing link keeps its state.
  InstanceId add_instance(const LinkFaults& faults);

  // Manual mode, for scripted tests: sent packets wait in held() until taken.
  void set_hold(bool hold) { hold_ = hold; }
  std::vector<Packet>& held() { return held_; }

  const NetworkStats& stats() const { return stats_; }
  std::size_t instances() const { return instances_; }

 private:
  struct Link {
    LinkFaults faults;
    bool cut = false;
    TimeMs clogged_until = 0;
    KindFilter dropped{};
    std::size_t in_flight = 0;
  };
  Link& link(InstanceId from, InstanceId to) { return links_.at(from * instances_ + to); }
  const Link& link(InstanceId from, InstanceId to) const { return links_.at(from * instances_ + to); }
  void schedule(Packet packet, TimeMs at);
  void arrive(Packet packet);

  Scheduler& scheduler_;
  std::size_t instances_;
  std::vector<Link> links_;
  Deliver deliver_;
  Rng rng_;
  bool hold_ = false;
  std::vector<Packet> held_;
  SlotPool<Packet> in_flight_;  // scheduled packets
  NetworkStats stats_;
};

}  // namespace synod::sim
