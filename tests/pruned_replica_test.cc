// A replica over a pruned LmdbStore (docs/storage.md, Pruning): the ledger
// reopens, the replica boots from the state kept below the newest bodies
// instead of replaying from genesis, checks every kept state root, serves
// catch-up from the kept bodies, and refuses the heights it pruned: an empty
// response with its height (counted by the driver, which reads the store for
// history below the replica's window), and Pruned from the store itself.
#include <gtest/gtest.h>

#include "core/driver.h"
#include "core/replica.h"
#include "core/sign_bytes.h"
#include "node/lmdb_store.h"
#include "tests/store_test_util.h"
#include "tests/test_util.h"

namespace synod {
namespace {

constexpr std::size_t chain_length = 20;
constexpr std::size_t blocks_kept = 5;
constexpr Height last_pruned(chain_length - blocks_kept);

class PrunedReplicaTest : public ::testing::Test {
 protected:
  // A chain of one transfer per block, each block certified by validators
  // 0-2, committed into a store that keeps the newest `blocks_kept` bodies.
  void SetUp() override {
    Ledger ledger(genesis_, sha256);
    QuorumCert justify = genesis_qc(chain_);
    std::vector<BlockPtr> blocks;
    for (std::uint64_t r = 1; r <= chain_length; ++r) {
      std::vector<Transaction> txs{signed_transfer(chain_, alice(), r - 1, bob().public_key, r)};
      blocks.push_back(seal(sha256, chain_, Block{Round(r), roster_.leader(sha256, chain_, Round(r)), justify, std::move(txs), {}}));
      justify = certify(blocks.back());
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      commits_.push_back(CommittedBlock{blocks[i], ledger.execute(blocks[i]->height(), blocks[i]->txs),
                                        i + 1 < blocks.size() ? blocks[i + 1]->justify : justify});
    }
    auto store = open();
    store->save_commits({commits_.begin(), commits_.begin() + 8});
    store->save_commits({commits_.begin() + 8, commits_.end()});
  }

  std::unique_ptr<node::LmdbStore> open() {
    auto store = node::LmdbStore::open(dir_.path(), genesis_, test_validator_key(0).public_key,
                                       node::LmdbOptions{.blocks_kept = blocks_kept});
    SYNOD_ASSERT(store.has_value());
    return std::move(*store);
  }

  QuorumCert certify(const BlockPtr& b) const {
    QuorumCert qc{b->id, b->round, b->height(), {}};
    for (std::uint32_t v = 0; v < 3; ++v) {
      qc.votes.push_back(SignerSig{NodeId(v), ed25519_scheme().sign(test_validator_key(v),
                                                                    vote_sign_bytes(chain_, b->id, b->round, b->height()))});
    }
    return qc;
  }

  std::unique_ptr<Replica> boot(NodeId self, const Recovery& recovery) const {
    auto replica = std::make_unique<Replica>(genesis_, self, test_validator_key(self.value), ed25519_scheme(),
                                             ReplicaConfig{}, recovery, 0);
    (void)replica->take_outbox();
    return replica;
  }

  // What `server` answers a peer that has committed up to `height`.
  static SyncResponse ask(Replica& server, NodeId peer, Height height) {
    server.on_message(peer, SyncRequest{height});
    for (const Envelope& e : server.take_outbox().messages) {
      const auto* response = std::get_if<SyncResponse>(e.message.get());
      if (response && e.to == peer) return *response;
    }
    ADD_FAILURE() << "no sync response";
    return {};
  }

  static std::vector<Height> heights(const SyncResponse& response) {
    std::vector<Height> out;
    for (const BlockPtr& b : response.blocks) out.push_back(b->height());
    return out;
  }

