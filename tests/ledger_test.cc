// Ledger tests: genesis, execution of each transaction kind, every TxError with
// its "changes nothing" guarantee, the committed-transaction index, the state
// root's determinism and history commitment, and a conservation property.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/ledger.h"
#include "tests/test_util.h"

namespace synod {
namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();


Genesis standard_genesis(ChainParams params = {}) {
  return test_genesis(4, {},
                      {test_allocation(alice(), 1000), test_allocation(bob(), 500),
                       test_allocation(carol(), u64_max)},
                      params);
}

// The documented root of a block in which no transaction changed any state:
// SHA-256("synod/state/v1" || prev || h || outcomes || 0 accounts || 0 values).
// Written out here, independently of ledger.cc, so that a failing transaction
// is shown to contribute its outcome and nothing else.
StateRoot root_without_changes(const StateRoot& prev, Height h, const std::vector<TxOutcome>& txs) {
  Bytes out;
  put_var(out, as_bytes("synod/state/v1"));
  put_bytes(out, prev.view());
  put_u64(out, h.value);
  put_u32(out, static_cast<std::uint32_t>(txs.size()));
  for (const TxOutcome& o : txs) {
    put_bytes(out, o.hash.view());
    put_u8(out, o.error ? static_cast<std::uint8_t>(*o.error) : 0);
  }
  put_u32(out, 0);
  put_u32(out, 0);
  return sha256(out);
}

// ---- genesis ---------------------------------------------------------------

TEST(LedgerGenesis, AllocationsCreateAccountsAtHeightZero) {
  const Genesis genesis = standard_genesis();
  const Ledger ledger(genesis, sha256);
  EXPECT_EQ(ledger.height(), Height(0));
  EXPECT_EQ(ledger.chain_id(), genesis.chain_id());
  EXPECT_EQ(ledger.account(alice().public_key), (Account{1000, 0}));
  EXPECT_EQ(ledger.account(bob().public_key), (Account{500, 0}));
  EXPECT_EQ(ledger.account(carol().public_key), (Account{u64_max, 0}));
  EXPECT_EQ(ledger.account(dave().public_key), std::nullopt);
  EXPECT_EQ(to_decimal(ledger.total_balance()),
            to_decimal(BalanceSum{1500} + BalanceSum{u64_max}));
  EXPECT_FALSE(ledger.state_root().is_zero());
}

TEST(LedgerGenesis, DuplicateAllocationsSum) {
  const Genesis genesis = test_genesis(
      1, {}, {test_allocation(alice(), 7), test_allocation(bob(), 1), test_allocation(alice(), 5)});
  const Ledger ledger(genesis, sha256);
  EXPECT_EQ(ledger.account(alice().public_key), (Account{12, 0}));
  EXPECT_EQ(to_decimal(ledger.total_balance()), "13");
}

TEST(LedgerGenesis, RootIsDeterministicAndCoversChainAndAllocations) {
  EXPECT_EQ(Ledger(standard_genesis(), sha256).state_root(), Ledger(standard_genesis(), sha256).state_root());

  Genesis other_chain = standard_genesis();
  other_chain.chain_name = "another-chain";
  EXPECT_NE(Ledger(other_chain, sha256).state_root(), Ledger(standard_genesis(), sha256).state_root());

  Genesis other_balance = standard_genesis();
  other_balance.allocations[0].balance += 1;
  EXPECT_NE(Ledger(other_balance, sha256).state_root(), Ledger(standard_genesis(), sha256).state_root());
}

TEST(LedgerDeathTest, GenesisAllocationOverflowStops) {
  const Genesis genesis =
      test_genesis(1, {}, {test_allocation(alice(), u64_max), test_allocation(alice(), 1)});
  EXPECT_DEATH((Ledger{genesis, sha256}), "assertion failed");
}

TEST(LedgerDeathTest, ExecuteOutOfOrderStops) {
  Ledger ledger(standard_genesis(), sha256);
  EXPECT_DEATH(ledger.execute(Height(2), {}), "assertion failed");
  EXPECT_DEATH(ledger.execute(Height(0), {}), "assertion failed");
}

// ---- successful execution --------------------------------------------------

TEST(LedgerExecute, TransferMovesAmountAndAdvancesNonce) {
  const Genesis genesis = standard_genesis();
  Ledger ledger(genesis, sha256);
  const StateRoot genesis_root = ledger.state_root();
  const Transaction tx = signed_transfer(genesis.chain_id(), alice(), 0, bob().public_key, 300);

  const BlockOutcome outcome = ledger.execute(Height(1), {tx});

  EXPECT_EQ(outcome.height, Height(1));
  ASSERT_EQ(outcome.txs.size(), 1u);
  EXPECT_EQ(outcome.txs[0].hash, tx_hash(sha256, genesis.chain_id(), tx));
  EXPECT_EQ(outcome.txs[0].error, std::nullopt);
  EXPECT_EQ(outcome.state_root, ledger.state_root());
  EXPECT_NE(ledger.state_root(), genesis_root);
  EXPECT_EQ(ledger.height(), Height(1));
  EXPECT_EQ(ledger.account(alice().public_key), (Account{700, 1}));
  EXPECT_EQ(ledger.account(bob().public_key), (Account{800, 0}));

  const auto location = ledger.find_tx(tx_hash(sha256, genesis.chain_id(), tx));
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->height, Height(1));
  EXPECT_EQ(location->index, 0u);
  EXPECT_EQ(location->error, std::nullopt);
}

