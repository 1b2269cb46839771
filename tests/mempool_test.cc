// Mempool tests: each admission check and their order, the limits on the pool
// and on proposal batches (hit exactly), exclusion, removal after commit, and
// that a signature is verified once.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <list>
#include <map>
#include <string>
#include <vector>

#include "core/mempool.h"
#include "tests/test_util.h"

namespace synod {
namespace {

// Accepts every signature: for properties about bookkeeping, where signing
// would only cost time.
class AcceptAllScheme final : public SignatureScheme {
 public:
  Signature sign(const KeyPair&, ByteView) const override { return Signature{}; }
  bool verify(const PublicKey&, ByteView, const Signature&) const override { return true; }
};


// A chain, its ledger and a mempool over a counting Ed25519 scheme.
struct Pool {
  explicit Pool(MempoolLimits limits = {}, ChainParams params = {})
      : genesis(test_genesis(4, {}, {test_allocation(alice(), 1'000'000), test_allocation(bob(), 1'000'000)},
                             params)),
        chain(genesis.chain_id()),
        ledger(genesis, sha256),
        scheme(ed25519_scheme()),
        mempool(chain, genesis.params, limits, scheme) {}

  Transaction transfer(std::uint64_t nonce, std::uint64_t amount = 1, const KeyPair& from = alice()) const {
    return signed_transfer(chain, from, nonce, bob().public_key, amount);
  }

  // A proposal's batch in `round` on top of `ancestors` and the ledger.
  Mempool::Batch batch(const std::vector<BlockPtr>& ancestors = {}, std::uint64_t round = 1) {
    return mempool.batch(ancestors, ledger, Round(round));
  }

  // An uncommitted block carrying `txs`, as an ancestor of the next proposal.
  BlockPtr pending_block(std::vector<Transaction> txs) const {
    return seal(sha256, chain, Block{Round(1), NodeId(0), QuorumCert{}, std::move(txs), {}});
  }

  Genesis genesis;
  ChainId chain;
  Ledger ledger;
  CountingScheme scheme;
  Mempool mempool;
};

const std::size_t transfer_bytes = tx_size_bytes(Transaction{});  // every transfer has this size

std::optional<TxError> rejection(const std::expected<TxHash, TxError>& result) {
  if (result) return std::nullopt;
  return result.error();
}

// ---- admission ---------------------------------------------------------------

TEST(MempoolAdd, AcceptsValidTransaction) {
  Pool p;
  const Transaction tx = p.transfer(0);
  const auto result = p.mempool.add(tx, p.ledger);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, tx_hash(sha256, p.chain, tx));
  EXPECT_TRUE(p.mempool.contains(*result));
  EXPECT_EQ(p.mempool.size(), 1u);
  EXPECT_EQ(p.mempool.bytes(), tx_size_bytes(tx));
  EXPECT_EQ(p.scheme.verify_calls, 1u);
}

TEST(MempoolAdd, RejectsTooLarge) {
  ChainParams params;
  params.tx_bytes_max = 300;
  params.key_bytes_max = 8;
  params.value_bytes_max = 100;
  struct Case {
    std::string name;
    Bytes key;
    Bytes value;
    bool accepted;
  };
  // Store size = 32 + 8 + 1 + 8 + key + value + 64 = 113 + key + value.
  const std::vector<Case> cases = {
      {"key at limit", filled_bytes(8), filled_bytes(100), true},
      {"key over limit", filled_bytes(9), {}, false},
      {"value over limit", {}, filled_bytes(101), false},
  };
  for (const Case& c : cases) {
    Pool p({}, params);
    const auto result = p.mempool.add(signed_store(p.chain, alice(), 0, c.key, c.value), p.ledger);
    EXPECT_EQ(result.has_value(), c.accepted) << c.name;
    if (!c.accepted) {
      EXPECT_EQ(result.error(), TxError::TooLarge) << c.name;
      EXPECT_EQ(p.scheme.verify_calls, 0u) << c.name;
    }
  }

  // Whole-transaction size, with key and value each within their own limit.
  params.key_bytes_max = 64;
  params.value_bytes_max = 1024;
  Pool p({}, params);
  const Transaction at_limit = signed_store(p.chain, alice(), 0, filled_bytes(10), filled_bytes(177));
  const Transaction over_limit = signed_store(p.chain, alice(), 1, filled_bytes(10), filled_bytes(178));
  ASSERT_EQ(tx_size_bytes(at_limit), params.tx_bytes_max);
  EXPECT_TRUE(p.mempool.add(at_limit, p.ledger));
  const auto over = p.mempool.add(over_limit, p.ledger);
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error(), TxError::TooLarge);
}

