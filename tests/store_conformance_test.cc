// The Store contract (core/store.h), one suite run against every store:
// read-your-writes, what survives a crash, atomicity of a block commit, the
// safety record replaced whole, refusal of a newer schema, and pruning. To
// add a store, add one entry to store_kinds() below. A case that cannot apply
// to a store is skipped with the store's reason, never silently.
#include <gtest/gtest.h>

#include <functional>

#include "core/mem_store.h"
#include "core/wire.h"
#include "node/lmdb_store.h"
#include "sim/sim_store.h"
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
  // Leaves the durable data as a synod with a newer schema would; or says why
  // that cannot happen to this store.
  virtual std::optional<std::string> make_schema_newer() = 0;
  // From now on keeps only the newest `blocks_kept` block bodies (reopening
  // if it must); or says why this store does not prune.
  virtual std::optional<std::string> keep_only(std::size_t blocks_kept) = 0;
};

class MemStoreUnderTest final : public StoreUnderTest {
 public:
  Store& store() override { return store_; }
  // Everything a MemStore holds is durable for as long as it lives.
  std::expected<Recovery, StoreError> crash_and_reopen() override { return store_.load(); }
  void crash_inside_last_commit(const std::vector<CommittedBlock>& commits) override {
    store_.save_commits({commits.begin(), commits.end() - 1});  // saves block by block: the last never starts
  }
  std::optional<std::string> make_schema_newer() override {
    store_.set_schema_version(store_schema_version + 1);
    return std::nullopt;
  }
  std::optional<std::string> keep_only(std::size_t) override {
    return "MemStore lives for one test or simulation; it has no disk to keep from growing";
  }

 private:
  MemStore store_;
};

class LmdbStoreUnderTest final : public StoreUnderTest {
 public:
  LmdbStoreUnderTest(const Genesis& genesis, std::filesystem::path dir) : genesis_(genesis), dir_(std::move(dir)) {
    auto opened = node::LmdbStore::open(dir_, genesis_, key_, options_);
    SYNOD_ASSERT(opened.has_value());
    store_ = std::move(*opened);
  }
  Store& store() override { return *store_; }
  std::expected<Recovery, StoreError> crash_and_reopen() override {
    store_.reset();  // closes the file: what LMDB committed is what a crash keeps
    auto opened = node::LmdbStore::open(dir_, genesis_, key_, options_);
    if (!opened) return std::unexpected(opened.error());
    store_ = std::move(*opened);
    return store_->load();
  }
  void crash_inside_last_commit(const std::vector<CommittedBlock>& commits) override {
    store_->save_commits({commits.begin(), commits.end() - 1});
    store_->crash_inside_next_commit();
    store_->save_commits({commits.back()});
  }
  std::optional<std::string> make_schema_newer() override {
    const auto ledger = store_->files().ledger;
    store_.reset();
    SYNOD_ASSERT(node::rewrite_schema_version(ledger, store_schema_version + 1).has_value());
    return std::nullopt;
  }
  std::optional<std::string> keep_only(std::size_t blocks_kept) override {
    options_.blocks_kept = blocks_kept;
    SYNOD_ASSERT(crash_and_reopen().has_value());
    return std::nullopt;
  }

 private:
  Genesis genesis_;
  std::filesystem::path dir_;
  PublicKey key_ = KeyPair::from_label("validator-0").public_key;
  node::LmdbOptions options_;
  std::unique_ptr<node::LmdbStore> store_;
};

