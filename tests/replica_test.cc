// Replica unit tests: one replica fed hand-made messages from the other
// validators, valid and Byzantine. Every invalid input must be refused with
// its reason counted and nothing signed.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>

#include "core/certs.h"
#include "core/driver.h"
#include "core/mem_store.h"
#include "core/replica.h"
#include "core/sign_bytes.h"
#include "core/wire.h"
#include "tests/test_util.h"

namespace synod {
namespace {

// A network that checks, at the moment a message leaves, that the store
// already holds the safety record allowing it (the Outbox contract).
class CheckingNetwork final : public Network {
 public:
  explicit CheckingNetwork(const MemStore& store) : store_(store) {}
  void send(NodeId, const MessagePtr& message) override {
    if (const auto* v = std::get_if<Vote>(message.get())) {
      const Recovery stored = store_.load().value();
      EXPECT_TRUE(stored.safety && stored.safety->voted_round >= v->round) << "vote left before its record";
      bool block_stored = false;
      for (const BlockPtr& b : stored.blocks) block_stored = block_stored || b->id == v->block;
      EXPECT_TRUE(block_stored) << "vote left before its block was durable";
      votes.push_back(*v);
    }
    ++sent;
  }
  std::vector<Vote> votes;
  std::size_t sent = 0;

 private:
  const MemStore& store_;
};

// One replica's store, clock and network behind the real Driver: a test
// crashes the driver at a chosen step and restarts from what the store kept.
struct CrashRig {
  MemStore store;
  ManualClock clock;
  CheckingNetwork network{store};
};

class ReplicaTest : public ::testing::Test {
 protected:
  static constexpr std::size_t n = 4;

  void SetUp() override { boot(); }

  void boot() { boot(store_.load().value()); }
  void boot(const Recovery& recovery) {
    replica_ = std::make_unique<Replica>(genesis_, self_, test_validator_key(self_.value), scheme_, config_,
                                         recovery, 0);
    flush();
  }

  // A certified chain of `length` blocks (rounds 1..length) with `txs_per_block`
  // transfers each, and the QC of its last block.
  std::pair<std::vector<BlockPtr>, QuorumCert> certified_chain(std::size_t length, std::size_t txs_per_block = 0) {
    std::vector<BlockPtr> blocks;
    QuorumCert justify = genesis_qc_;
    std::uint64_t nonce = 0;
    for (std::uint64_t r = 1; r <= length; ++r) {
      std::vector<Transaction> txs;
      for (std::size_t i = 0; i < txs_per_block; ++i) txs.push_back(signed_transfer(chain_, alice_, nonce++, bob_.public_key, 1));
      blocks.push_back(block(r, justify, std::move(txs)));
      justify = qc(blocks.back(), {0, 1, 2});
    }
    return {blocks, justify};
  }

  // What a store holds after committing the whole chain: the replica restarts
  // from it with that history.
  Recovery committed_history(const std::vector<BlockPtr>& blocks, const QuorumCert& last_qc) const {
    Recovery recovery;
    Ledger ledger(genesis_, sha256);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      recovery.committed.push_back(CommittedBlock{blocks[i], ledger.execute(blocks[i]->height(), blocks[i]->txs),
                                                  i + 1 < blocks.size() ? blocks[i + 1]->justify : last_qc});
    }
    return recovery;
  }

  SyncResponse sync_response(const Outbox& out) const {
    for (const Envelope& e : out.messages) {
      if (const auto* r = std::get_if<SyncResponse>(e.message.get())) return *r;
    }
    ADD_FAILURE() << "no sync response";
    return {};
  }

  // Persists what the driver would persist, returns the outbox.
  Outbox flush() {
    Outbox out = replica_->take_outbox();
    if (!out.blocks.empty()) store_.save_blocks(out.blocks);
    if (out.safety) store_.save_safety(*out.safety);
    if (!out.commits.empty()) store_.save_commits(out.commits);
    return out;
  }

  NodeId leader(std::uint64_t round) const { return roster_.leader(sha256, chain_, Round(round)); }

  BlockPtr block(std::uint64_t round, const QuorumCert& justify, std::vector<Transaction> txs = {},
                 std::optional<NodeId> proposer = {}, const ChainId* chain = nullptr) const {
    return seal(sha256, chain ? *chain : chain_,
                Block{Round(round), proposer.value_or(leader(round)), justify, std::move(txs), {}});
  }

  Proposal proposal(const BlockPtr& b, std::optional<TimeoutCert> tc = {}, const ChainId* chain = nullptr,
                    std::optional<NodeId> signer = {}) const {
    const KeyPair key = test_validator_key(signer.value_or(b->proposer).value);
    return Proposal{b, std::move(tc), ed25519_scheme().sign(key, proposal_sign_bytes(chain ? *chain : chain_, b->id))};
  }

  Vote vote(const BlockPtr& b, NodeId voter) const {
    return Vote{b->id, b->round, b->height(), voter,
                ed25519_scheme().sign(test_validator_key(voter.value),
                                      vote_sign_bytes(chain_, b->id, b->round, b->height()))};
  }

  QuorumCert qc(const BlockPtr& b, std::vector<std::uint32_t> voters) const {
    QuorumCert c{b->id, b->round, b->height(), {}};
    for (std::uint32_t v : voters) c.votes.push_back(SignerSig{NodeId(v), vote(b, NodeId(v)).sig});
    return c;
  }

  Timeout timeout(std::uint64_t round, const QuorumCert& high_qc, NodeId sender) const {
    return Timeout{Round(round), high_qc, sender,
                   ed25519_scheme().sign(test_validator_key(sender.value),
                                         timeout_sign_bytes(chain_, Round(round), high_qc.round))};
  }