TEST(MempoolAdd, RejectsDuplicatePending) {
  Pool p;
  const Transaction tx = p.transfer(0);
  ASSERT_TRUE(p.mempool.add(tx, p.ledger));
  const auto again = p.mempool.add(tx, p.ledger);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error(), TxError::Duplicate);
  EXPECT_EQ(p.mempool.size(), 1u);
}

TEST(MempoolAdd, RejectsDuplicateCommitted) {
  Pool p;
  const Transaction executed = p.transfer(0);
  const Transaction failed = p.transfer(5, 1, bob());  // BadNonce in the block, still committed
  p.ledger.execute(Height(1), {executed, failed});
  ASSERT_TRUE(p.ledger.find_tx(tx_hash(sha256, p.chain, failed)).has_value());

  for (const Transaction& tx : {executed, failed}) {
    const auto result = p.mempool.add(tx, p.ledger);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error(), TxError::Duplicate);
  }
  EXPECT_EQ(p.scheme.verify_calls, 0u);
}

TEST(MempoolAdd, RejectsNonceBelowAccount) {
  Pool p;
  p.ledger.execute(Height(1), {p.transfer(0)});
  const auto result = p.mempool.add(p.transfer(0, 2), p.ledger);  // another tx, same used nonce
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error(), TxError::BadNonce);
  EXPECT_TRUE(p.mempool.add(p.transfer(1), p.ledger));
}

TEST(MempoolAdd, NonceWindowIsInclusiveAndMovesWithTheAccount) {
  Pool p(MempoolLimits{.nonce_ahead_max = 3});
  EXPECT_TRUE(p.mempool.add(p.transfer(3), p.ledger));
  const auto too_far = p.mempool.add(p.transfer(4), p.ledger);
  ASSERT_FALSE(too_far.has_value());
  EXPECT_EQ(too_far.error(), TxError::BadNonce);
  EXPECT_EQ(p.scheme.verify_calls, 1u);

  p.ledger.execute(Height(1), {p.transfer(0)});
  EXPECT_TRUE(p.mempool.add(p.transfer(4), p.ledger));

  // An account the ledger has never seen has nonce 0.
  const KeyPair stranger = test_key("stranger");
  EXPECT_TRUE(p.mempool.add(signed_transfer(p.chain, stranger, 3, bob().public_key, 0), p.ledger));
  EXPECT_FALSE(p.mempool.add(signed_transfer(p.chain, stranger, 4, bob().public_key, 0), p.ledger));
}

TEST(MempoolAdd, PoolFullByCount) {
  Pool p(MempoolLimits{.txs_max = 2});
  EXPECT_TRUE(p.mempool.add(p.transfer(0), p.ledger));
  EXPECT_TRUE(p.mempool.add(p.transfer(1), p.ledger));
  const auto full = p.mempool.add(p.transfer(2), p.ledger);
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error(), TxError::PoolFull);
  EXPECT_EQ(p.mempool.size(), 2u);
  EXPECT_EQ(p.scheme.verify_calls, 2u);
}

TEST(MempoolAdd, PoolFullByBytes) {
  {
    Pool p(MempoolLimits{.bytes_max = 3 * transfer_bytes});  // exactly three fit
    for (std::uint64_t n = 0; n < 3; ++n) EXPECT_TRUE(p.mempool.add(p.transfer(n), p.ledger));
    EXPECT_EQ(p.mempool.bytes(), 3 * transfer_bytes);
    const auto full = p.mempool.add(p.transfer(3), p.ledger);
    ASSERT_FALSE(full.has_value());
    EXPECT_EQ(full.error(), TxError::PoolFull);
  }
  {
    Pool p(MempoolLimits{.bytes_max = 3 * transfer_bytes - 1});  // one byte short of three
    for (std::uint64_t n = 0; n < 2; ++n) EXPECT_TRUE(p.mempool.add(p.transfer(n), p.ledger));
    const auto full = p.mempool.add(p.transfer(2), p.ledger);
    ASSERT_FALSE(full.has_value());
    EXPECT_EQ(full.error(), TxError::PoolFull);
    EXPECT_EQ(p.mempool.bytes(), 2 * transfer_bytes);
  }
}