// SimStore as the simulator drives it: every save runs in a simulated process
// (a fiber) that sleeps fsync_ms of virtual time while its disk syncs, and a
// crash kills that process while it sleeps, through the store's own Sync
// callback, so the write in flight is lost (torn, here, to be dropped on load).
class SimStoreUnderTest final : public StoreUnderTest {
 public:
  explicit SimStoreUnderTest(const Genesis& genesis)
      : store_(sha256, genesis.chain_id(), seed), process_(*this), disk_synced_(scheduler_) {
    store_.set_disk(sim::DiskFaults{fsync_ms, 1.0}, [this](TimeMs duration_ms) { return wait_for_disk(duration_ms); });
  }
  Store& store() override { return process_; }
  // Every save above ran to its fsync: nothing is in flight when the process dies.
  std::expected<Recovery, StoreError> crash_and_reopen() override { return store_.load(); }
  void crash_inside_last_commit(const std::vector<CommittedBlock>& commits) override {
    process_.save_commits({commits.begin(), commits.end() - 1});
    bool died = false;
    scheduler_.spawn([&] {
      try {
        store_.save_commits({commits.back()});
      } catch (const sim::ProcessCrashed&) {
        died = true;
      }
    });
    scheduler_.run_until(scheduler_.now() + fsync_ms / 2);  // the commit is written, its fsync under way
    crashed_ = true;
    disk_synced_.notify();
    scheduler_.run_ready();
    crashed_ = false;
    SYNOD_ASSERT(died);
    SYNOD_ASSERT(store_.stats().lost_writes == 1);
  }
  std::optional<std::string> make_schema_newer() override {
    return "a simulated disk lives and dies inside one run of one synod build: no other version reads it";
  }
  std::optional<std::string> keep_only(std::size_t) override {
    return "SimStore keeps every block: the simulator's checkers compare whole histories, and its disks never fill";
  }

 private:
  static constexpr std::uint64_t seed = 7;
  static constexpr TimeMs fsync_ms = 10;

  // The Store a simulated process calls: each call runs in a fiber, to completion.
  class Process final : public Store {
   public:
    explicit Process(SimStoreUnderTest& subject) : subject_(subject) {}
    void save_safety(const SafetyRecord& record) override {
      run([&] { subject_.store_.save_safety(record); });
    }
    void save_blocks(const std::vector<BlockPtr>& blocks) override {
      run([&] { subject_.store_.save_blocks(blocks); });
    }
    void save_commits(const std::vector<CommittedBlock>& commits) override {
      run([&] { subject_.store_.save_commits(commits); });
    }
    std::expected<Recovery, StoreError> load() const override { return subject_.store_.load(); }
    Height committed_height() const override { return subject_.store_.committed_height(); }
    std::expected<CommittedBlock, StoreError> committed_block(Height height) const override {
      return subject_.store_.committed_block(height);
    }

   private:
    void run(const std::function<void()>& write) {
      bool done = false;
      subject_.scheduler_.spawn([&] {
        write();
        done = true;
      });
      subject_.scheduler_.run_until(subject_.scheduler_.now() + fsync_ms);
      SYNOD_ASSERT(done);
    }
    SimStoreUnderTest& subject_;
  };

  // The store's Sync: sleeps the writing process until its fsync completes;
  // false if the process crashed first.
  bool wait_for_disk(TimeMs duration_ms) {
    const TimeMs until = scheduler_.now() + duration_ms;
    while (!crashed_ && scheduler_.now() < until) disk_synced_.wait_until(until);
    return !crashed_;
  }

