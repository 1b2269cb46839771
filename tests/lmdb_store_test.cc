// LmdbStore beyond the conformance suite: the state it keeps for clients,
// its files and lock, the safety record file, and bad input at startup (a
// truncated or bit-flipped ledger, another chain, another node, a newer
// schema), each refused with its own error and nothing modified.
#include <gtest/gtest.h>

#include <fstream>

#include "node/lmdb_store.h"
#include "node/safety_file.h"
#include "tests/store_test_util.h"

namespace synod {
namespace {

Bytes file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

class LmdbStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<node::LmdbStore> open(const Genesis* genesis = nullptr, const PublicKey* key = nullptr) {
    auto s = node::LmdbStore::open(dir_.path(), genesis ? *genesis : genesis_, key ? *key : key_);
    if (!s) ADD_FAILURE() << to_string(s.error());
    return s ? std::move(*s) : nullptr;
  }

  StoreError refusal(const Genesis* genesis = nullptr, const PublicKey* key = nullptr) {
    auto s = node::LmdbStore::open(dir_.path(), genesis ? *genesis : genesis_, key ? *key : key_);
    if (!s) return s.error();
    auto r = (*s)->load();
    if (!r) return r.error();
    ADD_FAILURE() << "opened and loaded";
    return StoreError{StoreErrorKind::Io, ""};
  }

  // A closed ledger with `blocks` committed blocks of 40 transactions.
  node::NodeFiles ledger_with(std::size_t blocks) {
    auto store = open();
    for (std::size_t i = 0; i < blocks; ++i) store->save_commits({chain_.next(40)});
    store->save_safety(record_at(blocks));
    return store->files();
  }

  Genesis genesis_ = storage_genesis();
  PublicKey key_ = KeyPair::from_label("validator-0").public_key;
  ChainBuilder chain_{genesis_};
  TempDir dir_{"lmdb"};
};

TEST_F(LmdbStoreTest, FilesAreNamedByTheHashOfTheKey) {
  const auto files = open()->files();
  const std::string name = hex(sha256(key_.view()).view());
  EXPECT_EQ(files.ledger, dir_.path() / (name + ".mdb"));
  EXPECT_EQ(files.safety, dir_.path() / (name + ".safety"));
  EXPECT_TRUE(std::filesystem::exists(files.ledger));
  EXPECT_TRUE(std::filesystem::exists(files.safety));  // a first start writes an empty record
}

TEST_F(LmdbStoreTest, ASecondOpenWhileTheFirstIsOpenIsRefused) {
  auto first = open();
  EXPECT_EQ(refusal().kind, StoreErrorKind::Locked);
}

TEST_F(LmdbStoreTest, AccountsValuesAndTheTxIndexFollowTheLedger) {
  auto store = open();
  for (int i = 0; i < 15; ++i) store->save_commits({chain_.next(30)});
  const Ledger& ledger = chain_.ledger();
  for (const char* name : {"alice", "bob"}) {
    const PublicKey account = storage_account(name).public_key;
    EXPECT_EQ(store->account(account), ledger.account(account)) << name;
  }
  const PublicKey alice = storage_account("alice").public_key;
  for (int k = 0; k < 17; ++k) {
    const Bytes key = test_key_bytes(k);
    EXPECT_EQ(store->value(alice, key), ledger.value(alice, key)) << k;
  }
  const CommittedBlock last = chain_.next(3);
  store->save_commits({last});
  const auto loc = store->find_tx(last.outcome.txs[2].hash);
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->height, Height(16));
  EXPECT_EQ(loc->index, 2u);
  EXPECT_FALSE(store->find_tx(TxHash{}).has_value());
}

TEST_F(LmdbStoreTest, ACrashInsideACommitLeavesNoStateChange) {
  auto store = open();
  store->save_commits({chain_.next(9)});
  const auto before = store->account(storage_account("bob").public_key);
  store->crash_inside_next_commit();
  store->save_commits({chain_.next(9)});
  store.reset();
  store = open();
  EXPECT_EQ(store->account(storage_account("bob").public_key), before);
  EXPECT_EQ(store->committed_height(), Height(1));
}

// Pruning turned on for a chain that kept everything: each commit moves at
// most prune_blocks_per_commit_max bodies into the base state, oldest first,
// until only the newest blocks_kept remain; the state built is the ledger's.
TEST_F(LmdbStoreTest, PruningTurnedOnLateCatchesUpAFewBodiesPerCommit) {
  const std::size_t unpruned = node::prune_blocks_per_commit_max + 36;
  ledger_with(unpruned);
  auto opened = node::LmdbStore::open(dir_.path(), genesis_, key_, node::LmdbOptions{.blocks_kept = 1});
  ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
  auto store = std::move(*opened);
  const auto expect_kept = [&](std::uint64_t last_pruned, std::size_t bodies) {
    auto r = store->load();
    ASSERT_TRUE(r.has_value()) << to_string(r.error());
    ASSERT_TRUE(r->base.has_value());
    EXPECT_EQ(r->base->state.height, Height(last_pruned));
    ASSERT_EQ(r->committed.size(), bodies);
    Ledger replayed(genesis_, sha256, r->base->state);
    for (const CommittedBlock& c : r->committed) {
      EXPECT_EQ(replayed.execute(c.block->height(), c.block->txs).state_root, c.outcome.state_root);
    }
    const PublicKey alice = storage_account("alice").public_key;
    EXPECT_EQ(replayed.account(alice), chain_.ledger().account(alice));
    EXPECT_EQ(replayed.value(alice, test_key_bytes(5)), chain_.ledger().value(alice, test_key_bytes(5)));
  };
  store->save_commits({chain_.next(6)});
  expect_kept(node::prune_blocks_per_commit_max, unpruned + 1 - node::prune_blocks_per_commit_max);
  store->save_commits({chain_.next(6)});
  expect_kept(unpruned + 1, 1);
  EXPECT_EQ(store->committed_block(Height(unpruned + 1)).error().kind, StoreErrorKind::Pruned);
  EXPECT_EQ(store->committed_block(Height(unpruned + 2))->block->height(), Height(unpruned + 2));
}