TEST(LedgerExecute, TransferCreatesReceiverAccount) {
  Ledger ledger(standard_genesis(), sha256);
  ledger.execute(Height(1), {unsigned_tx(alice(), 0, Transfer{dave().public_key, 1000})});
  EXPECT_EQ(ledger.account(alice().public_key), (Account{0, 1}));
  EXPECT_EQ(ledger.account(dave().public_key), (Account{1000, 0}));
}

TEST(LedgerExecute, AccountsWhoseKeysShareACacheSlotKeepTheirOwnBalances) {
  // The account cache is direct-mapped by a key's first byte: find a key that
  // shares alice's slot, and move money back and forth between the two.
  KeyPair mate;
  for (int i = 0; i < 10'000; ++i) {  // about 256 tries expected
    mate = test_key("slot-mate-" + std::to_string(i));
    if (mate.public_key.bytes[0] == alice().public_key.bytes[0]) break;
  }
  ASSERT_EQ(mate.public_key.bytes[0], alice().public_key.bytes[0]);
  Ledger ledger(test_genesis(4, {}, {test_allocation(alice(), 1000), test_allocation(mate, 500)}), sha256);
  for (std::uint64_t i = 0; i < 5; ++i) {
    ledger.execute(Height(2 * i + 1), {unsigned_tx(alice(), i, Transfer{mate.public_key, 10})});
    ledger.execute(Height(2 * i + 2), {unsigned_tx(mate, i, Transfer{alice().public_key, 3})});
  }
  EXPECT_EQ(ledger.account(alice().public_key), (Account{1000 - 50 + 15, 5}));
  EXPECT_EQ(ledger.account(mate.public_key), (Account{500 + 50 - 15, 5}));
}

TEST(LedgerExecute, AMovedLedgerKeepsFindingItsAccounts) {
  Ledger original(standard_genesis(), sha256);
  original.execute(Height(1), {unsigned_tx(alice(), 0, Transfer{bob().public_key, 100})});
  Ledger moved = std::move(original);  // after the look-ups that filled the cache
  moved.execute(Height(2), {unsigned_tx(alice(), 1, Transfer{bob().public_key, 50})});
  EXPECT_EQ(moved.account(alice().public_key), (Account{850, 2}));
  EXPECT_EQ(moved.account(bob().public_key), (Account{650, 0}));
  EXPECT_EQ(moved.total_balance(), Ledger(standard_genesis(), sha256).total_balance());
}

TEST(LedgerExecute, TransferToSelfChangesOnlyTheNonce) {
  Ledger ledger(standard_genesis(), sha256);
  const BlockOutcome outcome =
      ledger.execute(Height(1), {unsigned_tx(alice(), 0, Transfer{alice().public_key, 1000})});
  EXPECT_EQ(outcome.txs[0].error, std::nullopt);
  EXPECT_EQ(ledger.account(alice().public_key), (Account{1000, 1}));
}