  void deliver(NodeId from, Message m) { replica_->on_message(from, m); }

  std::vector<Vote> votes_sent(const Outbox& out) const {
    std::vector<Vote> votes;
    for (const Envelope& e : out.messages) {
      if (const auto* v = std::get_if<Vote>(e.message.get())) votes.push_back(*v);
    }
    return votes;
  }

  std::uint64_t rejected(Reject r) const { return replica_->stats().rejected(r); }

  // Where the outbox's forwarded transactions go, one entry per batch.
  static std::multiset<NodeId> forwards(const Outbox& out) {
    std::multiset<NodeId> to;
    for (const Envelope& e : out.messages) {
      if (std::holds_alternative<TxBatch>(*e.message)) to.insert(e.to);
    }
    return to;
  }
  // The leaders of rounds r and r + 1, without this node and repeats.
  std::multiset<NodeId> leaders_of(std::uint64_t r) const {
    std::set<NodeId> leaders = {leader(r), leader(r + 1)};
    leaders.erase(self_);
    return {leaders.begin(), leaders.end()};
  }

  // A node that leads neither round 1 nor round 2, so it only votes there.
  static NodeId pick_self(const Genesis& g) {
    const Roster roster(g.validators);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (roster.leader(sha256, g.chain_id(), Round(1)) != NodeId(i) && roster.leader(sha256, g.chain_id(), Round(2)) != NodeId(i) &&
          roster.leader(sha256, g.chain_id(), Round(3)) != NodeId(i)) {
        return NodeId(i);
      }
    }
    return NodeId(0);
  }

  // Boots a replica from the rig's store; `drive` feeds it (and arms the
  // crash) until the driver stops, as a crashed process would.
  void run_to_crash(CrashRig& rig, const std::function<void(Driver&)>& drive) {
    Replica replica(genesis_, self_, test_validator_key(self_.value), ed25519_scheme(), config_,
                    rig.store.load().value(), 0);
    Driver driver(replica, rig.clock, rig.network, rig.store);
    driver.start();
    drive(driver);
    ASSERT_TRUE(driver.crashed());
  }
  static Driver::CrashBefore before(Driver::Step crash_at) {
    return [crash_at](Driver::Step step) { return step == crash_at; };
  }
  std::unique_ptr<Replica> restart(const CrashRig& rig) const {
    return std::make_unique<Replica>(genesis_, self_, test_validator_key(self_.value), ed25519_scheme(), config_,
                                     rig.store.load().value(), 0);
  }

  // The first round after 1 that this node leads.
  std::uint64_t first_round_led() const {
    std::uint64_t r = 2;
    while (leader(r) != self_) ++r;
    return r;
  }
  // Another validator's timeout of round r carrying TC(r-1) from the other
  // three, the first of which reports a QC of round `first_high_qc`.
  Timeout timeout_carrying_tc(std::uint64_t r, Round first_high_qc) const {
    TimeoutCert tc{Round(r - 1), {}};
    for (std::uint32_t v = 0; v < n; ++v) {
      if (NodeId(v) == self_) continue;
      const Round high = tc.timeouts.empty() ? first_high_qc : Round(0);
      tc.timeouts.push_back(TimeoutSig{
          NodeId(v), high, ed25519_scheme().sign(test_validator_key(v), timeout_sign_bytes(chain_, tc.round, high))});
    }
    Timeout carrier = timeout(r, genesis_qc_, tc.timeouts.back().signer);
    carrier.tc = tc;
    return carrier;
  }

  const KeyPair& alice_ = alice();
  const KeyPair& bob_ = bob();
  ChainParams params_{.block_txs_max = 2};
  Genesis genesis_ = test_genesis(n, {}, {test_allocation(alice_, 1000)}, params_);
  ChainId chain_ = genesis_.chain_id();
  Roster roster_{genesis_.validators};
  QuorumCert genesis_qc_ = genesis_qc(chain_);
  NodeId self_ = pick_self(genesis_);
  ReplicaConfig config_;
  CountingScheme scheme_{ed25519_scheme()};
  MemStore store_;
  std::unique_ptr<Replica> replica_;
};

TEST_F(ReplicaTest, VotesForAValidProposalAndSendsTheVoteToTheNextLeader) {
  const BlockPtr b1 = block(1, genesis_qc_);
  deliver(leader(1), proposal(b1));
  const Outbox out = flush();
  ASSERT_TRUE(out.safety.has_value());
  EXPECT_EQ(out.safety->voted_round, Round(1));
  ASSERT_EQ(out.blocks.size(), 1u);
  const auto votes = votes_sent(out);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].block, b1->id);
  EXPECT_EQ(out.messages[0].to, leader(2));
}

TEST_F(ReplicaTest, ForgedProposalSignatureIsRefused) {
  deliver(leader(1), proposal(block(1, genesis_qc_), {}, nullptr, NodeId((leader(1).value + 1) % n)));
  EXPECT_EQ(rejected(Reject::BadSignature), 1u);
  EXPECT_TRUE(votes_sent(flush()).empty());
}

TEST_F(ReplicaTest, ProposalSignedForAnotherChainIsRefused) {
  const ChainId other = test_genesis(n, {}, {}, params_, "other-chain").chain_id();
  deliver(leader(1), proposal(block(1, genesis_qc_), {}, &other));
  EXPECT_EQ(rejected(Reject::BadSignature), 1u);
  EXPECT_TRUE(votes_sent(flush()).empty());
}

