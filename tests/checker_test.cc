// The simulation's checker on hand-made commits: each invariant it keeps
// reports the break it is there for, and nothing else (sim/checker.h).
#include <gtest/gtest.h>

#include <string>

#include "core/certs.h"
#include "core/sign_bytes.h"
#include "sim/checker.h"
#include "sim/sim_crypto.h"
#include "tests/test_util.h"

namespace synod::sim {
namespace {

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest() : client_(scheme_.key("client")), checker_(genesis_, scheme_, {true, true}) {}

  Transaction transfer(std::uint64_t nonce) {
    return signed_tx(chain_, client_, nonce, Transfer{bob().public_key, 1}, scheme_);
  }
  TxHash hash(const Transaction& tx) const { return tx_hash(scheme_.digest(), chain_, tx); }

  // A committed block at `height` on `parent`, every transaction executed.
  CommittedBlock block(std::uint64_t height, const BlockId& parent, std::vector<Transaction> txs) {
    QuorumCert justify{parent, Round(height - 1), Height(height - 1), {}};
    BlockPtr b = seal(scheme_.digest(), chain_, Block{Round(height), NodeId(0), justify, std::move(txs), {}});
    BlockOutcome outcome{b->height(), {}, StateRoot{}};
    for (const TxHash& h : b->tx_hashes) outcome.txs.push_back(TxOutcome{h, std::nullopt});
    return CommittedBlock{b, outcome, {}};
  }

  void commit(InstanceId id, const CommittedBlock& c) { checker_.on_commits(id, TimeMs(0), {c}, total_); }

  std::vector<std::string> findings() const {
    std::vector<std::string> out;
    for (const Violation& v : checker_.violations()) out.push_back(v.what);
    return out;
  }

