// In-process runs of whole clusters (sim::Cluster): replicas commit a long
// chain with transfers while one of them is crashed and later restarted from
// its own store, and every node ends with the same chain and state.
#include <gtest/gtest.h>

#include "sim/cluster.h"

namespace synod::sim {
namespace {

void expect_no_violations(const Cluster& c) {
  for (const std::string& v : c.violations()) ADD_FAILURE() << v;
}

// Every live node holds the same committed chain up to the shortest one, and
// the same state root at the end of it.
void expect_same_chain(const Cluster& c) {
  const Height h = c.min_committed_height();
  ASSERT_GT(h.value, 0u);
  const auto& reference = c.store(NodeId(0)).committed();
  for (std::uint32_t i = 1; i < c.size(); ++i) {
    const auto& chain = c.store(NodeId(i)).committed();
    for (std::uint64_t k = 0; k < h.value; ++k) {
      ASSERT_EQ(chain[k].block->id, reference[k].block->id) << "node " << i << " height " << k + 1;
      ASSERT_EQ(chain[k].outcome.state_root, reference[k].outcome.state_root);
    }
  }
}

std::size_t executed_transfers(const Cluster& c, NodeId node) {
  std::size_t n = 0;
  for (const CommittedBlock& b : c.store(node).committed()) {
    for (const TxOutcome& o : b.outcome.txs) n += o.error ? 0 : 1;
  }
  return n;
}

// The crashed node leads some rounds; those must time out and be passed over.
void run_with_crash(std::vector<std::uint64_t> weights, NodeId victim) {
  ClusterOptions options;
  options.weights = std::move(weights);
  options.seed = 42;
  options.replica.round_timeout_ms = 300;
  Cluster c(options);
  c.set_load(50);

  ASSERT_TRUE(c.run_until([&] { return c.min_committed_height() >= Height(30); }, 60'000));
  c.crash(victim);
  const std::uint64_t timeouts_before = c.replica(NodeId(victim.value == 0 ? 1 : 0))->stats().tcs_formed;
  ASSERT_TRUE(c.run_until([&] { return c.min_committed_height() >= Height(200); }, 600'000))
      << "height " << c.min_committed_height();
  EXPECT_GT(c.replica(NodeId(victim.value == 0 ? 1 : 0))->stats().tcs_formed, timeouts_before)
      << "the crashed node's rounds were never passed over by a timeout certificate";

  c.restart(victim);
  const Height target = Height(c.min_committed_height().value + 20);
  ASSERT_TRUE(c.run_until([&] { return c.committed_height(victim) >= target; }, 120'000))
      << "restarted node stuck at " << c.committed_height(victim);
  c.set_load(0);
  c.run_for(5'000);

  expect_no_violations(c);
  expect_same_chain(c);
  EXPECT_GT(executed_transfers(c, NodeId(0)), 1000u);
  // Empty blocks keep committing, so live heights differ by the blocks in flight.
  const Height tip = c.committed_height(NodeId(0));
  for (std::uint32_t i = 0; i < c.size(); ++i) {
    EXPECT_LE(tip.value - std::min(tip.value, c.committed_height(NodeId(i)).value), 2u) << "node " << i;
  }
}

TEST(Cluster, FourEqualReplicasCommitThroughACrashAndRestart) { run_with_crash({1, 1, 1, 1}, NodeId(2)); }

TEST(Cluster, WeightedReplicasCommitThroughACrashAndRestart) { run_with_crash({1, 1, 1, 2}, NodeId(1)); }

TEST(Cluster, SameSeedReplaysTheSameChain) {
  auto run = [] {
    ClusterOptions options;
    options.seed = 7;
    Cluster c(options);
    c.set_load(100);
    c.run_for(20'000);
    return std::pair(c.store(NodeId(0)).committed().back().block->id, c.events_count());
  };
  EXPECT_EQ(run(), run());
}

TEST(Cluster, MinorityPartitionCannotCommitAndHealsWithoutFork) {
  ClusterOptions options;
  options.seed = 3;
  options.replica.round_timeout_ms = 200;
  Cluster c(options);
  c.set_load(20);
  c.run_for(5'000);
  c.partition({{NodeId(0), NodeId(1)}, {NodeId(2), NodeId(3)}});
  c.run_for(2'000);  // let what was in flight land
  const Height frozen = c.committed_height(NodeId(0));
  c.run_for(30'000);
  for (std::uint32_t i = 0; i < 4; ++i) EXPECT_LE(c.committed_height(NodeId(i)).value, frozen.value + 2);
  c.heal();
  ASSERT_TRUE(c.run_until([&] { return c.min_committed_height() >= Height(frozen.value + 20); }, 300'000));
  expect_no_violations(c);
  expect_same_chain(c);
}

}  // namespace
}  // namespace synod::sim