TEST_F(ReplicaTest, QcSignedForAnotherChainIsRefused) {
  const BlockPtr b1 = block(1, genesis_qc_);
  deliver(leader(1), proposal(b1));
  flush();
  const ChainId other = test_genesis(n, {}, {}, params_, "other-chain").chain_id();
  QuorumCert forged{b1->id, b1->round, b1->height(), {}};
  for (std::uint32_t v = 0; v < 3; ++v) {
    forged.votes.push_back(SignerSig{NodeId(v), ed25519_scheme().sign(test_validator_key(v),
                                                                       vote_sign_bytes(other, b1->id, b1->round, b1->height()))});
  }
  deliver(leader(2), proposal(block(2, forged)));
  EXPECT_EQ(rejected(Reject::BadCertificate), 1u);
  EXPECT_TRUE(votes_sent(flush()).empty());
}

TEST_F(ReplicaTest, ProposalFromANodeThatDoesNotLeadTheRoundIsRefused) {
  const NodeId impostor((leader(1).value + 1) % n);
  deliver(impostor, proposal(block(1, genesis_qc_, {}, impostor)));
  EXPECT_EQ(rejected(Reject::WrongLeader), 1u);
}

TEST_F(ReplicaTest, QcBelowQuorumWeightIsRefused) {
  const BlockPtr b1 = block(1, genesis_qc_);
  deliver(leader(1), proposal(b1));
  flush();
  deliver(leader(2), proposal(block(2, qc(b1, {0, 1}))));  // 2 of 4: not > 2/3
  EXPECT_EQ(rejected(Reject::BadCertificate), 1u);
  EXPECT_EQ(replica_->high_qc().round, Round(0));
}

TEST_F(ReplicaTest, QcWithADuplicateSignerIsRefused) {
  const BlockPtr b1 = block(1, genesis_qc_);
  deliver(leader(1), proposal(b1));
  flush();
  deliver(leader(2), proposal(block(2, qc(b1, {0, 1, 1}))));
  EXPECT_EQ(rejected(Reject::BadCertificate), 1u);
  EXPECT_EQ(verify_qc(CertContext{chain_, roster_, ed25519_scheme()}, qc(b1, {0, 1, 1})).error(),
            CertError::NotCanonical);
}

// A round's QC can come signed by several signer sets, all valid: a verified
// one is not verified again, but only a few per round are kept, so a peer
// presenting many cannot grow the cache (each past the limit costs its own
// verification instead).
TEST_F(ReplicaTest, KeepsOnlyAFewVerifiedQcsPerRound) {
  const BlockPtr b1 = block(1, genesis_qc_);
  deliver(leader(1), proposal(b1));
  flush();
  const NodeId sender((self_.value + 1) % n);  // one sender: its timeouts never make a TC
  const auto verifications = [&](const std::vector<std::uint32_t>& signers) {
    const std::size_t before = scheme_.verify_calls;
    deliver(sender, timeout(2, qc(b1, signers), sender));
    return scheme_.verify_calls - before;
  };
  const std::vector<std::vector<std::uint32_t>> signer_sets = {{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}, {0, 1, 2, 3}};
  std::vector<std::size_t> first;
  for (const auto& signers : signer_sets) first.push_back(verifications(signers));
  for (std::size_t i = 0; i + 1 < signer_sets.size(); ++i) {
    EXPECT_GT(first[i], 1u) << "set " << i << ": the QC was verified";
    EXPECT_EQ(verifications(signer_sets[i]), 1u) << "set " << i << ": kept, only the timeout is verified";
  }
  EXPECT_EQ(verifications(signer_sets.back()), first.back()) << "the fifth set was not kept";
}

TEST_F(ReplicaTest, EquivocatingProposalIsCountedAndNotVotedFor) {
  const BlockPtr first = block(1, genesis_qc_);
  const BlockPtr second = block(1, genesis_qc_, {signed_transfer(chain_, alice_, 0, bob_.public_key, 5)});
  deliver(leader(1), proposal(first));
  deliver(leader(1), proposal(second));
  EXPECT_EQ(rejected(Reject::Equivocation), 1u);
  const auto votes = votes_sent(flush());
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].block, first->id);
}

TEST_F(ReplicaTest, OversizedBatchIsRefused) {
  std::vector<Transaction> txs;
  for (std::uint64_t i = 0; i <= params_.block_txs_max; ++i) {
    txs.push_back(signed_transfer(chain_, alice_, i, bob_.public_key, 1));
  }
  deliver(leader(1), proposal(block(1, genesis_qc_, txs)));
  EXPECT_EQ(rejected(Reject::OversizedBlock), 1u);
  EXPECT_TRUE(votes_sent(flush()).empty());
}

TEST_F(ReplicaTest, BlockWithAForgedTransactionIsRefused) {
  Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  tx.sig.bytes[0] ^= 1;
  deliver(leader(1), proposal(block(1, genesis_qc_, {tx})));
  EXPECT_EQ(rejected(Reject::BadTxSignature), 1u);
  EXPECT_TRUE(votes_sent(flush()).empty());
}

TEST_F(ReplicaTest, PendingTransactionWithOtherSignatureBytesIsVerifiedAgain) {
  // The mempool verified the client's signature; a leader that swaps in other
  // signature bytes keeps the transaction hash but must not pass unverified.
  const Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  replica_->on_request(ClientRequest{1, SubmitTx{tx}});
  flush();
  Transaction swapped = tx;
  swapped.sig.bytes[7] ^= 0x10;
  ASSERT_EQ(tx_hash(sha256, chain_, swapped), tx_hash(sha256, chain_, tx));
  deliver(leader(1), proposal(block(1, genesis_qc_, {swapped})));
  EXPECT_EQ(rejected(Reject::BadTxSignature), 1u);
  EXPECT_TRUE(votes_sent(flush()).empty());
}

