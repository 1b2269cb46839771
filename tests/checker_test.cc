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

}  // namespace
}  // namespace synod::sim
