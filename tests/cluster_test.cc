// In-process runs of whole clusters (sim::Cluster): replicas commit a long
// chain with transfers while one of them is crashed and later restarted from
// its own store, and every node ends with the same chain and state.
#include <gtest/gtest.h>

#include <sstream>

#include "core/wire.h"
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
  const auto reference = c.store(NodeId(0)).committed();
  for (std::uint32_t i = 1; i < c.size(); ++i) {
    const auto chain = c.store(NodeId(i)).committed();
    for (std::uint64_t k = 0; k < h.value; ++k) {
      ASSERT_EQ(chain[k].block->id, reference[k].block->id) << "node " << i << " height " << k + 1;
      ASSERT_EQ(chain[k].outcome.state_root, reference[k].outcome.state_root);
    }
  }
}

// A node's consensus state and refusals, for failure messages.
std::string describe_node(const Cluster& c, NodeId id) {
  const Replica* r = c.replica(id);
  if (!r) return "down";
  std::ostringstream os;
  os << id << " " << r->round() << " committed " << r->committed_height() << " high_qc " << r->high_qc().round
     << (r->catching_up() ? " catching-up" : "") << " sync_requests " << r->stats().sync_requests_sent;
  for (std::size_t i = 0; i < static_cast<std::size_t>(Reject::kCount); ++i) {
    if (r->stats().rejected_by_reason[i]) os << " " << to_string(Reject(i)) << "=" << r->stats().rejected_by_reason[i];
  }
  return os.str();
}

std::size_t executed_transfers(const Cluster& c, NodeId node) {
  std::size_t n = 0;
  for (const CommittedBlock& b : c.store(node).committed()) {
    for (const TxOutcome& o : b.outcome.txs) n += o.error ? 0 : 1;
  }
  return n;
}

// The crashed node leads some rounds; those must time out and be passed over.
// With `window` set, the others keep fewer committed blocks in memory than the
// victim misses, so its catch-up is served from their stores.
// With `sync_bytes`, every catch-up response carries one block with
// transactions: the victim must keep asking past blocks it already holds.
void run_with_crash(std::vector<std::uint64_t> weights, NodeId victim, std::size_t window = 0,
                    std::size_t sync_bytes = 0) {
  ClusterOptions options;
  options.weights = std::move(weights);
  options.seed = 42;
  options.replica.round_timeout_ms = 300;
  if (window > 0) options.replica.committed_blocks_kept_max = window;
  if (sync_bytes > 0) options.replica.sync_bytes_max = sync_bytes;
  Cluster c(options);
  c.set_load(50);

  ASSERT_TRUE(c.run_until([&] { return c.min_committed_height() >= Height(30); }, 60'000));
  c.crash(victim);
  const std::uint64_t timeouts_before = c.replica(NodeId(victim.value == 0 ? 1 : 0))->stats().tcs_formed;
  // At least 200 blocks, with transfers, commit while the victim is down.
  const Height crashed_at = c.committed_height(victim);
  ASSERT_TRUE(c.run_until([&] { return c.min_committed_height().value >= crashed_at.value + 200; }, 600'000))
      << "height " << c.min_committed_height();
  std::size_t transfers_while_down = 0;
  for (const CommittedBlock& b : c.store(NodeId(victim.value == 0 ? 1 : 0)).committed()) {
    if (b.block->height() > crashed_at) transfers_while_down += b.outcome.txs.size();
  }
  EXPECT_GT(transfers_while_down, 200u);
  EXPECT_GT(c.replica(NodeId(victim.value == 0 ? 1 : 0))->stats().tcs_formed, timeouts_before)
      << "the crashed node's rounds were never passed over by a timeout certificate";

  // The target comes from the others' height before the victim is back up
  // (once up, the victim itself would be the minimum).
  const Height restarted_at = c.min_committed_height();
  const Height target = Height(restarted_at.value + 20);
  c.restart(victim);
  ASSERT_TRUE(c.run_until([&] { return c.committed_height(victim) >= target; }, 120'000))
      << "restarted node stuck: " << describe_node(c, victim) << "; a peer: " << describe_node(c, NodeId((victim.value + 1) % c.size()));
  // Far behind, it caught up in several responses of at most sync_blocks_max blocks.
  EXPECT_GE(c.replica(victim)->stats().sync_requests_sent, 200u / sync_blocks_max)
      << describe_node(c, victim) << " restarted at " << restarted_at << " crashed at " << crashed_at;
  if (window > 0) {
    std::uint64_t from_store = 0;
    for (std::uint32_t i = 0; i < c.size(); ++i) {
      if (NodeId(i) != victim) from_store += c.replica(NodeId(i))->stats().sync_requests_from_store;
    }
    EXPECT_GE(from_store, 200u / sync_blocks_max) << "catch-up below the window was not served from the stores";
  }
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

TEST(Cluster, ANodeDownLongerThanThePeersWindowCatchesUpFromTheirStores) {
  run_with_crash({1, 1, 1, 1}, NodeId(3), 16);
}

// Found by synod-sim --buggify: one block per response, which its QC cannot
// commit, used to bring the same block back on every request.
TEST(Cluster, CatchUpOneBlockPerResponseStillReachesTheTip) { run_with_crash({1, 1, 1, 1}, NodeId(2), 0, 1); }

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