TEST_F(ReplicaTest, ProposalsWaitingForMissingAncestorsAreBounded) {
  config_.buffered_proposals_max = 2;
  replica_.reset();
  boot();
  // Proposals whose parents this replica never saw, each carrying a valid QC
  // for its (unknown) parent: they wait for catch-up, up to the limit.
  for (std::uint64_t r = 2; r <= 4; ++r) {
    Block unknown_parent{Round(r - 1), leader(r - 1), genesis_qc_, {}, {}};
    unknown_parent.justify.height = Height(4 + r);  // far above anything known
    const BlockPtr parent = seal(sha256, chain_, unknown_parent);
    deliver(leader(r), proposal(block(r, qc(parent, {0, 1, 2}))));
  }
  EXPECT_EQ(rejected(Reject::BufferFull), 1u);
  EXPECT_TRUE(replica_->catching_up());
  // It asked the proposer of the first one for the chain after its height.
  std::size_t sync_requests = 0;
  for (const Envelope& e : flush().messages) sync_requests += std::holds_alternative<SyncRequest>(*e.message) ? 1 : 0;
  EXPECT_EQ(sync_requests, 1u);
}

TEST_F(ReplicaTest, SyncResponsesHoldAtMostSyncBlocksMax) {
  const auto [blocks, last_qc] = certified_chain(sync_blocks_max + 6);
  boot(committed_history(blocks, last_qc));
  deliver(NodeId(1), SyncRequest{Height(0)});
  const SyncResponse r = sync_response(flush());
  ASSERT_EQ(r.blocks.size(), sync_blocks_max);
  EXPECT_EQ(r.blocks.front()->height(), Height(1));
  // The last block sent is certified by the QC sent with it.
  ASSERT_TRUE(r.qc.has_value());
  EXPECT_EQ(r.qc->block, r.blocks.back()->id);
  EXPECT_EQ(r.committed_height, Height(sync_blocks_max + 6));
}

TEST_F(ReplicaTest, SyncResponsesStopAtSyncBytesMaxButAlwaysSendOneBlock) {
  config_.sync_bytes_max = 3 * tx_size_bytes(signed_transfer(chain_, alice_, 0, bob_.public_key, 1));
  const auto [blocks, last_qc] = certified_chain(5, 2);
  boot(committed_history(blocks, last_qc));
  deliver(NodeId(1), SyncRequest{Height(0)});
  EXPECT_EQ(sync_response(flush()).blocks.size(), 1u);  // a second block would pass 3 transactions' bytes
}

TEST_F(ReplicaTest, HistoryBelowTheKeptWindowIsLeftToTheStore) {
  config_.committed_blocks_kept_max = 10;
  const auto [blocks, last_qc] = certified_chain(30);
  boot(committed_history(blocks, last_qc));
  deliver(NodeId(1), SyncRequest{Height(0)});
  Outbox below = replica_->take_outbox();
  EXPECT_TRUE(below.messages.empty());  // the driver answers from the store
  ASSERT_EQ(below.store_syncs.size(), 1u);
  const StoreSync& sync = below.store_syncs[0];
  EXPECT_EQ(sync.peer, NodeId(1));
  EXPECT_EQ(sync.from, Height(1));
  EXPECT_EQ(sync.until, Height(30));  // into the window, so that the response commits something new
  EXPECT_EQ(sync.committed_height, Height(30));
  EXPECT_EQ(sync.blocks_max, config_.sync_blocks_max);
  EXPECT_EQ(replica_->stats().sync_requests_from_store, 1u);
  deliver(NodeId(1), SyncRequest{Height(25)});
  const SyncResponse kept = sync_response(flush());
  ASSERT_EQ(kept.blocks.size(), 5u);
  EXPECT_EQ(kept.blocks.front()->height(), Height(26));
  // The window holds blocks only: the last one, the root, is certified by the
  // QC that committed it.
  ASSERT_TRUE(kept.qc.has_value());
  EXPECT_EQ(*kept.qc, last_qc);
}

// A requester just below the window's start: the store's answer runs into
// the window, up to the committed root, so its last QC commits something new
// (a response that stopped at the window's start would commit nothing, and the
// requester would ask for the same blocks again).
TEST_F(ReplicaTest, ARequesterAtTheWindowsEdgeIsServedFromTheStoreIntoTheWindow) {
  config_.committed_blocks_kept_max = 10;
  const auto [blocks, last_qc] = certified_chain(30);
  const Recovery history = committed_history(blocks, last_qc);
  boot(history);
  MemStore store;
  store.save_commits(history.committed);
  RecordingNetwork network;
  ManualClock clock;
  Driver driver(*replica_, clock, network, store);
  driver.start();
  driver.deliver(NodeId(1), SyncRequest{Height(19)});  // the window holds 21..30
  ASSERT_EQ(network.sent.size(), 1u);
  const auto& response = std::get<SyncResponse>(*network.sent[0]);
  ASSERT_EQ(response.blocks.size(), 11u);
  EXPECT_EQ(response.blocks.front()->height(), Height(20));
  EXPECT_EQ(response.blocks.back()->height(), Height(30));
  ASSERT_TRUE(response.qc.has_value());
  EXPECT_EQ(*response.qc, last_qc);
  EXPECT_EQ(driver.stats().store_syncs_served, 1u);
}

TEST_F(ReplicaTest, SyncChainLargerThanTheTreeLimitIsRefused) {
  config_.tree_blocks_max = 2;
  replica_.reset();
  boot();
  const auto [blocks, last_qc] = certified_chain(3);
  deliver(NodeId(1), SyncResponse{blocks, last_qc, Height(1)});
  EXPECT_EQ(rejected(Reject::TreeFull), 1u);
  EXPECT_EQ(replica_->committed_height(), Height(0));
}