TEST(LedgerExecute, TransferOfWholeBalanceToFullAccountJustFits) {
  // The receiver reaches exactly 2^64 - 1: allowed; one more would overflow.
  Ledger ledger(test_genesis(1, {}, {test_allocation(alice(), 10), test_allocation(bob(), u64_max - 10)}), sha256);
  const BlockOutcome outcome =
      ledger.execute(Height(1), {unsigned_tx(alice(), 0, Transfer{bob().public_key, 10})});
  EXPECT_EQ(outcome.txs[0].error, std::nullopt);
  EXPECT_EQ(ledger.account(bob().public_key), (Account{u64_max, 0}));
  EXPECT_EQ(ledger.account(alice().public_key), (Account{0, 1}));
}

TEST(LedgerExecute, StoreSetsValueInSendersNamespace) {
  const ChainParams params;
  Ledger ledger(standard_genesis(params), sha256);
  const Bytes key = test_bytes("greeting");
  ledger.execute(Height(1), {unsigned_tx(alice(), 0, StoreValue{key, test_bytes("hello")}),
                             unsigned_tx(bob(), 0, StoreValue{key, test_bytes("bonjour")})});
  EXPECT_EQ(ledger.value(alice().public_key, key), test_bytes("hello"));
  EXPECT_EQ(ledger.value(bob().public_key, key), test_bytes("bonjour"));
  EXPECT_EQ(ledger.value(carol().public_key, key), std::nullopt);
  EXPECT_EQ(ledger.account(alice().public_key), (Account{1000, 1}));

  // Overwrite; the largest key and value the chain allows are accepted.
  const Bytes big_key = filled_bytes(params.key_bytes_max, 'k');
  ledger.execute(Height(2),
                 {unsigned_tx(alice(), 1, StoreValue{key, test_bytes("hi")}),
                  unsigned_tx(alice(), 2, StoreValue{big_key, filled_bytes(params.value_bytes_max)})});
  EXPECT_EQ(ledger.value(alice().public_key, key), test_bytes("hi"));
  EXPECT_EQ(ledger.value(alice().public_key, big_key), filled_bytes(params.value_bytes_max));
  EXPECT_EQ(ledger.account(alice().public_key), (Account{1000, 3}));
}

TEST(LedgerExecute, StoreFromUnknownSenderCreatesItsAccount) {
  // There are no fees, so an account with nothing may still store a value.
  Ledger ledger(standard_genesis(), sha256);
  ledger.execute(Height(1), {unsigned_tx(dave(), 0, StoreValue{test_bytes("k"), test_bytes("v")})});
  EXPECT_EQ(ledger.account(dave().public_key), (Account{0, 1}));
  EXPECT_EQ(ledger.value(dave().public_key, test_bytes("k")), test_bytes("v"));
}

TEST(LedgerExecute, EmptyBlockAdvancesHeightAndRoot) {
  Ledger ledger(standard_genesis(), sha256);
  const StateRoot before = ledger.state_root();
  const BlockOutcome outcome = ledger.execute(Height(1), {});
  EXPECT_TRUE(outcome.txs.empty());
  EXPECT_EQ(ledger.height(), Height(1));
  EXPECT_EQ(ledger.state_root(), root_without_changes(before, Height(1), {}));
}

// ---- failures change nothing -----------------------------------------------

struct FailureCase {
  std::string name;
  ChainParams params;
  std::vector<Transaction> prefix;  // executed at height 1 by both ledgers
  Transaction tx;                   // executed at height 2 by one ledger only
  TxError error;
};