  sim::Scheduler scheduler_{seed};
  sim::SimStore store_;
  Process process_;
  sim::Signal disk_synced_;
  bool crashed_ = false;
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
      {"SimStore", [](const Genesis& g, const std::filesystem::path&) { return std::make_unique<SimStoreUnderTest>(g); }},
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
      ASSERT_EQ(got[i].outcome.txs.size(), want[i].outcome.txs.size());
      for (std::size_t t = 0; t < got[i].outcome.txs.size(); ++t) {
        EXPECT_EQ(got[i].outcome.txs[t].hash, want[i].outcome.txs[t].hash) << "height " << i + 1 << " tx " << t;
        EXPECT_EQ(got[i].outcome.txs[t].error, want[i].outcome.txs[t].error) << "height " << i + 1 << " tx " << t;
      }
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

// Peers catching up below a replica's memory window are served from the
// store: a range of committed blocks, each with its own QC, within the
// count and byte limits (the first block always goes).
TEST_P(StoreConformance, ServesRangesOfCommittedBlocksWithTheirQcs) {
  std::vector<CommittedBlock> commits;
  for (int i = 0; i < 9; ++i) commits.push_back(chain_.next(i % 3 + 1));
  store().save_commits(commits);
  EXPECT_EQ(store().committed_height(), Height(9));
  auto range = store().committed_range(Height(2), Height(8), 4, frame_bytes_max);
  ASSERT_TRUE(range.has_value()) << to_string(range.error());
  expect_same_chain(*range, {commits.begin() + 1, commits.begin() + 5});
  range = store().committed_range(Height(7), Height(8), 64, frame_bytes_max);
  ASSERT_TRUE(range.has_value());
  expect_same_chain(*range, {commits.begin() + 6, commits.begin() + 8});
  // One transaction's bytes: only the first block, however many are asked for.
  range = store().committed_range(Height(1), Height(9), 64, 1);
  ASSERT_TRUE(range.has_value());
  ASSERT_EQ(range->size(), 1u);
  EXPECT_EQ(range->front().block->id, commits[0].block->id);
}

// A store may keep a record without what its block already holds (SimStore
// does), so what a record need not repeat is tried here: it still comes back
// as saved.
TEST_P(StoreConformance, GivesBackOutcomesAndQcsThatDifferFromTheBlocks) {
  std::vector<CommittedBlock> commits;
  for (int i = 0; i < 4; ++i) commits.push_back(chain_.next(3));
  commits[0].outcome.txs[1].error = TxError::InsufficientBalance;
  commits[1].outcome.txs[2].hash.bytes.fill(0xab);  // not the block's own hash
  commits[2].qc.votes.push_back(SignerSig{NodeId(1), Signature{}});  // not the next block's justify
  store().save_commits(commits);
  auto r = subject_->crash_and_reopen();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  expect_same_chain(r->committed, commits);
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
  if (auto why = subject_->make_schema_newer()) GTEST_SKIP() << *why;
  auto r = subject_->crash_and_reopen();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, StoreErrorKind::SchemaTooNew) << to_string(r.error());
}

// Pruning (docs/storage.md): only the newest bodies come back, with the ledger
// state right after the last pruned block; replaying the kept bodies from that
// state gives every stored state root, and the state the chain built.
TEST_P(StoreConformance, APrunedStoreKeepsTheNewestBodiesAndTheStateBelowThem) {
  if (auto why = subject_->keep_only(3)) GTEST_SKIP() << *why;
  std::vector<CommittedBlock> commits;
  for (int i = 0; i < 10; ++i) commits.push_back(chain_.next(i % 5));
  store().save_commits({commits.begin(), commits.begin() + 6});
  store().save_commits({commits.begin() + 6, commits.end()});
  auto r = subject_->crash_and_reopen();
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  expect_same_chain(r->committed, {commits.end() - 3, commits.end()});
  ASSERT_TRUE(r->base.has_value());
  EXPECT_EQ(r->base->block, commits[6].block->id);
  EXPECT_EQ(r->base->state.height, Height(7));
  EXPECT_EQ(r->base->state.state_root, commits[6].outcome.state_root);

  Ledger replayed(genesis_, sha256, r->base->state);
  for (const CommittedBlock& c : r->committed) {
    EXPECT_EQ(replayed.execute(c.block->height(), c.block->txs).state_root, c.outcome.state_root);
  }
  const Ledger& built = chain_.ledger();
  for (const char* name : {"alice", "bob"}) {
    EXPECT_EQ(replayed.account(storage_account(name).public_key), built.account(storage_account(name).public_key));
  }
  for (std::uint64_t k = 0; k < 17; ++k) {
    const PublicKey alice = storage_account("alice").public_key;
    EXPECT_EQ(replayed.value(alice, test_key_bytes(k)), built.value(alice, test_key_bytes(k))) << "key " << k;
  }
  // A transaction of a pruned block keeps its fate.
  const TxHash pruned_tx = commits[2].outcome.txs.front().hash;
  ASSERT_TRUE(replayed.find_tx(pruned_tx).has_value());
  EXPECT_EQ(replayed.find_tx(pruned_tx)->height, Height(3));
  EXPECT_EQ(replayed.find_tx(pruned_tx), built.find_tx(pruned_tx));
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreConformance, ::testing::ValuesIn(store_kinds()),
                         [](const ::testing::TestParamInfo<StoreKind>& kind) { return kind.param.name; });

}  // namespace
}  // namespace synod