// RoundTimeout (docs/protocol.md): half the base more per timed-out round.
TEST_F(ReplicaTest, RoundTimeoutGrowsLinearlyUpToItsCap) {
  config_.round_timeout_ms = 100;
  config_.round_timeout_ms_max = 400;
  replica_.reset();
  boot();
  std::vector<TimeMs> waits;
  TimeMs now = 0;
  for (int i = 0; i < 8; ++i) {
    const TimeMs deadline = replica_->next_deadline();
    waits.push_back(deadline - now);
    now = deadline;
    replica_->on_tick(now);
    flush();
  }
  EXPECT_EQ(waits, (std::vector<TimeMs>{100, 150, 200, 250, 300, 350, 400, 400}));
}

// A leader that cannot propose (its round's QC certifies a block it does not
// have) ticks once at its idle-block deadline; after that its next deadline is
// the round timer, never a time already past, which would spin the driver.
TEST_F(ReplicaTest, ALeaderThatCannotProposeNeverReportsAPastDeadline) {
  config_.idle_block_interval_ms = 50;
  replica_.reset();
  boot();
  std::uint64_t r = 2;
  while (leader(r) != self_) ++r;
  const BlockPtr unknown = block(r - 1, genesis_qc_);
  deliver(NodeId((self_.value + 1) % n), timeout(r, qc(unknown, {0, 1, 2}), NodeId((self_.value + 1) % n)));
  ASSERT_EQ(replica_->round(), Round(r));
  const TimeMs idle = replica_->next_deadline();
  EXPECT_EQ(idle, 50u);
  replica_->on_tick(idle);
  flush();
  EXPECT_EQ(replica_->stats().proposals_sent, 0u);
  EXPECT_GT(replica_->next_deadline(), idle);
}

TEST_F(ReplicaTest, DriverCrashBetweenPersistAndSendNeverLeadsToADifferentVote) {
  CrashRig rig;
  run_to_crash(rig, [&](Driver& driver) {
    driver.set_crash_before(before(Driver::Step::Send));
    driver.deliver(leader(1), proposal(block(1, genesis_qc_)));
  });
  EXPECT_EQ(rig.network.sent, 0u);  // the crash came before anything left
  ASSERT_TRUE(rig.store.load()->safety && rig.store.load()->safety->last_vote);
  const Vote signed_before_crash = *rig.store.load()->safety->last_vote;

  // Restarted from its store, it is shown a different block for round 1 and
  // must not vote; its round then times out and it resends the stored vote.
  const auto replica = restart(rig);
  Driver driver(*replica, rig.clock, rig.network, rig.store);
  driver.start();
  driver.deliver(leader(1), proposal(block(1, genesis_qc_, {signed_transfer(chain_, alice_, 0, bob_.public_key, 5)})));
  EXPECT_TRUE(rig.network.votes.empty());
  rig.clock.now_ms = replica->next_deadline();
  driver.tick();
  ASSERT_EQ(rig.network.votes.size(), 1u);
  EXPECT_EQ(rig.network.votes[0], signed_before_crash);
}

// A crash before any persisting step, after a vote for a block that carries
// QC(1): whatever the store kept, the restarted replica holds a QC as high as
// its record says it voted on, so its own timeout is not refused and can help
// form a TC. Were the record saved before the blocks, a crash between the two
// would leave it claiming QC(1) with only the genesis QC stored, and its
// timeouts would be refused until someone else brought QC(1), which may exist
// nowhere else.
TEST_F(ReplicaTest, ACrashInsideTheDriverNeverLeavesARecordAboveTheStoredQcs) {
  const BlockPtr b1 = block(1, genesis_qc_);
  const BlockPtr b2 = block(2, qc(b1, {0, 1, 2}));
  for (const Driver::Step crash_at : {Driver::Step::PersistBlocks, Driver::Step::PersistSafety, Driver::Step::Send}) {
    SCOPED_TRACE(static_cast<int>(crash_at));
    CrashRig rig;
    run_to_crash(rig, [&](Driver& driver) {
      driver.deliver(leader(1), proposal(b1));
      driver.set_crash_before(before(crash_at));
      driver.deliver(leader(2), proposal(b2));
    });
    const auto replica = restart(rig);
    Driver driver(*replica, rig.clock, rig.network, rig.store);
    driver.start();
    EXPECT_GE(replica->high_qc().round, replica->safety_record().highest_qc_round);
    rig.clock.now_ms = replica->next_deadline();
    driver.tick();
    EXPECT_EQ(replica->stats().rejected(Reject::Unsafe), 0u);
    EXPECT_EQ(replica->stats().timeouts_sent, 1u);
  }
}

// A leader that enters its round through a TC whose high QC it does not hold
// proposes on its own lower QC; the VoteRule then refuses its own vote, so the
// proposal is the only thing it signs in that round. Restarted after a crash
// before anything left, it must resume in that round (the record holds the
// TC), not in an earlier one below its own proposed_round, and it must still
// be able to time out there.
TEST_F(ReplicaTest, ALeaderRestartedAfterAProposalOnATcResumesInThatRound) {
  const std::uint64_t r = first_round_led();
  const Timeout carrier = timeout_carrying_tc(r, Round(1));  // QC(1), which this node lacks
  CrashRig rig;
  run_to_crash(rig, [&](Driver& driver) {
    driver.set_crash_before(before(Driver::Step::Send));
    driver.deliver(carrier.sender, carrier);
  });
  const Recovery stored = rig.store.load().value();
  ASSERT_TRUE(stored.safety);
  ASSERT_EQ(stored.safety->proposed_round, Round(r));
  ASSERT_LT(stored.safety->voted_round, Round(r));  // its own vote was refused

  const auto replica = restart(rig);
  EXPECT_EQ(replica->round(), Round(r));
  Driver driver(*replica, rig.clock, rig.network, rig.store);
  driver.start();
  rig.clock.now_ms = replica->next_deadline();
  driver.tick();
  EXPECT_EQ(replica->stats().rejected(Reject::Unsafe), 0u);
  EXPECT_EQ(replica->stats().timeouts_sent, 1u);
}