std::vector<FailureCase> failure_cases() {
  ChainParams small_tx;
  small_tx.tx_bytes_max = 200;
  const ChainParams defaults;
  const Transaction first = unsigned_tx(alice(), 0, Transfer{bob().public_key, 1});
  return {
      {"NonceAhead", defaults, {}, unsigned_tx(alice(), 1, Transfer{bob().public_key, 1}), TxError::BadNonce},
      {"NonceBehind", defaults, {first}, unsigned_tx(alice(), 0, Transfer{bob().public_key, 2}),
       TxError::BadNonce},
      {"NonceOfUnknownSender", defaults, {}, unsigned_tx(dave(), 1, StoreValue{test_bytes("k"), {}}),
       TxError::BadNonce},
      {"BalanceShortByOne", defaults, {}, unsigned_tx(bob(), 0, Transfer{alice().public_key, 501}),
       TxError::InsufficientBalance},
      {"BalanceShortToSelf", defaults, {}, unsigned_tx(bob(), 0, Transfer{bob().public_key, 501}),
       TxError::InsufficientBalance},
      {"UnknownSenderHasNothing", defaults, {}, unsigned_tx(dave(), 0, Transfer{alice().public_key, 1}),
       TxError::InsufficientBalance},
      {"ReceiverOverflow", defaults, {}, unsigned_tx(alice(), 0, Transfer{carol().public_key, 1}),
       TxError::BalanceOverflow},
      {"KeyTooLarge", defaults, {},
       unsigned_tx(alice(), 0, StoreValue{filled_bytes(defaults.key_bytes_max + 1), {}}), TxError::TooLarge},
      {"ValueTooLarge", defaults, {},
       unsigned_tx(alice(), 0, StoreValue{test_bytes("k"), filled_bytes(defaults.value_bytes_max + 1)}),
       TxError::TooLarge},
      {"TxOverTxBytesMax", small_tx, {},
       unsigned_tx(alice(), 0, StoreValue{test_bytes("k"), filled_bytes(150)}), TxError::TooLarge},
      {"CommittedInEarlierBlock", defaults, {first}, first, TxError::AlreadyCommitted},
  };
}

class LedgerFailure : public ::testing::TestWithParam<FailureCase> {};

TEST_P(LedgerFailure, FailsWithReasonAndChangesNothing) {
  const FailureCase& c = GetParam();
  const Genesis genesis = standard_genesis(c.params);
  Ledger saw(genesis, sha256);    // executes the failing transaction
  Ledger never(genesis, sha256);  // executes an empty block instead
  saw.execute(Height(1), c.prefix);
  never.execute(Height(1), c.prefix);
  ASSERT_EQ(saw.state_root(), never.state_root());
  const StateRoot prev = saw.state_root();
  const TxHash hash = tx_hash(sha256, genesis.chain_id(), c.tx);
  const std::optional<TxLocation> location_before = saw.find_tx(hash);

  const BlockOutcome outcome = saw.execute(Height(2), {c.tx});
  never.execute(Height(2), {});

  ASSERT_EQ(outcome.txs.size(), 1u);
  EXPECT_EQ(outcome.txs[0].hash, hash);
  EXPECT_EQ(outcome.txs[0].error, c.error);

  // Accounts (balances and nonces), values and the total are as if it never came.
  for (const KeyPair* k : {&alice(), &bob(), &carol(), &dave()}) {
    EXPECT_EQ(saw.account(k->public_key), never.account(k->public_key)) << k->public_key;
  }
  if (const auto* store = std::get_if<StoreValue>(&c.tx.op)) {
    EXPECT_EQ(saw.value(c.tx.sender, store->key), std::nullopt);
  }
  EXPECT_EQ(to_decimal(saw.total_balance()), to_decimal(never.total_balance()));

  // The root differs from the empty block's, and only by the recorded outcome:
  // it is exactly the root of a block that changed no account and no value.
  EXPECT_NE(saw.state_root(), never.state_root());
  EXPECT_EQ(saw.state_root(), root_without_changes(prev, Height(2), outcome.txs));
  EXPECT_EQ(never.state_root(), root_without_changes(prev, Height(2), {}));

  // Its fate is reported; a repeat keeps the first record.
  const std::optional<TxLocation> location = saw.find_tx(hash);
  ASSERT_TRUE(location.has_value());
  if (c.error == TxError::AlreadyCommitted) {
    ASSERT_TRUE(location_before.has_value());
    EXPECT_EQ(location->height, location_before->height);
    EXPECT_EQ(location->index, location_before->index);
    EXPECT_EQ(location->error, location_before->error);
  } else {
    EXPECT_EQ(location->height, Height(2));
    EXPECT_EQ(location->index, 0u);
    EXPECT_EQ(location->error, c.error);
  }
}