  SimSignatureScheme scheme_;
  KeyPair client_;
  Genesis genesis_ = test_genesis(2, {}, {test_allocation(alice(), 100)});
  ChainId chain_ = genesis_.chain_id();
  BalanceSum total_ = 100;
  Checker checker_;
  BlockId genesis_block_ = genesis_block_id(chain_);
};

TEST_F(CheckerTest, ASubmittedTransactionExecutedOnceIsFine) {
  const Transaction tx = transfer(0);
  checker_.on_submitted(hash(tx), tx.sig, TimeMs(0));
  commit(0, block(1, genesis_block_, {tx}));
  EXPECT_TRUE(findings().empty());
  EXPECT_EQ(checker_.committed_txs(), 1u);
}

TEST_F(CheckerTest, ATransactionExecutedAtTwoHeightsBreaksIntegrity) {
  const Transaction tx = transfer(0);
  checker_.on_submitted(hash(tx), tx.sig, TimeMs(0));
  const CommittedBlock first = block(1, genesis_block_, {tx});
  commit(0, first);
  commit(0, block(2, first.block->id, {tx}));
  ASSERT_FALSE(findings().empty());
  EXPECT_EQ(findings().front(), "integrity: a transaction executed twice at height 2");
}

TEST_F(CheckerTest, ASubmittedTransactionWhoseSignatureANodeChangedBreaksValidity) {
  const Transaction tx = transfer(0);
  checker_.on_submitted(hash(tx), tx.sig, TimeMs(0));
  Transaction forged = tx;  // the same hash: the signature is not part of it
  forged.sig.bytes[0] ^= 1;
  commit(0, block(1, genesis_block_, {forged}));
  ASSERT_EQ(findings().size(), 1u);
  EXPECT_EQ(findings().front(), "validity: a transaction with a bad signature executed at height 1");
}

TEST_F(CheckerTest, ATransactionNoClientSubmittedBreaksValidity) {
  commit(0, block(1, genesis_block_, {transfer(0)}));
  ASSERT_EQ(findings().size(), 1u);
  EXPECT_EQ(findings().front(), "validity: a transaction no client submitted executed at height 1");
}

TEST_F(CheckerTest, AForkIsReportedOnceAndItsLaterBlocksAreNotCanonical) {
  commit(0, block(1, genesis_block_, {}));
  const CommittedBlock fork = block(1, genesis_block_, {transfer(0)});
  commit(1, fork);
  commit(1, block(2, fork.block->id, {}));
  EXPECT_EQ(findings(), std::vector<std::string>{"agreement: n1 committed a different block at height 1"});
  EXPECT_EQ(checker_.canonical_height(), Height(1)) << "the fork's height 2 must not extend the canonical chain";
}

// Equivocation is judged from what leaves a node, by content: the same vote
// sent twice (a resend) is fine, a second different one for the round is not.
TEST_F(CheckerTest, TwoDifferentVotesProposalsOrTimeoutsForOneRoundAreEquivocation) {
  const BlockId a = block(1, genesis_block_, {}).block->id;
  const BlockId b = block(1, a, {}).block->id;
  const auto vote = [&](const BlockId& id, std::uint64_t round) {
    return Message{Vote{id, Round(round), Height(1), NodeId(1), {}}};
  };
  const auto timeout = [&](std::uint64_t round, std::uint64_t qc_round) {
    return Message{Timeout{Round(round), QuorumCert{a, Round(qc_round), Height(1), {}}, NodeId(1), {}}};
  };
  checker_.on_sent(1, NodeId(1), 0, vote(a, 5));
  checker_.on_sent(1, NodeId(1), 0, vote(a, 5));  // resent as is
  checker_.on_sent(1, NodeId(1), 0, timeout(5, 3));
  checker_.on_sent(1, NodeId(1), 0, timeout(5, 3));
  checker_.on_sent(1, NodeId(1), 0, vote(b, 6));
  EXPECT_TRUE(findings().empty());

  checker_.on_sent(1, NodeId(1), 7, vote(b, 5));
  checker_.on_sent(1, NodeId(1), 8, timeout(5, 4));
  CommittedBlock p = block(3, a, {});
  checker_.on_sent(1, NodeId(1), 8, Message{Proposal{p.block, std::nullopt, {}}});
  checker_.on_sent(1, NodeId(1), 8, Message{Proposal{block(3, b, {}).block, std::nullopt, {}}});
  const auto found = findings();
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0], "equivocation: n1 (validator 1) signed two different votes for round 5");
  EXPECT_EQ(found[1], "equivocation: n1 (validator 1) signed two different timeouts for round 5");
  EXPECT_EQ(found[2], "equivocation: n1 (validator 1) signed two different proposals for round 3");
}

TEST_F(CheckerTest, ACompromisedInstanceMaySignTwice) {
  const BlockId a = block(1, genesis_block_, {}).block->id;
  const BlockId b = block(1, a, {}).block->id;
  checker_.compromise(1);
  checker_.on_sent(1, NodeId(1), 0, Message{Vote{a, Round(5), Height(1), NodeId(1), {}}});
  checker_.on_sent(1, NodeId(1), 0, Message{Vote{b, Round(5), Height(1), NodeId(1), {}}});
  EXPECT_TRUE(findings().empty());
}

// What the checker remembers per validator is bounded: the oldest rounds go.
TEST_F(CheckerTest, TheSignedRoundsRememberedAreBounded) {
  const BlockId a = block(1, genesis_block_, {}).block->id;
  const BlockId b = block(1, a, {}).block->id;
  for (std::uint64_t r = 1; r <= 5000; ++r) checker_.on_sent(0, NodeId(0), 0, Message{Vote{a, Round(r), Height(1), NodeId(0), {}}});
  checker_.on_sent(0, NodeId(0), 0, Message{Vote{b, Round(1), Height(1), NodeId(0), {}}});  // forgotten: not seen
  EXPECT_TRUE(findings().empty());
  checker_.on_sent(0, NodeId(0), 0, Message{Vote{b, Round(5000), Height(1), NodeId(0), {}}});
  EXPECT_EQ(findings().size(), 1u);
}

}  // namespace
}  // namespace synod::sim
