// AmnesiaRule (docs/protocol.md, section 5): a replica restarted without its
// safety record must not sign in any round it may have signed in before, and
// must sign again once the network has moved past them.
#include <gtest/gtest.h>

#include "core/mem_store.h"
#include "tests/signed_rounds.h"

namespace synod {
namespace {

class AmnesiaTest : public ::testing::Test {
 protected:
  void SetUp() override { config_.amnesia_settle_ms = 1000; }

  void boot(const Recovery& recovery) {
    replica_ = net_.boot(config_, recovery, now_);
    flush();
  }

  // The store's content with the safety record gone, as LmdbStore reports it.
  Recovery lost_record() const {
    Recovery r = store_.load().value();
    r.safety.reset();
    r.safety_lost = StoreError{StoreErrorKind::MissingSafetyRecord, "test"};
    return r;
  }

  Outbox flush() { return SignedRounds::persist(*replica_, store_); }
  void propose(const BlockPtr& b) { replica_->on_message(b->proposer, net_.proposal(b)); }
  std::vector<Vote> votes() { return SignedRounds::votes(flush()); }

  // Votes in rounds 1 and 2, joins the others' timeouts of round 2, then times
  // out round 3 alone (no block of round 3 ever reaches its ledger). Then the
  // process dies.
  void sign_up_to_round_3() {
    boot(store_.load().value());
    b1_ = net_.block(1, genesis_qc(net_.chain));
    propose(b1_);
    b2_ = net_.block(2, net_.qc(b1_));
    propose(b2_);
    ASSERT_EQ(votes().size(), 2u);
    for (std::uint32_t i = 0, sent = 0; i < SignedRounds::n && sent < 2; ++i) {
      if (NodeId(i) == net_.self) continue;
      replica_->on_message(NodeId(i), net_.timeout(2, net_.qc(b1_), NodeId(i)));
      ++sent;
    }
    ASSERT_EQ(replica_->round(), Round(3));
    now_ = replica_->next_deadline();
    replica_->on_tick(now_);
    flush();
    ASSERT_EQ(store_.load()->safety->last_timeout->round, Round(3));
    replica_.reset();
  }