INSTANTIATE_TEST_SUITE_P(Ledger, LedgerFailure, ::testing::ValuesIn(failure_cases()),
                         [](const auto& test_info) { return test_info.param.name; });

TEST(LedgerExecute, RepeatedTransactionCommitsOnce) {
  const Genesis genesis = standard_genesis();
  Ledger ledger(genesis, sha256);
  const Transaction tx = signed_transfer(genesis.chain_id(), alice(), 0, bob().public_key, 100);
  ledger.execute(Height(1), {tx});
  const BlockOutcome second = ledger.execute(Height(2), {tx});
  EXPECT_EQ(second.txs[0].error, TxError::AlreadyCommitted);
  EXPECT_EQ(ledger.account(alice().public_key), (Account{900, 1}));
  EXPECT_EQ(ledger.account(bob().public_key), (Account{600, 0}));
  const auto location = ledger.find_tx(tx_hash(sha256, genesis.chain_id(), tx));
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->height, Height(1));
  EXPECT_EQ(location->error, std::nullopt);
}

TEST(LedgerExecute, TransactionRepeatedInOneBlockCommitsOnce) {
  const Genesis genesis = standard_genesis();
  Ledger ledger(genesis, sha256);
  const Transaction tx = unsigned_tx(alice(), 0, Transfer{bob().public_key, 100});
  const BlockOutcome outcome = ledger.execute(Height(1), {tx, tx});
  ASSERT_EQ(outcome.txs.size(), 2u);
  EXPECT_EQ(outcome.txs[0].error, std::nullopt);
  EXPECT_EQ(outcome.txs[1].error, TxError::AlreadyCommitted);
  EXPECT_EQ(ledger.account(alice().public_key), (Account{900, 1}));
  const auto location = ledger.find_tx(tx_hash(sha256, genesis.chain_id(), tx));
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->index, 0u);
  EXPECT_EQ(location->error, std::nullopt);
}

TEST(LedgerExecute, FailedTransactionCanNeverExecuteLater) {
  // A transaction with a future nonce fails and is recorded; when its nonce
  // comes due, the same bytes are ALREADY_COMMITTED, not executed.
  Ledger ledger(standard_genesis(), sha256);
  const Transaction early = unsigned_tx(alice(), 1, Transfer{bob().public_key, 5});
  EXPECT_EQ(ledger.execute(Height(1), {early}).txs[0].error, TxError::BadNonce);
  const BlockOutcome later =
      ledger.execute(Height(2), {unsigned_tx(alice(), 0, Transfer{bob().public_key, 5}), early});
  EXPECT_EQ(later.txs[0].error, std::nullopt);
  EXPECT_EQ(later.txs[1].error, TxError::AlreadyCommitted);
  EXPECT_EQ(ledger.account(alice().public_key), (Account{995, 1}));
}

TEST(LedgerExecute, FailureMidBlockLeavesNeighboursAlone) {
  Ledger ledger(standard_genesis(), sha256);
  const BlockOutcome outcome = ledger.execute(
      Height(1), {unsigned_tx(bob(), 0, Transfer{alice().public_key, 100}),
                  unsigned_tx(bob(), 1, Transfer{alice().public_key, 401}),  // 400 left
                  unsigned_tx(bob(), 1, Transfer{alice().public_key, 400})});
  EXPECT_EQ(outcome.txs[0].error, std::nullopt);
  EXPECT_EQ(outcome.txs[1].error, TxError::InsufficientBalance);
  EXPECT_EQ(outcome.txs[2].error, std::nullopt);
  EXPECT_EQ(ledger.account(bob().public_key), (Account{0, 2}));
  EXPECT_EQ(ledger.account(alice().public_key), (Account{1500, 0}));
}

// ---- the state root ----------------------------------------------------------

std::vector<std::vector<Transaction>> sample_blocks() {
  return {
      {unsigned_tx(alice(), 0, Transfer{bob().public_key, 10}),
       unsigned_tx(bob(), 0, StoreValue{test_bytes("k"), test_bytes("v")})},
      {},
      {unsigned_tx(alice(), 5, Transfer{bob().public_key, 10}),  // fails: BadNonce
       unsigned_tx(alice(), 1, Transfer{dave().public_key, 20})},
  };
}