// Blocks are durable before the record: a leader that crashes between the two
// finds its own block in its store and no proposal in its record. Nothing of
// that flush left, so it proposes in that round again when it gets there; the
// block it rebuilds is the stored one, which must not be inserted twice.
TEST_F(ReplicaTest, ALeaderThatCrashedBeforeRecordingItsProposalProposesItAgain) {
  const std::uint64_t r = first_round_led();
  const Timeout carrier = timeout_carrying_tc(r, Round(0));
  CrashRig rig;
  run_to_crash(rig, [&](Driver& driver) {
    driver.set_crash_before(before(Driver::Step::PersistSafety));
    driver.deliver(carrier.sender, carrier);
  });
  const Recovery stored = rig.store.load().value();
  ASSERT_EQ(stored.blocks.size(), 1u);
  EXPECT_FALSE(stored.safety && stored.safety->proposed_round == Round(r));
  EXPECT_EQ(rig.network.sent, 0u);

  const auto replica = restart(rig);
  Driver driver(*replica, rig.clock, rig.network, rig.store);
  driver.start();
  driver.deliver(carrier.sender, carrier);
  EXPECT_EQ(replica->stats().proposals_sent, 1u);
  EXPECT_EQ(replica->safety_record().proposed_round, Round(r));
}

TEST_F(ReplicaTest, FutureRoundWithoutCertificateIsRefused) {
  deliver(leader(5), proposal(block(5, genesis_qc_)));
  EXPECT_EQ(rejected(Reject::MissingTimeoutCert), 1u);
  EXPECT_EQ(replica_->round(), Round(1));
}

TEST_F(ReplicaTest, StaleProposalIsIgnoredWithoutVoting) {
  const BlockPtr b1 = block(1, genesis_qc_);
  deliver(leader(1), proposal(b1));
  deliver(leader(1), proposal(b1));  // a duplicate delivery
  const auto votes = votes_sent(flush());
  EXPECT_EQ(votes.size(), 1u);
  EXPECT_EQ(rejected(Reject::Equivocation), 0u);
}

TEST_F(ReplicaTest, VotesFarInTheFutureAreRefused) {
  const BlockPtr far = block(config_.vote_rounds_ahead_max + 10, genesis_qc_);
  deliver(NodeId(1), vote(far, NodeId(1)));
  EXPECT_EQ(rejected(Reject::BadRound), 1u);
}

TEST_F(ReplicaTest, ForgedVoteIsRefused) {
  // Find a round whose next leader is this replica, so it collects the votes.
  std::uint64_t r = 1;
  while (leader(r + 1) != self_) ++r;
  const BlockPtr b = block(r, genesis_qc_);
  Vote v = vote(b, NodeId((self_.value + 1) % n));
  v.sig.bytes[5] ^= 0x40;
  deliver(v.voter, v);
  EXPECT_EQ(rejected(Reject::BadSignature), 1u);
}

TEST_F(ReplicaTest, VoteSentToTheWrongLeaderIsRefused) {
  const BlockPtr b1 = block(1, genesis_qc_);
  ASSERT_NE(leader(2), self_);
  deliver(NodeId(1), vote(b1, NodeId(1)));
  EXPECT_EQ(rejected(Reject::NotNextLeader), 1u);
}

TEST_F(ReplicaTest, QuorumOfTimeoutsFormsATcAndMovesToTheNextRound) {
  for (std::uint32_t i = 0; i < n; ++i) {
    if (NodeId(i) != self_ && replica_->round() == Round(1)) deliver(NodeId(i), timeout(1, genesis_qc_, NodeId(i)));
  }
  // Two foreign timeouts exceed 1/3: this replica joins (TimeoutJoin), and
  // with its own the quorum forms a TC.
  EXPECT_EQ(replica_->round(), Round(2));
  EXPECT_EQ(replica_->stats().tcs_formed, 1u);
  EXPECT_EQ(replica_->safety_record().voted_round, Round(1));
}

TEST_F(ReplicaTest, ForgedTimeoutIsRefused) {
  Timeout t = timeout(1, genesis_qc_, NodeId((self_.value + 1) % n));
  t.sig.bytes[0] ^= 1;
  deliver(t.sender, t);
  EXPECT_EQ(rejected(Reject::BadSignature), 1u);
}

TEST_F(ReplicaTest, AfterARestartItNeverVotesAgainInARoundItVotedIn) {
  const BlockPtr first = block(1, genesis_qc_);
  deliver(leader(1), proposal(first));
  ASSERT_EQ(votes_sent(flush()).size(), 1u);
  replica_.reset();
  boot();  // from the same store: the safety record survives
  // The (equivocating) leader now shows this replica another block for round 1.
  deliver(leader(1), proposal(block(1, genesis_qc_, {signed_transfer(chain_, alice_, 0, bob_.public_key, 5)})));
  EXPECT_TRUE(votes_sent(flush()).empty());
  EXPECT_EQ(replica_->safety_record().voted_round, Round(1));
}

