// The simulator's own limits: a link drops what exceeds link_in_flight_max, a
// node process drops input beyond inbox_max, and both count what they drop.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/cluster.h"

namespace synod::sim {
namespace {

TEST(SimLimits, ALinkHoldsAtMostLinkInFlightMax) {
  Scheduler scheduler(1);
  std::size_t delivered = 0;
  LinkFaults slow;
  slow.latency_ms_min = slow.latency_ms_max = 1000;
  SimNetwork network(scheduler, 2, slow, [&](const Packet&) { ++delivered; });
  const auto message = std::make_shared<const Message>(SyncRequest{Height(1)});
  for (std::size_t i = 0; i < link_in_flight_max + 3; ++i) network.send(Packet{0, 1, NodeId(0), message});
  EXPECT_EQ(network.stats().dropped_full, 3u);
  scheduler.run_until(2000);
  EXPECT_EQ(delivered, link_in_flight_max);
  // Once delivered, the link takes messages again.
  network.send(Packet{0, 1, NodeId(0), message});
  EXPECT_EQ(network.stats().dropped_full, 3u);
}

TEST(SimLimits, APausedNodeQueuesAtMostInboxMax) {
  ClusterOptions options;
  options.auto_deliver = false;
  Cluster c(options);
  c.pause(NodeId(1));
  // What the boot already sent node 1 (the first leader's proposal, say) arrives first.
  const auto booted = static_cast<std::size_t>(
      std::ranges::count_if(c.network().held(), [](const Packet& p) { return p.target == 1; }));
  const auto message = std::make_shared<const Message>(SyncRequest{Height(0)});
  for (std::size_t i = 0; i < inbox_max + 5; ++i) c.network().held().push_back(Packet{0, 1, NodeId(0), message});
  c.deliver_queued([](const Packet&) { return true; });
  EXPECT_EQ(c.node(NodeId(1)).dropped_inputs(), booted + 5);
  c.resume(NodeId(1));  // works through its backlog
  EXPECT_EQ(c.state(NodeId(1)), NodeState::Up);
}

}  // namespace
}  // namespace synod::sim
