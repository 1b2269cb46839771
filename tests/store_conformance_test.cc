// The Store contract (core/store.h), one suite run against every store:
// read-your-writes, what survives a crash, atomicity of a block commit, the
// safety record replaced whole, and refusal of a newer schema. To add a store,
// add one entry to store_kinds() below.
#include <gtest/gtest.h>

#include <functional>

#include "core/mem_store.h"
#include "node/lmdb_store.h"
#include "tests/store_test_util.h"

namespace synod {
namespace {

// A store plus what the suite needs to do to it from outside.
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  virtual Store& store() = 0;
  // The process dies (everything not durable is gone) and the store is opened
  // again; an error is what opening or loading reports.
  virtual std::expected<Recovery, StoreError> crash_and_reopen() = 0;
  // Saves `commits`, but the process dies inside the write of the last one.
  virtual void crash_inside_last_commit(const std::vector<CommittedBlock>& commits) = 0;
  // Leaves the durable data as a synod with a newer schema would.
  virtual void make_schema_newer() = 0;
};

class MemStoreUnderTest final : public StoreUnderTest {
 public:
  Store& store() override { return store_; }
  // Everything a MemStore holds is durable for as long as it lives.
  std::expected<Recovery, StoreError> crash_and_reopen() override { return store_.load(); }
  void crash_inside_last_commit(const std::vector<CommittedBlock>& commits) override {
    store_.save_commits({commits.begin(), commits.end() - 1});  // saves block by block: the last never starts
  }
  void make_schema_newer() override { store_.set_schema_version(store_schema_version + 1); }

 private:
  MemStore store_;
};

class LmdbStoreUnderTest final : public StoreUnderTest {
 public:
  LmdbStoreUnderTest(const Genesis& genesis, std::filesystem::path dir) : genesis_(genesis), dir_(std::move(dir)) {
    auto opened = node::LmdbStore::open(dir_, genesis_, key_);
    SYNOD_ASSERT(opened.has_value());
    store_ = std::move(*opened);
  }
  Store& store() override { return *store_; }
  std::expected<Recovery, StoreError> crash_and_reopen() override {
    store_.reset();  // closes the file: what LMDB committed is what a crash keeps
    auto opened = node::LmdbStore::open(dir_, genesis_, key_);
    if (!opened) return std::unexpected(opened.error());
    store_ = std::move(*opened);
    return store_->load();
  }
  void crash_inside_last_commit(const std::vector<CommittedBlock>& commits) override {
    store_->save_commits({commits.begin(), commits.end() - 1});
    store_->crash_inside_next_commit();
    store_->save_commits({commits.back()});
  }
  void make_schema_newer() override {
    const auto ledger = store_->files().ledger;
    store_.reset();
    SYNOD_ASSERT(node::rewrite_schema_version(ledger, store_schema_version + 1).has_value());
  }

 private:
  Genesis genesis_;
  std::filesystem::path dir_;
  PublicKey key_ = KeyPair::from_label("validator-0").public_key;
  std::unique_ptr<node::LmdbStore> store_;
};

struct StoreKind {
  std::string name;
  std::function<std::unique_ptr<StoreUnderTest>(const Genesis&, const std::filesystem::path& dir)> make;
};

// GoogleTest prints a parameter by its name, not its bytes.
void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

std::vector<StoreKind> store_kinds() {
  return {
      {"MemStore", [](const Genesis&, const std::filesystem::path&) { return std::make_unique<MemStoreUnderTest>(); }},
      {"LmdbStore",
       [](const Genesis& g, const std::filesystem::path& dir) { return std::make_unique<LmdbStoreUnderTest>(g, dir); }},
  };
}

class StoreConformance : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override { subject_ = GetParam().make(genesis_, dir_.path()); }
  Store& store() { return subject_->store(); }

  static void expect_same_chain(const std::vector<CommittedBlock>& got, const std::vector<CommittedBlock>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].block->id, want[i].block->id) << "height " << i + 1;
      EXPECT_EQ(*got[i].block, *want[i].block);
      EXPECT_EQ(got[i].qc, want[i].qc);
      EXPECT_EQ(got[i].outcome.state_root, want[i].outcome.state_root);
      EXPECT_EQ(got[i].outcome.txs.size(), want[i].outcome.txs.size());
    }
  }

  Genesis genesis_ = storage_genesis();
  ChainBuilder chain_{genesis_};
  TempDir dir_{"conformance"};
  std::unique_ptr<StoreUnderTest> subject_;
};