TEST_F(ReplicaTest, ClientRequestsAreAnsweredWithTypedResults) {
  const Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  replica_->on_request(ClientRequest{1, SubmitTx{tx}});
  replica_->on_request(ClientRequest{2, SubmitTx{tx}});
  Transaction forged = signed_transfer(chain_, alice_, 1, bob_.public_key, 5);
  forged.sig.bytes[1] ^= 1;
  replica_->on_request(ClientRequest{3, SubmitTx{forged}});
  replica_->on_request(ClientRequest{4, QueryAccount{alice_.public_key}});
  replica_->on_request(ClientRequest{5, QueryTx{tx_hash(sha256, chain_, tx)}});
  const Outbox out = flush();
  ASSERT_EQ(out.replies.size(), 5u);
  EXPECT_TRUE(std::holds_alternative<TxAccepted>(out.replies[0].body));
  EXPECT_EQ(std::get<TxRejected>(out.replies[1].body).reason, TxError::Duplicate);
  EXPECT_EQ(std::get<TxRejected>(out.replies[2].body).reason, TxError::BadSignature);
  EXPECT_EQ(std::get<AccountInfo>(out.replies[3].body).balance, 1000u);
  EXPECT_EQ(std::get<TxStatus>(out.replies[4].body).state, TxStatus::State::Pending);
  // The accepted transaction is forwarded once to each of the leaders of the
  // next two proposals: no proposal of round 1 has come yet.
  EXPECT_EQ(forwards(out), leaders_of(1));
  for (const Envelope& e : out.messages) {
    if (const auto* b = std::get_if<TxBatch>(e.message.get())) {
      EXPECT_EQ(b->txs, std::vector<Transaction>{tx});
      EXPECT_EQ(b->tx_hashes, tx_hashes(sha256, chain_, b->txs));  // sealed
    }
  }
}

TEST_F(ReplicaTest, AdmitsAForwardedBatchUnderTheHashesItCarries) {
  const Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  Transaction forged = signed_transfer(chain_, alice_, 1, bob_.public_key, 5);
  forged.sig.bytes[0] ^= 1;
  const std::vector<Transaction> txs{tx, forged};
  deliver(NodeId((self_.value + 1) % n), TxBatch{txs, tx_hashes(sha256, chain_, txs)});
  EXPECT_TRUE(replica_->mempool().contains(tx_hash(sha256, chain_, tx)));
  EXPECT_FALSE(replica_->mempool().contains(tx_hash(sha256, chain_, forged)));  // the signature still counts
  EXPECT_EQ(replica_->mempool().size(), 1u);
}

TEST_F(ReplicaTest, ForwardsToTheOtherLeaderOnlyWhenItLeadsOneOfTheNextTwoProposals) {
  // The first round R whose next round this node leads, with every round up
  // to R led by others (whose proposals the test plays).
  std::uint64_t r = 1;
  while (leader(r + 1) != self_) ++r;
  for (std::uint64_t i = 1; i <= r; ++i) ASSERT_NE(leader(i), self_);
  auto [blocks, last_qc] = certified_chain(r);
  for (std::uint64_t i = 1; i <= r; ++i) deliver(leader(i), proposal(blocks[i - 1]));
  flush();
  replica_->on_request(ClientRequest{1, SubmitTx{signed_transfer(chain_, alice_, 0, bob_.public_key, 5)}});
  const std::multiset<NodeId> to = forwards(flush());
  EXPECT_EQ(to, leaders_of(r + 1));
  EXPECT_FALSE(to.contains(self_));
  EXPECT_LE(to.size(), 1u);
}

TEST_F(ReplicaTest, SplitsForwardedTransactionsIntoBatchesTheWireAccepts) {
  std::vector<Transaction> txs;
  for (std::uint64_t nonce = 0; nonce < 5; ++nonce) {
    txs.push_back(signed_transfer(chain_, alice_, nonce, bob_.public_key, 1));
    replica_->on_request(ClientRequest{nonce + 1, SubmitTx{txs.back()}});
  }
  // One flush, five transactions, block_txs_max 2: batches of 2, 2 and 1 to
  // each leader, in order.
  std::map<NodeId, std::vector<Transaction>> got;
  for (const Envelope& e : flush().messages) {
    if (const auto* b = std::get_if<TxBatch>(e.message.get())) {
      EXPECT_LE(b->txs.size(), params_.block_txs_max);
      EXPECT_EQ(b->tx_hashes, tx_hashes(sha256, chain_, b->txs));  // sealed
      got[e.to].insert(got[e.to].end(), b->txs.begin(), b->txs.end());
    }
  }
  const std::multiset<NodeId> leaders = leaders_of(1);
  ASSERT_EQ(got.size(), leaders.size());
  for (NodeId leader : leaders) EXPECT_EQ(got[leader], txs);
}

TEST_F(ReplicaTest, ForwardsAClientTransactionAgainWhileItStaysPending) {
  const Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  replica_->on_request(ClientRequest{1, SubmitTx{tx}});
  ASSERT_EQ(forwards(flush()), leaders_of(1));
  // Rounds 2 to 6 pass with empty blocks: in round 5, four rounds after the
  // forward, the transaction goes to the leaders of rounds 6 and 7, since
  // round 5's proposal is the one that moved this node there.
  auto [blocks, last_qc] = certified_chain(6);
  // In a round this node leads, the QC inside the played proposal lets it
  // propose first, and it builds the very same block: the played one is then
  // a duplicate.
  for (std::uint64_t r = 2; r <= 6; ++r) {
    deliver(leader(r), proposal(blocks[r - 1]));
    EXPECT_EQ(forwards(flush()), r == 5 ? leaders_of(6) : std::multiset<NodeId>{}) << "round " << r;
  }
  EXPECT_EQ(replica_->stats().txs_forwarded_again, 1u);
}

TEST_F(ReplicaTest, ForwardsAClientTransactionAgainWhenATimeoutCertEndsTheRound) {
  const Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  replica_->on_request(ClientRequest{1, SubmitTx{tx}});
  ASSERT_EQ(forwards(flush()), leaders_of(1));
  // Round 1 ends in a TC: its leader may be the one that failed, so the
  // transaction goes at once to the leaders of rounds 2 and 3.
  for (std::uint32_t i = 0; i < n; ++i) {
    if (NodeId(i) != self_ && replica_->round() == Round(1)) deliver(NodeId(i), timeout(1, genesis_qc_, NodeId(i)));
  }
  ASSERT_EQ(replica_->round(), Round(2));
  EXPECT_EQ(forwards(flush()), leaders_of(2));
  EXPECT_EQ(replica_->stats().txs_forwarded_again, 1u);
}