  SignedRounds net_{6};
  ReplicaConfig config_;
  MemStore store_;
  TimeMs now_ = 0;
  std::unique_ptr<Replica> replica_;
  BlockPtr b1_, b2_;
};

TEST_F(AmnesiaTest, ARestartThatTakesALostRecordForAFirstStartDoubleVotes) {
  // Why the rule exists: a replica that forgot its timeout of round 3 votes
  // in round 3, which the VoteRule forbids (Lemma 3 of the safety argument).
  sign_up_to_round_3();
  Recovery naive = store_.load().value();
  naive.safety.reset();
  boot(naive);
  propose(net_.block(3, net_.qc(b2_)));
  const auto cast = votes();
  ASSERT_EQ(cast.size(), 1u);
  EXPECT_EQ(cast[0].round, Round(3));
}

TEST_F(AmnesiaTest, NeverSignsInRoundsItMayHaveSignedAndSignsAgainPastTheFence) {
  sign_up_to_round_3();
  boot(lost_record());
  ASSERT_TRUE(replica_->amnesiac());

  // Round 3 carries QC(2), no higher than its own ledger: it timed out round 3
  // before, and must neither vote there nor time out again.
  const BlockPtr b3 = net_.block(3, net_.qc(b2_));
  propose(b3);
  EXPECT_TRUE(votes().empty());
  EXPECT_EQ(replica_->stats().signatures_withheld, 1u);
  now_ = replica_->next_deadline();
  replica_->on_tick(now_);
  EXPECT_EQ(SignedRounds::timeouts(flush()), 0u);
  EXPECT_EQ(replica_->stats().signatures_withheld, 2u);
  EXPECT_FALSE(replica_->amnesia_fence().has_value());

  // QC(3) is above the ledger: the settling window opens, nothing signed yet.
  const BlockPtr b4 = net_.block(4, net_.qc(b3));
  propose(b4);
  EXPECT_TRUE(votes().empty());
  now_ += config_.amnesia_settle_ms;
  replica_->on_tick(now_);
  ASSERT_EQ(replica_->amnesia_fence(), Round(4));  // observed round 3, plus one
  EXPECT_TRUE(replica_->amnesiac());

  // Round 5 is past the fence: it votes, and the new record is written.
  propose(net_.block(5, net_.qc(b4)));
  const Outbox out = flush();
  const auto cast = SignedRounds::votes(out);
  ASSERT_EQ(cast.size(), 1u);
  EXPECT_EQ(cast[0].round, Round(5));
  ASSERT_TRUE(out.safety.has_value());
  EXPECT_EQ(out.safety->voted_round, Round(5));
  EXPECT_FALSE(replica_->amnesiac());
}

TEST_F(AmnesiaTest, CertificatesSeenDuringTheWindowRaiseTheFence) {
  sign_up_to_round_3();
  boot(lost_record());
  const BlockPtr b3 = net_.block(3, net_.qc(b2_));
  propose(b3);
  const BlockPtr b4 = net_.block(4, net_.qc(b3));
  propose(b4);  // QC(3): the window opens
  const BlockPtr b5 = net_.block(5, net_.qc(b4));
  propose(b5);  // QC(4) inside the window
  now_ += config_.amnesia_settle_ms;
  replica_->on_tick(now_);
  EXPECT_EQ(replica_->amnesia_fence(), Round(5));
  EXPECT_TRUE(votes().empty());
  propose(net_.block(6, net_.qc(b5)));
  EXPECT_EQ(votes().size(), 1u);
}

TEST_F(AmnesiaTest, ALeaderThatMayNotProposeHandsOnTheQcItFormedOnce) {
  sign_up_to_round_3();
  boot(lost_record());
  std::uint64_t r = 4;
  while (net_.leader(r) != net_.self) ++r;
  BlockPtr last = b2_;
  for (std::uint64_t k = 3; k < r; ++k) {
    const BlockPtr b = net_.block(k, net_.qc(last));
    propose(b);
    last = b;
  }
  flush();
  ASSERT_TRUE(replica_->amnesiac());

  // The others vote for the block of round r-1 and send it here, the leader
  // of round r, which forms QC(r-1) but may not propose.
  for (std::uint32_t v = 0; v < SignedRounds::n; ++v) {
    if (NodeId(v) != net_.self) replica_->on_message(NodeId(v), net_.vote(last, NodeId(v)));
  }
  EXPECT_EQ(replica_->round(), Round(r));
  const auto handed_on = [](const Outbox& out) {
    std::size_t found = 0;
    for (const Envelope& e : out.messages) {
      const auto* s = std::get_if<SyncResponse>(e.message.get());
      found += s && s->blocks.empty() && s->qc ? 1 : 0;
      EXPECT_FALSE(std::holds_alternative<Proposal>(*e.message));
    }
    return found;
  };
  const Outbox out = flush();
  EXPECT_EQ(handed_on(out), SignedRounds::n - 1);  // to every peer
  for (const Envelope& e : out.messages) {
    if (const auto* s = std::get_if<SyncResponse>(e.message.get())) {
      EXPECT_EQ(s->qc->block, last->id);
    }
  }
  replica_->on_tick(now_);
  EXPECT_EQ(handed_on(flush()), 0u);  // once per QC
}

TEST_F(AmnesiaTest, AnIntactRecordNeedsNoFence) {
  sign_up_to_round_3();
  boot(store_.load().value());
  EXPECT_FALSE(replica_->amnesiac());
  const BlockPtr b3 = net_.block(3, net_.qc(b2_));
  propose(b3);
  EXPECT_TRUE(votes().empty());  // the VoteRule, from the record
  propose(net_.block(4, net_.qc(b3)));
  EXPECT_EQ(votes().size(), 1u);
}

}  // namespace
}  // namespace synod