TEST(MempoolAdd, RejectsBadSignature) {
  Pool p;
  Genesis other_genesis = p.genesis;
  other_genesis.chain_name = "another-chain";
  const ChainId other_chain = other_genesis.chain_id();
  ASSERT_NE(other_chain, p.chain);

  struct Case {
    std::string name;
    Transaction tx;
  };
  Transaction by_bob = p.transfer(0);
  by_bob.sig = ed25519_scheme().sign(bob(), tx_sig_bytes(tx_hash(sha256, p.chain, by_bob)));
  Transaction over_bare_hash = p.transfer(0);
  over_bare_hash.sig = ed25519_scheme().sign(alice(), tx_hash(sha256, p.chain, over_bare_hash).view());
  Transaction flipped = p.transfer(0);
  flipped.sig.bytes[10] ^= 1;
  Transaction altered = p.transfer(0, 1);
  std::get<Transfer>(altered.op).amount = 1000;
  Transaction unsigned_one = unsigned_tx(alice(), 0, Transfer{bob().public_key, 1});
  const std::vector<Case> cases = {
      {"signed for another chain id", signed_transfer(other_chain, alice(), 0, bob().public_key, 1)},
      {"signed by another key", by_bob},
      {"signed over the bare hash, without the domain", over_bare_hash},
      {"signature bit flipped", flipped},
      {"amount changed after signing", altered},
      {"zero signature", unsigned_one},
  };
  for (const Case& c : cases) {
    const std::size_t calls_before = p.scheme.verify_calls;
    const auto result = p.mempool.add(c.tx, p.ledger);
    ASSERT_FALSE(result.has_value()) << c.name;
    EXPECT_EQ(result.error(), TxError::BadSignature) << c.name;
    EXPECT_EQ(p.scheme.verify_calls, calls_before + 1) << c.name;
  }
  EXPECT_EQ(p.mempool.size(), 0u);
  EXPECT_EQ(p.mempool.bytes(), 0u);
}

TEST(MempoolAdd, ChecksRunCheapestFirst) {
  // Each transaction fails several checks; the first in the documented order
  // wins, and none of them costs a signature verification.
  ChainParams params;
  params.key_bytes_max = 4;
  Pool p(MempoolLimits{.txs_max = 1, .nonce_ahead_max = 10}, params);
  const Transaction pending = p.transfer(0);
  ASSERT_TRUE(p.mempool.add(pending, p.ledger));  // the pool is now full
  const std::size_t calls = p.scheme.verify_calls;

  Transaction too_large_far_bad_sig = unsigned_tx(alice(), 99, StoreValue{filled_bytes(5), {}});
  Transaction far_bad_sig = unsigned_tx(alice(), 99, Transfer{bob().public_key, 1});
  Transaction full_bad_sig = unsigned_tx(alice(), 1, Transfer{bob().public_key, 1});
  struct Case {
    std::string name;
    Transaction tx;
    TxError error;
  };
  const std::vector<Case> cases = {
      {"too large beats nonce, full and signature", too_large_far_bad_sig, TxError::TooLarge},
      {"duplicate beats full", pending, TxError::Duplicate},
      {"nonce beats full and signature", far_bad_sig, TxError::BadNonce},
      {"full beats signature", full_bad_sig, TxError::PoolFull},
  };
  for (const Case& c : cases) {
    const auto result = p.mempool.add(c.tx, p.ledger);
    ASSERT_FALSE(result.has_value()) << c.name;
    EXPECT_EQ(result.error(), c.error) << c.name;
  }
  EXPECT_EQ(p.scheme.verify_calls, calls);
}

TEST(MempoolAdd, VerifiesEachSignatureOnce) {
  Pool p;
  const Transaction tx = p.transfer(0);
  EXPECT_TRUE(p.mempool.add(tx, p.ledger));
  EXPECT_FALSE(p.mempool.add(tx, p.ledger));
  EXPECT_EQ(p.scheme.verify_calls, 1u);
}

// ---- batches -------------------------------------------------------------------

TEST(MempoolBatch, EmptyPoolGivesEmptyBatch) {
  Pool p;
  EXPECT_TRUE(p.batch().txs.empty());
}

TEST(MempoolBatch, KeepsArrivalOrder) {
  Pool p;
  // Two senders interleaved, each in nonce order: the pool does not reorder.
  std::vector<Transaction> arrived;
  for (std::uint64_t n = 0; n < 6; ++n) arrived.push_back(p.transfer(n / 2, 1, n % 2 ? bob() : alice()));
  std::swap(arrived[0], arrived[1]);
  for (const Transaction& tx : arrived) ASSERT_TRUE(p.mempool.add(tx, p.ledger));
  const Mempool::Batch batch = p.batch();
  EXPECT_EQ(batch.txs, arrived);
  EXPECT_EQ(batch.hashes, tx_hashes(sha256, p.chain, arrived));  // what sealing the block then trusts
}