// What restore verifies (node/backup.h) holds for a pruned ledger: the headers
// link, and the state roots replay from the kept state.
TEST_F(LmdbStoreTest, APrunedLedgerPassesInspectionWithItsStateRoots) {
  {
    auto opened = node::LmdbStore::open(dir_.path(), genesis_, key_, node::LmdbOptions{.blocks_kept = 4});
    ASSERT_TRUE(opened.has_value()) << to_string(opened.error());
    for (int i = 0; i < 12; ++i) (*opened)->save_commits({chain_.next(7)});
  }
  const auto summary = node::inspect_ledger(node::node_files(dir_.path(), key_).ledger, true, &genesis_);
  ASSERT_TRUE(summary.has_value()) << to_string(summary.error());
  EXPECT_EQ(summary->committed_height, Height(12));
  EXPECT_EQ(summary->pruned_height, Height(8));
}

TEST_F(LmdbStoreTest, AMissingSafetyRecordIsReportedAsLost) {
  const auto files = ledger_with(2);
  std::filesystem::remove(files.safety);
  auto r = open()->load();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->safety.has_value());
  ASSERT_TRUE(r->safety_lost.has_value());
  EXPECT_EQ(r->safety_lost->kind, StoreErrorKind::MissingSafetyRecord);
  EXPECT_EQ(r->committed.size(), 2u);  // it still serves what it has
}

TEST_F(LmdbStoreTest, ACorruptSafetyRecordIsReportedAsLost) {
  const auto files = ledger_with(2);
  Bytes bytes = file_bytes(files.safety);
  bytes[bytes.size() / 2] ^= 0x04;
  write_bytes(files.safety, bytes);
  auto r = open()->load();
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->safety_lost.has_value());
  EXPECT_EQ(r->safety_lost->kind, StoreErrorKind::CorruptSafetyRecord) << to_string(*r->safety_lost);
}

TEST_F(LmdbStoreTest, ASafetyFileAboveItsLimitIsCorrupt) {
  const auto files = ledger_with(1);
  write_bytes(files.safety, Bytes(node::safety_file_bytes_max + 1, 0));
  auto r = node::read_safety_file(files.safety);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, StoreErrorKind::CorruptSafetyRecord);
}

TEST_F(LmdbStoreTest, ATruncatedLedgerIsRefusedUntouched) {
  const auto files = ledger_with(30);
  const Bytes full = file_bytes(files.ledger);
  for (std::size_t keep : {full.size() / 2, std::size_t{100}}) {
    write_bytes(files.ledger, Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(keep)));
    const StoreError e = refusal();
    EXPECT_EQ(e.kind, StoreErrorKind::CorruptLedger) << to_string(e);
    EXPECT_NE(e.detail.find("truncated"), std::string::npos) << e.detail;
    EXPECT_EQ(std::filesystem::file_size(files.ledger), keep);
  }
}

TEST_F(LmdbStoreTest, AFlippedBitInARecordIsCaughtAtStartupUntouched) {
  const auto files = ledger_with(30);
  Bytes bytes = file_bytes(files.ledger);
  // Inside a stored value of a committed block: LMDB cannot see it, the checksum must.
  const std::string needle = "value-";
  const auto at = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
  ASSERT_NE(at, bytes.end());
  *(at + 2) ^= 0x01;
  write_bytes(files.ledger, bytes);
  const StoreError e = refusal();
  EXPECT_EQ(e.kind, StoreErrorKind::CorruptLedger) << to_string(e);
  EXPECT_NE(e.detail.find("bad_checksum"), std::string::npos) << e.detail;
  EXPECT_EQ(file_bytes(files.ledger), bytes);
}

TEST_F(LmdbStoreTest, ALedgerOfAnotherChainIsRefusedUntouched) {
  const auto files = ledger_with(3);
  const Bytes before = file_bytes(files.ledger);
  const Genesis other = storage_genesis("another-chain");
  EXPECT_EQ(refusal(&other).kind, StoreErrorKind::WrongChain);
  EXPECT_EQ(file_bytes(files.ledger), before);
}

TEST_F(LmdbStoreTest, ALedgerOfAnotherNodeIsRefused) {
  const auto files = ledger_with(3);
  const PublicKey other = KeyPair::from_label("validator-9").public_key;
  std::filesystem::copy_file(files.ledger, node::node_files(dir_.path(), other).ledger);
  EXPECT_EQ(refusal(nullptr, &other).kind, StoreErrorKind::WrongNode);
}

TEST_F(LmdbStoreTest, ANewerSchemaIsRefusedUntouched) {
  const auto files = ledger_with(3);
  ASSERT_TRUE(node::rewrite_schema_version(files.ledger, store_schema_version + 1).has_value());
  const Bytes before = file_bytes(files.ledger);
  const StoreError e = refusal();
  EXPECT_EQ(e.kind, StoreErrorKind::SchemaTooNew) << to_string(e);
  EXPECT_EQ(file_bytes(files.ledger), before);
}

}  // namespace
}  // namespace synod