std::vector<StateRoot> roots_after(const Genesis& genesis,
                                   const std::vector<std::vector<Transaction>>& blocks) {
  Ledger ledger(genesis, sha256);
  std::vector<StateRoot> roots{ledger.state_root()};
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    roots.push_back(ledger.execute(Height(i + 1), blocks[i]).state_root);
  }
  return roots;
}

TEST(LedgerStateRoot, SameBlocksGiveSameRoots) {
  const auto a = roots_after(standard_genesis(), sample_blocks());
  const auto b = roots_after(standard_genesis(), sample_blocks());
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set<StateRoot>(a.begin(), a.end()).size(), a.size()) << "every height has its own root";
}

TEST(LedgerStateRoot, DifferentBlocksGiveDifferentRoots) {
  const auto base = roots_after(standard_genesis(), sample_blocks());
  using Mutation = void (*)(std::vector<std::vector<Transaction>>&);
  const std::vector<std::pair<std::string, Mutation>> mutations = {
      {"amount", [](auto& b) { std::get<Transfer>(b[2][1].op).amount += 1; }},
      {"receiver", [](auto& b) { std::get<Transfer>(b[2][1].op).to = carol().public_key; }},
      {"value", [](auto& b) { std::get<StoreValue>(b[0][1].op).value = test_bytes("w"); }},
      {"failed tx dropped", [](auto& b) { b[2].erase(b[2].begin()); }},
      {"failed tx changed", [](auto& b) { b[2][0].nonce = 6; }},
      {"order within block", [](auto& b) { std::swap(b[0][0], b[0][1]); }},
  };
  for (const auto& [name, mutate] : mutations) {
    auto blocks = sample_blocks();
    mutate(blocks);
    const auto other = roots_after(standard_genesis(), blocks);
    EXPECT_NE(other.back(), base.back()) << name;
  }
}

TEST(LedgerStateRoot, CommitsToHistoryNotJustState) {
  // The same two transactions in one block or in two blocks reach the same
  // accounts but not the same root: the root is a chain over committed history.
  const Transaction t1 = unsigned_tx(alice(), 0, Transfer{bob().public_key, 1});
  const Transaction t2 = unsigned_tx(bob(), 0, Transfer{alice().public_key, 1});
  Ledger one(standard_genesis(), sha256);
  one.execute(Height(1), {t1, t2});
  one.execute(Height(2), {});
  Ledger two(standard_genesis(), sha256);
  two.execute(Height(1), {t1});
  two.execute(Height(2), {t2});
  EXPECT_EQ(one.account(alice().public_key), two.account(alice().public_key));
  EXPECT_EQ(one.account(bob().public_key), two.account(bob().public_key));
  EXPECT_NE(one.state_root(), two.state_root());
}

TEST(LedgerStateRoot, DependsOnChain) {
  Genesis other = standard_genesis();
  other.chain_name = "another-chain";
  EXPECT_NE(roots_after(other, sample_blocks()).back(),
            roots_after(standard_genesis(), sample_blocks()).back());
}

// ---- properties --------------------------------------------------------------

// One random step: a transfer between a few accounts (with a nonce that is
// usually right), or a replay of an earlier transaction.
struct Step {
  std::uint8_t from = 0;
  std::uint8_t to = 0;
  std::uint64_t amount = 0;
  std::int8_t nonce_offset = 0;
  bool replay = false;
  std::uint16_t replay_pick = 0;
  bool end_block = false;
};

}  // namespace
}  // namespace synod