TEST(MempoolBatch, CountLimitHitExactly) {
  ChainParams params;
  params.block_txs_max = 3;
  Pool p({}, params);
  std::vector<Transaction> txs;
  for (std::uint64_t n = 0; n < 3; ++n) {
    txs.push_back(p.transfer(n));
    ASSERT_TRUE(p.mempool.add(txs.back(), p.ledger));
  }
  EXPECT_EQ(p.batch().txs, txs);  // exactly at the limit: all of them
  ASSERT_TRUE(p.mempool.add(p.transfer(3), p.ledger));
  ASSERT_TRUE(p.mempool.add(p.transfer(4), p.ledger));
  EXPECT_EQ(p.batch().txs, txs);  // over it: the first three
}

TEST(MempoolBatch, BytesLimitHitExactly) {
  for (const auto& [block_bytes_max, expected_count] :
       std::vector<std::pair<std::uint64_t, std::size_t>>{{3 * transfer_bytes, 3},
                                                          {3 * transfer_bytes - 1, 2},
                                                          {transfer_bytes - 1, 0}}) {
    ChainParams params;
    params.block_bytes_max = block_bytes_max;
    Pool p({}, params);
    std::vector<Transaction> txs;
    for (std::uint64_t n = 0; n < 5; ++n) {
      txs.push_back(p.transfer(n));
      ASSERT_TRUE(p.mempool.add(txs.back(), p.ledger));
    }
    const std::vector<Transaction> batch = p.batch().txs;
    ASSERT_EQ(batch.size(), expected_count) << block_bytes_max;
    EXPECT_TRUE(std::equal(batch.begin(), batch.end(), txs.begin()));
  }
}

TEST(MempoolBatch, StopsAtFirstTransactionThatDoesNotFit) {
  // A large transaction is not overtaken by smaller later ones: arrival order
  // alone decides, so every node would propose the same prefix.
  ChainParams params;
  params.block_bytes_max = 2 * transfer_bytes + 100;
  Pool p({}, params);
  const Transaction first = p.transfer(0);
  const Transaction big = signed_store(p.chain, alice(), 1, test_bytes("k"), filled_bytes(500));
  ASSERT_TRUE(p.mempool.add(first, p.ledger));
  ASSERT_TRUE(p.mempool.add(big, p.ledger));
  ASSERT_TRUE(p.mempool.add(p.transfer(2), p.ledger));
  EXPECT_EQ(p.batch().txs, std::vector<Transaction>{first});
}

TEST(MempoolBatch, SkipsWhatAncestorsCarryAndFillsFromLaterOnes) {
  ChainParams params;
  params.block_txs_max = 2;
  Pool p({}, params);
  const std::vector<Transaction> txs = {p.transfer(0), p.transfer(0, 1, bob()), p.transfer(1),
                                        p.transfer(1, 1, bob()), p.transfer(2)};
  for (const Transaction& tx : txs) ASSERT_TRUE(p.mempool.add(tx, p.ledger));
  EXPECT_EQ(p.batch({p.pending_block({txs[1]})}).txs, (std::vector<Transaction>{txs[0], txs[2]}));
  EXPECT_EQ(p.batch({p.pending_block({txs[0]}), p.pending_block({txs[2]})}).txs,
            (std::vector<Transaction>{txs[1], txs[3]}));
  // Ancestors carrying everything leave nothing; one carrying a transaction
  // this pool never saw changes nothing.
  EXPECT_TRUE(p.batch({p.pending_block(txs)}).txs.empty());
  EXPECT_EQ(p.batch({p.pending_block({p.transfer(0, 1, carol())})}).txs, (std::vector<Transaction>{txs[0], txs[1]}));
  EXPECT_EQ(p.mempool.size(), 5u);  // batch() does not remove
}