TEST_F(ReplicaTest, AfterATimeoutCertDoesNotForwardAgainWhatACertifiedBlockCarries) {
  const Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  replica_->on_request(ClientRequest{1, SubmitTx{tx}});
  ASSERT_EQ(forwards(flush()), leaders_of(1));
  // Block 1 carries it and block 2's proposal certifies block 1; then round 2
  // ends in a TC. The transaction is on its way to commit: it stays here.
  const BlockPtr b1 = block(1, genesis_qc_, {tx});
  deliver(leader(1), proposal(b1));
  const QuorumCert qc1 = qc(b1, {0, 1, 2});
  deliver(leader(2), proposal(block(2, qc1)));
  ASSERT_EQ(replica_->round(), Round(2));
  flush();
  for (std::uint32_t i = 0; i < n; ++i) {
    if (NodeId(i) != self_ && replica_->round() == Round(2)) deliver(NodeId(i), timeout(2, qc1, NodeId(i)));
  }
  ASSERT_EQ(replica_->round(), Round(3));
  EXPECT_TRUE(forwards(flush()).empty());
  EXPECT_EQ(replica_->stats().txs_forwarded_again, 0u);
}

// The fixture on a chain whose blocks hold up to 100 transactions.
class ReplicaWideBlocksTest : public ReplicaTest {
 protected:
  ReplicaWideBlocksTest() {
    params_.block_txs_max = 100;
    genesis_ = test_genesis(n, {}, {test_allocation(alice_, 1000)}, params_);
    chain_ = genesis_.chain_id();
    roster_ = Roster(genesis_.validators);
    genesis_qc_ = genesis_qc(chain_);
    self_ = pick_self(genesis_);
  }
};

TEST_F(ReplicaWideBlocksTest, SweepsItsForwardListWhenManyCommitBehindAPendingOne) {
  // 70 client transactions; block 1 carries 69 of them (all but nonce 0, so
  // they fail, and leave the pool) and commits two rounds later. The entry of
  // nonce 0 is still pending and not due, so the 69 stale entries behind it
  // would outgrow twice the pool plus 64: check_invariants asserts the sweep.
  std::vector<Transaction> txs;
  for (std::uint64_t nonce = 0; nonce < 70; ++nonce) {
    txs.push_back(signed_transfer(chain_, alice_, nonce, bob_.public_key, 1));
    ASSERT_TRUE(std::holds_alternative<TxAccepted>([&] {
      replica_->on_request(ClientRequest{nonce + 1, SubmitTx{txs.back()}});
      return flush().replies.at(0).body;
    }()));
  }
  const BlockPtr b1 = block(1, genesis_qc_, std::vector<Transaction>(txs.begin() + 1, txs.end()));
  const BlockPtr b2 = block(2, qc(b1, {0, 1, 2}));
  const BlockPtr b3 = block(3, qc(b2, {0, 1, 2}));
  for (const BlockPtr& b : {b1, b2, b3}) deliver(b->proposer, proposal(b));
  flush();
  EXPECT_EQ(replica_->ledger().height(), Height(1));
  EXPECT_EQ(replica_->mempool().size(), 1u);
  EXPECT_EQ(replica_->stats().txs_forwarded_again, 0u);
}

TEST_F(ReplicaTest, ForwardsNothingForATransactionThatCommittedBeforeTheFlush) {
  // Accepted from a client, then committed by blocks that arrive before the
  // outbox is taken: nothing is left to forward, not even an empty batch.
  const Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  replica_->on_request(ClientRequest{1, SubmitTx{tx}});
  const BlockPtr b1 = block(1, genesis_qc_, {tx});
  const BlockPtr b2 = block(2, qc(b1, {0, 1, 2}));
  const BlockPtr b3 = block(3, qc(b2, {0, 1, 2}));
  for (const BlockPtr& b : {b1, b2, b3}) deliver(b->proposer, proposal(b));
  ASSERT_EQ(replica_->ledger().height(), Height(1));
  EXPECT_TRUE(forwards(flush()).empty());
}

TEST_F(ReplicaTest, DoesNotForwardAgainATransactionThatCommitted) {
  const Transaction tx = signed_transfer(chain_, alice_, 0, bob_.public_key, 5);
  replica_->on_request(ClientRequest{1, SubmitTx{tx}});
  ASSERT_EQ(forwards(flush()), leaders_of(1));
  // Block 2 carries it; block 4's QC of block 3 commits it before round 5.
  std::vector<BlockPtr> blocks;
  QuorumCert justify = genesis_qc_;
  for (std::uint64_t r = 1; r <= 6; ++r) {
    blocks.push_back(block(r, justify, r == 2 ? std::vector<Transaction>{tx} : std::vector<Transaction>{}));
    justify = qc(blocks.back(), {0, 1, 2});
  }
  // As above: a round this node leads gets the same block from its own proposal.
  for (std::uint64_t r = 1; r <= 6; ++r) {
    deliver(leader(r), proposal(blocks[r - 1]));
    EXPECT_TRUE(forwards(flush()).empty()) << "round " << r;
  }
  EXPECT_EQ(replica_->ledger().find_tx(tx_hash(sha256, chain_, tx))->height, Height(2));
  EXPECT_EQ(replica_->stats().txs_forwarded_again, 0u);
}

}  // namespace
}  // namespace synod