TEST_P(StoreConformance, AFirstStartHoldsNothingAndLostNothing) {
  auto r = store().load();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  EXPECT_TRUE(r->committed.empty());
  EXPECT_TRUE(r->blocks.empty());
  EXPECT_FALSE(r->safety_lost.has_value());
  if (r->safety) {
    EXPECT_EQ(r->safety->voted_round, Round(0));
  }
}

TEST_P(StoreConformance, ReadsItsOwnWrites) {
  const SafetyRecord record = record_at(3);
  store().save_safety(record);
  const CommittedBlock c1 = chain_.next(4);
  const BlockPtr above = chain_.uncommitted();
  store().save_blocks({c1.block, above});
  store().save_commits({c1});
  auto r = store().load();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  ASSERT_TRUE(r->safety.has_value());
  EXPECT_EQ(record_bytes(*r->safety), record_bytes(record));
  expect_same_chain(r->committed, {c1});
  // The block at the committed height is gone; the one above it stays.
  ASSERT_EQ(r->blocks.size(), 1u);
  EXPECT_EQ(r->blocks[0]->id, above->id);
}

TEST_P(StoreConformance, UncommittedBlocksComeBackInTheOrderSaved) {
  const BlockPtr b3 = chain_.uncommitted(3);
  const BlockPtr b1 = chain_.uncommitted(1);
  const BlockPtr b2 = chain_.uncommitted(2);
  store().save_blocks({b3});
  store().save_blocks({b1, b2});
  auto r = subject_->crash_and_reopen();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  ASSERT_EQ(r->blocks.size(), 3u);
  EXPECT_EQ(r->blocks[0]->id, b3->id);
  EXPECT_EQ(r->blocks[1]->id, b1->id);
  EXPECT_EQ(r->blocks[2]->id, b2->id);
}

TEST_P(StoreConformance, EverythingAcknowledgedSurvivesACrash) {
  std::vector<CommittedBlock> commits;
  for (int i = 0; i < 12; ++i) commits.push_back(chain_.next(i % 4));
  store().save_commits({commits.begin(), commits.begin() + 5});
  store().save_commits({commits.begin() + 5, commits.end()});
  store().save_safety(record_at(12));
  const BlockPtr above = chain_.uncommitted();
  store().save_blocks({above});
  auto r = subject_->crash_and_reopen();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  expect_same_chain(r->committed, commits);
  ASSERT_TRUE(r->safety.has_value());
  EXPECT_EQ(record_bytes(*r->safety), record_bytes(record_at(12)));
  ASSERT_EQ(r->blocks.size(), 1u);
  EXPECT_EQ(r->blocks[0]->id, above->id);
}

TEST_P(StoreConformance, ABlockCommitIsAllOrNothing) {
  std::vector<CommittedBlock> commits;
  for (int i = 0; i < 4; ++i) commits.push_back(chain_.next(6));
  subject_->crash_inside_last_commit(commits);
  auto r = subject_->crash_and_reopen();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  expect_same_chain(r->committed, {commits.begin(), commits.end() - 1});
  // The interrupted block commits cleanly once the replica derives it again.
  store().save_commits({commits.back()});
  r = subject_->crash_and_reopen();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  expect_same_chain(r->committed, commits);
}

TEST_P(StoreConformance, TheSafetyRecordIsReplacedWhole) {
  store().save_safety(record_at(5));
  store().save_safety(record_at(6));
  auto r = subject_->crash_and_reopen();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  ASSERT_TRUE(r->safety.has_value());
  EXPECT_EQ(record_bytes(*r->safety), record_bytes(record_at(6)));
}

TEST_P(StoreConformance, ANewerSchemaIsRefused) {
  store().save_commits({chain_.next(2)});
  subject_->make_schema_newer();
  auto r = subject_->crash_and_reopen();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, StoreErrorKind::SchemaTooNew) << to_string(r.error());
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreConformance, ::testing::ValuesIn(store_kinds()),
                         [](const ::testing::TestParamInfo<StoreKind>& kind) { return kind.param.name; });

}  // namespace
}  // namespace synod