TEST(MempoolBatch, HoldsBackANonceGapUntilThePredecessorIsOnTheChain) {
  Pool p;
  const Transaction second = p.transfer(1);
  ASSERT_TRUE(p.mempool.add(second, p.ledger));
  EXPECT_TRUE(p.batch().txs.empty());  // nonce 1 would fail: the account's nonce is 0
  const Transaction first = p.transfer(0);
  ASSERT_TRUE(p.mempool.add(first, p.ledger));
  // The held-back successor follows its predecessor in the same batch.
  EXPECT_EQ(p.batch().txs, (std::vector<Transaction>{first, second}));
  // A predecessor in an ancestor counts the same.
  EXPECT_EQ(p.batch({p.pending_block({first})}).txs, std::vector<Transaction>{second});
  // A predecessor the ledger executed counts the same.
  p.mempool.remove_committed(p.ledger.execute(Height(1), {first}).txs);
  EXPECT_EQ(p.batch().txs, std::vector<Transaction>{second});
}

TEST(MempoolBatch, ProposesAHeldBackTransactionAfterGapWaitRounds) {
  Pool p(MempoolLimits{.gap_wait_rounds = 8});
  const Transaction gapped = p.transfer(3);
  ASSERT_TRUE(p.mempool.add(gapped, p.ledger));
  EXPECT_TRUE(p.batch({}, 5).txs.empty());  // held back from round 5
  EXPECT_TRUE(p.batch({}, 12).txs.empty());
  EXPECT_EQ(p.batch({}, 13).txs, std::vector<Transaction>{gapped});  // then proposed, to fail
}

TEST(MempoolBatch, AWaitedOutTransactionStillFollowsAPredecessorThatArrived) {
  Pool p(MempoolLimits{.gap_wait_rounds = 8});
  const Transaction second = p.transfer(1);
  ASSERT_TRUE(p.mempool.add(second, p.ledger));
  EXPECT_TRUE(p.batch({}, 1).txs.empty());
  const Transaction first = p.transfer(0);
  ASSERT_TRUE(p.mempool.add(first, p.ledger));
  // Released by time, yet placed after the predecessor that arrived after it:
  // in arrival order it would fail BAD_NONCE in the very block that makes it valid.
  EXPECT_EQ(p.batch({}, 20).txs, (std::vector<Transaction>{first, second}));
}

TEST(MempoolBatch, ProposesANonceAlreadyTakenSoThatItFailsAndLeaves) {
  Pool p;
  const Transaction other = p.transfer(0, 1);
  const Transaction taken = p.transfer(0, 7);
  ASSERT_TRUE(p.mempool.add(taken, p.ledger));
  const std::vector<Transaction> batch = p.batch({p.pending_block({other})}).txs;
  ASSERT_EQ(batch, std::vector<Transaction>{taken});
  const BlockOutcome outcome = p.ledger.execute(Height(1), {other, taken});
  EXPECT_EQ(outcome.txs[1].error, TxError::BadNonce);
  p.mempool.remove_committed(outcome.txs);
  EXPECT_EQ(p.mempool.size(), 0u);
}

// ---- removal -------------------------------------------------------------------

TEST(MempoolRemove, RemoveCommittedFreesSpace) {
  Pool p(MempoolLimits{.txs_max = 2, .bytes_max = 2 * transfer_bytes});
  const Transaction t0 = p.transfer(0);
  const Transaction t1 = p.transfer(1);
  ASSERT_TRUE(p.mempool.add(t0, p.ledger));
  ASSERT_TRUE(p.mempool.add(t1, p.ledger));
  EXPECT_EQ(rejection(p.mempool.add(p.transfer(2), p.ledger)), TxError::PoolFull);

  // The committed block also carries a transaction this node never saw.
  const BlockOutcome outcome = p.ledger.execute(Height(1), {t0, p.transfer(0, 1, bob())});
  p.mempool.remove_committed(outcome.txs);
  EXPECT_FALSE(p.mempool.contains(tx_hash(sha256, p.chain, t0)));
  EXPECT_TRUE(p.mempool.contains(tx_hash(sha256, p.chain, t1)));
  EXPECT_EQ(p.mempool.size(), 1u);
  EXPECT_EQ(p.mempool.bytes(), transfer_bytes);
  EXPECT_EQ(p.batch().txs, std::vector<Transaction>{t1});

  EXPECT_TRUE(p.mempool.add(p.transfer(2), p.ledger));
  EXPECT_EQ(rejection(p.mempool.add(t0, p.ledger)), TxError::Duplicate);  // committed now

  // Removing twice, or removing failed outcomes, is harmless.
  p.mempool.remove_committed(outcome.txs);
  p.mempool.remove_committed({TxOutcome{tx_hash(sha256, p.chain, t1), TxError::BadNonce},
                              TxOutcome{tx_hash(sha256, p.chain, p.transfer(2)), std::nullopt}});
  EXPECT_EQ(p.mempool.size(), 0u);
  EXPECT_EQ(p.mempool.bytes(), 0u);
  EXPECT_TRUE(p.batch().txs.empty());
}