namespace rc {
template <>
struct Arbitrary<synod::Step> {
  static Gen<synod::Step> arbitrary() {
    return gen::build<synod::Step>(
        gen::set(&synod::Step::from, gen::inRange<std::uint8_t>(0, 5)),
        gen::set(&synod::Step::to, gen::inRange<std::uint8_t>(0, 5)),
        gen::set(&synod::Step::amount,
                 gen::weightedOneOf<std::uint64_t>({{6, gen::inRange<std::uint64_t>(0, 600)},
                                                    {1, gen::arbitrary<std::uint64_t>()}})),
        gen::set(&synod::Step::nonce_offset,
                 gen::weightedElement<std::int8_t>({{8, 0}, {1, -1}, {1, 1}})),
        gen::set(&synod::Step::replay, gen::weightedElement<bool>({{9, false}, {1, true}})),
        gen::set(&synod::Step::replay_pick, gen::arbitrary<std::uint16_t>()),
        gen::set(&synod::Step::end_block, gen::weightedElement<bool>({{3, false}, {1, true}})));
  }
};
}  // namespace rc

namespace synod {
namespace {

// A model of the ledger's rules for transfers, written as plainly as possible.
struct Model {
  std::map<PublicKey, Account> accounts;
  std::set<TxHash> committed;