  Genesis genesis_ = test_genesis(4, {}, {test_allocation(alice(), 1000)});
  ChainId chain_ = genesis_.chain_id();
  Roster roster_{genesis_.validators};
  std::vector<CommittedBlock> commits_;
  TempDir dir_{"pruned-replica"};
};

TEST_F(PrunedReplicaTest, BootsFromTheKeptStateNotFromGenesis) {
  auto recovery = open()->load();
  ASSERT_TRUE(recovery.has_value()) << to_string(recovery.error());
  ASSERT_TRUE(recovery->base.has_value());
  EXPECT_EQ(recovery->base->state.height, last_pruned);
  ASSERT_EQ(recovery->committed.size(), blocks_kept);

  const auto replica = boot(NodeId(0), *recovery);
  EXPECT_EQ(replica->committed_height(), Height(chain_length));
  EXPECT_EQ(replica->committed_block()->id, commits_.back().block->id);
  EXPECT_EQ(replica->ledger().state_root(), commits_.back().outcome.state_root);
  EXPECT_EQ(replica->ledger().account(bob().public_key)->balance, chain_length * (chain_length + 1) / 2);
  // A transaction from a pruned block keeps its fate, so it can never commit again.
  const auto pruned_tx = replica->ledger().find_tx(commits_.front().outcome.txs.front().hash);
  ASSERT_TRUE(pruned_tx.has_value());
  EXPECT_EQ(pruned_tx->height, Height(1));
}

TEST_F(PrunedReplicaTest, ServesCatchUpFromTheKeptBodies) {
  const auto server = boot(NodeId(0), open()->load().value());
  // A peer that committed the first 15 blocks (with its own full history).
  Recovery behind;
  behind.committed.assign(commits_.begin(), commits_.begin() + static_cast<std::ptrdiff_t>(last_pruned.value));
  const auto peer = boot(NodeId(1), behind);

  const SyncResponse response = ask(*server, NodeId(1), peer->committed_height());
  EXPECT_EQ(heights(response), (std::vector<Height>{Height(16), Height(17), Height(18), Height(19), Height(20)}));
  EXPECT_EQ(response.committed_height, Height(chain_length));
  peer->on_message(NodeId(0), response);
  // The QC of block 20 commits block 19; block 20 waits for its child.
  EXPECT_EQ(peer->committed_height(), Height(chain_length - 1));
  EXPECT_EQ(peer->ledger().state_root(), commits_[chain_length - 2].outcome.state_root);
  EXPECT_EQ(server->stats().sync_requests_from_store, 0u);
}

TEST_F(PrunedReplicaTest, RefusesPrunedHeightsHonestly) {
  auto store = open();
  auto server = boot(NodeId(0), store->load().value());
  RecordingNetwork network;
  ManualClock clock;
  Driver driver(*server, clock, network, *store);
  driver.start();
  Recovery behind;
  behind.committed.assign(commits_.begin(), commits_.begin() + 3);
  const auto peer = boot(NodeId(1), behind);

  // Block 4 is below the replica's window, and the store pruned it: no
  // blocks, and our height, so the peer asks elsewhere.
  driver.deliver(NodeId(1), SyncRequest{peer->committed_height()});
  ASSERT_EQ(network.sent.size(), 1u);
  EXPECT_EQ(network.sent_to[0], NodeId(1));
  const SyncResponse refused = std::get<SyncResponse>(*network.sent[0]);
  EXPECT_TRUE(refused.blocks.empty());
  EXPECT_EQ(refused.committed_height, Height(chain_length));
  EXPECT_EQ(server->stats().sync_requests_from_store, 1u);
  EXPECT_EQ(driver.stats().store_syncs_refused, 1u);
  peer->on_message(NodeId(0), refused);
  EXPECT_EQ(peer->committed_height(), Height(3));
  EXPECT_EQ(peer->stats().rejected(Reject::BadSyncChain), 0u);  // an honest refusal is not Byzantine

  // The store refuses with its own kind below the kept bodies, and reads the rest.
  const auto body = store->committed_block(last_pruned);
  ASSERT_FALSE(body.has_value());
  EXPECT_EQ(body.error().kind, StoreErrorKind::Pruned) << to_string(body.error());
  const auto kept = store->committed_block(last_pruned.next());
  ASSERT_TRUE(kept.has_value()) << to_string(kept.error());
  EXPECT_EQ(kept->block->id, commits_[last_pruned.value].block->id);
}

// The kept state is checked at boot: the first kept block's state root chains
// the base's root and what the block changed, so a base that differs from
// what the chain built stops the replica before it does anything.
TEST_F(PrunedReplicaTest, AKeptStateThatDoesNotMatchTheChainStopsTheBoot) {
  Recovery recovery = open()->load().value();
  recovery.base->state.accounts.at(alice().public_key).balance += 1;
  EXPECT_DEATH(boot(NodeId(0), recovery), "assertion failed");
}

}  // namespace
}  // namespace synod