// ---- properties ----------------------------------------------------------------

// A one-validator chain and a mempool that accepts every signature.
struct BarePool {
  explicit BarePool(MempoolLimits limits) : mempool(chain, genesis.params, limits, scheme) {}
  Genesis genesis = test_genesis(1);
  ChainId chain = genesis.chain_id();
  Ledger ledger{genesis, sha256};
  AcceptAllScheme scheme;
  Mempool mempool;
};

// Random adds and removals keep the count, the bytes and the arrival order
// exactly as a plain list would, and never pass the limits.
RC_GTEST_PROP(MempoolProperty, BookkeepingMatchesAList,
              (const std::vector<std::pair<bool, std::uint16_t>>& ops)) {
  // Random nonces: gap_wait_rounds 0 proposes them without holding any back.
  const MempoolLimits limits{.txs_max = 8, .bytes_max = 1500, .nonce_ahead_max = 1u << 16, .gap_wait_rounds = 0};
  BarePool p(limits);
  const ChainId& chain = p.chain;
  const Ledger& ledger = p.ledger;
  Mempool& mempool = p.mempool;
  const KeyPair sender = test_key("sender");

  std::list<Transaction> model;  // accepted, in arrival order
  std::size_t model_bytes = 0;
  for (const auto& [is_add, n] : ops) {
    if (is_add) {
      // Stores of varying size, so the byte limit bites before the count limit.
      const Transaction tx = unsigned_tx(sender, n, StoreValue{test_bytes("k"), filled_bytes(n % 200)});
      const bool duplicate = std::find(model.begin(), model.end(), tx) != model.end();
      const auto result = mempool.add(tx, ledger);
      if (duplicate) {
        RC_ASSERT(!result.has_value() && result.error() == TxError::Duplicate);
      } else if (model.size() + 1 > limits.txs_max || model_bytes + tx_size_bytes(tx) > limits.bytes_max) {
        RC_ASSERT(!result.has_value() && result.error() == TxError::PoolFull);
      } else {
        RC_ASSERT(result.has_value());
        model.push_back(tx);
        model_bytes += tx_size_bytes(tx);
      }
    } else if (!model.empty()) {
      auto it = std::next(model.begin(), static_cast<std::ptrdiff_t>(n % model.size()));
      mempool.remove_committed({TxOutcome{tx_hash(sha256, chain, *it), std::nullopt}});
      model_bytes -= tx_size_bytes(*it);
      model.erase(it);
    }
    RC_ASSERT(mempool.size() == model.size());
    RC_ASSERT(mempool.bytes() == model_bytes);
    RC_ASSERT(mempool.bytes() <= limits.bytes_max);
    RC_ASSERT(mempool.batch({}, ledger, Round(1)).txs == std::vector<Transaction>(model.begin(), model.end()));
  }
}

// Random arrivals from two senders with nonces out of order: one batch never
// proposes a nonce ahead of its sender's next one (fresh holds have not
// waited), and leaves out no pending transaction that would execute next.
RC_GTEST_PROP(MempoolProperty, ABatchHoldsBackGapsAndLeavesNoNextNonceBehind,
              (const std::vector<std::pair<bool, std::uint8_t>>& arrivals)) {
  BarePool p(MempoolLimits{.gap_wait_rounds = 8});
  const Ledger& ledger = p.ledger;
  Mempool& mempool = p.mempool;
  const KeyPair senders[2] = {test_key("sender-a"), test_key("sender-b")};
  std::vector<Transaction> pending;
  for (const auto& [second, n] : arrivals) {
    const Transaction tx = unsigned_tx(senders[second ? 1 : 0], n % 8, Transfer{test_key("to").public_key, n});
    if (mempool.add(tx, ledger)) pending.push_back(tx);
  }
  const std::vector<Transaction> batch = mempool.batch({}, ledger, Round(1)).txs;
  std::map<PublicKey, std::uint64_t> next;  // both senders start at nonce 0
  for (const Transaction& tx : batch) {
    RC_ASSERT(tx.nonce <= next[tx.sender]);
    if (tx.nonce == next[tx.sender]) ++next[tx.sender];
  }
  for (const Transaction& tx : pending) {
    if (std::find(batch.begin(), batch.end(), tx) == batch.end()) RC_ASSERT(tx.nonce != next[tx.sender]);
  }
}

}  // namespace
}  // namespace synod