  std::optional<TxError> apply(const ChainId& chain, const Transaction& tx) {
    const TxHash hash = tx_hash(sha256, chain, tx);
    if (!committed.insert(hash).second) return TxError::AlreadyCommitted;
    Account from = accounts.contains(tx.sender) ? accounts[tx.sender] : Account{};
    const auto& t = std::get<Transfer>(tx.op);
    if (tx.nonce != from.nonce) return TxError::BadNonce;
    if (t.amount > from.balance) return TxError::InsufficientBalance;
    if (t.to == tx.sender) {
      accounts[tx.sender].nonce += 1;
      return std::nullopt;
    }
    const Account to = accounts.contains(t.to) ? accounts[t.to] : Account{};
    if (BalanceSum{to.balance} + t.amount > BalanceSum{u64_max}) return TxError::BalanceOverflow;
    accounts[tx.sender] = Account{from.balance - t.amount, from.nonce + 1};
    accounts[t.to] = Account{to.balance + t.amount, to.nonce};
    return std::nullopt;
  }
};

RC_GTEST_PROP(LedgerProperty, TransfersConserveBalanceAndLedgersAgree,
              (const std::vector<Step>& steps, std::uint16_t headroom)) {
  const std::vector<KeyPair> keys = {alice(), bob(), carol(), dave(), test_key("erin")};
  // One account starts near the 64-bit limit so that overflow is reachable.
  const Genesis genesis = test_genesis(4, {},
                                       {test_allocation(keys[0], 1000), test_allocation(keys[1], 300),
                                        test_allocation(keys[2], u64_max - headroom % 200)});
  const ChainId chain = genesis.chain_id();
  Ledger a(genesis, sha256);
  Ledger b(genesis, sha256);
  Model model;
  for (const auto& alloc : genesis.allocations) model.accounts[alloc.account].balance += alloc.balance;
  const BalanceSum total = a.total_balance();

  // The nonce each sender will use next: the committed one, plus its
  // transactions already in the open block (assuming they will succeed).
  std::map<PublicKey, std::uint64_t> next_nonce;
  std::vector<Transaction> history;
  std::vector<Transaction> block;
  auto commit = [&] {
    const Height h = a.height().next();
    const BlockOutcome oa = a.execute(h, block);
    const BlockOutcome ob = b.execute(h, block);
    RC_ASSERT(oa.state_root == ob.state_root);
    RC_ASSERT(a.state_root() == b.state_root());
    RC_ASSERT(oa.txs.size() == block.size());
    for (std::size_t i = 0; i < block.size(); ++i) {
      RC_ASSERT(oa.txs[i].error == ob.txs[i].error);
      RC_ASSERT(oa.txs[i].error == model.apply(chain, block[i]));
    }
    RC_ASSERT(a.total_balance() == total);
    RC_ASSERT(b.total_balance() == total);
    for (const KeyPair& k : keys) {
      const auto it = model.accounts.find(k.public_key);
      const std::optional<Account> expected =
          it == model.accounts.end() ? std::nullopt : std::optional<Account>(it->second);
      RC_ASSERT(a.account(k.public_key) == expected);
      RC_ASSERT(b.account(k.public_key) == expected);
      // Senders learn their real nonce from the committed state.
      next_nonce[k.public_key] = expected ? expected->nonce : 0;
    }
    block.clear();
  };

  for (const Step& s : steps) {
    if (s.replay && !history.empty()) {
      block.push_back(history[s.replay_pick % history.size()]);
    } else {
      const KeyPair& from = keys[s.from];
      const std::uint64_t expected = next_nonce[from.public_key];
      std::uint64_t nonce = expected;
      if (s.nonce_offset > 0) nonce += 1;
      if (s.nonce_offset < 0 && nonce > 0) nonce -= 1;
      block.push_back(unsigned_tx(from, nonce, Transfer{keys[s.to].public_key, s.amount}));
      history.push_back(block.back());
      if (s.nonce_offset == 0) next_nonce[from.public_key] += 1;
    }
    if (s.end_block) commit();
  }
  commit();
}


// ---- TxIndex: the flat committed-transaction index ---------------------------

TxHash hash_with(std::uint64_t prefix, std::uint64_t rest) {
  TxHash h;
  for (std::size_t i = 0; i < 8; ++i) h.bytes[i] = static_cast<std::uint8_t>(prefix >> (8 * i));
  for (std::size_t i = 8; i < 16; ++i) h.bytes[i] = static_cast<std::uint8_t>(rest >> (8 * (i - 8)));
  return h;
}

TEST(TxIndex, FindsEveryInsertedHashAcrossGrowthAndNoOther) {
  TxIndex index;
  constexpr std::uint64_t count = 10'000;  // grows from 64 slots through nine doublings
  for (std::uint64_t i = 0; i < count; ++i) {
    ASSERT_TRUE(index.insert(hash_with(i * 0x9e3779b97f4a7c15ULL, i), TxLocation{Height(i), 0, std::nullopt}));
  }
  EXPECT_EQ(index.size(), count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const TxLocation* found = index.find(hash_with(i * 0x9e3779b97f4a7c15ULL, i));
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->height, Height(i));
    EXPECT_EQ(index.find(hash_with(i * 0x9e3779b97f4a7c15ULL, i + 1)), nullptr);
  }
}

TEST(TxIndex, KeepsTheFirstLocationOfAHash) {
  TxIndex index;
  const TxHash h = hash_with(7, 7);
  EXPECT_EQ(index.find(h), nullptr);
  EXPECT_TRUE(index.insert(h, TxLocation{Height(1), 2, std::nullopt}));
  EXPECT_FALSE(index.insert(h, TxLocation{Height(9), 9, TxError::BadNonce}));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(*index.find(h), (TxLocation{Height(1), 2, std::nullopt}));
}

TEST(TxIndex, AClaimedEntryHoldsWhatItsCallerWritesAndASecondClaimIsRefused) {
  TxIndex index;
  const TxHash h = hash_with(7, 7);
  TxLocation* claimed = index.claim(h);
  ASSERT_NE(claimed, nullptr);
  *claimed = TxLocation{Height(3), 1, TxError::BadNonce};
  EXPECT_EQ(index.claim(h), nullptr);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(*index.find(h), (TxLocation{Height(3), 1, TxError::BadNonce}));
}

TEST(TxIndex, HashesThatShareASlotAllStayReachable) {
  // Equal first 8 bytes: every one lands on the same slot and probes past the others.
  TxIndex index;
  for (std::uint64_t i = 0; i < 200; ++i) ASSERT_TRUE(index.insert(hash_with(42, i), TxLocation{Height(i), 0, {}}));
  for (std::uint64_t i = 0; i < 200; ++i) EXPECT_EQ(index.find(hash_with(42, i))->height, Height(i));
  EXPECT_EQ(index.find(hash_with(42, 200)), nullptr);
}

TEST(TxIndex, HashesThatShareASlotAndATagAreToldApartByTheWholeHash) {
  // Byte 8, the tag's source, is 0 in every one: only the later bytes differ.
  TxIndex index;
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(index.insert(hash_with(42, i << 8), TxLocation{Height(i), 0, {}}));
  for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(index.find(hash_with(42, i << 8))->height, Height(i));
  EXPECT_EQ(index.find(hash_with(42, 100 << 8)), nullptr);
  EXPECT_FALSE(index.insert(hash_with(42, 7 << 8), TxLocation{Height(1000), 0, {}}));
}

}  // namespace
}  // namespace synod
