// SimStore's safety record: kept as written and sealed (core/records.h) only
// when it is read back or rots, so these check what that must still give: a
// record reads back as saved, a rotten one is reported lost and never used,
// and the next durable write replaces the rot. And its committed records,
// kept without the QC the next block's justify repeats: a crash in the middle
// of an append keeps the records before the torn one whole.
#include <gtest/gtest.h>

#include "core/crypto.h"
#include "sim/sim_store.h"
#include "tests/store_test_util.h"

namespace synod::sim {
namespace {

SafetyRecord record_at(std::uint64_t round) {
  SafetyRecord r;
  r.voted_round = Round(round);
  r.highest_qc_round = Round(round - 1);
  r.proposed_round = Round(round);
  return r;
}

void expect_safety(const SimStore& store, std::uint64_t round) {
  const auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value());
  ASSERT_TRUE(loaded->safety.has_value());
  EXPECT_FALSE(loaded->safety_lost.has_value());
  EXPECT_EQ(loaded->safety->voted_round, Round(round));
  EXPECT_EQ(loaded->safety->highest_qc_round, Round(round - 1));
  EXPECT_EQ(loaded->safety->proposed_round, Round(round));
}

TEST(SimStore, ASafetyRecordReadsBackAsSaved) {
  SimStore store(sha256, ChainId{}, 1);
  store.save_safety(record_at(3));
  expect_safety(store, 3);
  store.save_safety(record_at(7));
  expect_safety(store, 7);
}

TEST(SimStore, ARottenSafetyRecordIsLostUntilTheNextWrite) {
  SimStore store(sha256, ChainId{}, 1);
  EXPECT_FALSE(store.corrupt_safety_record());  // nothing written yet
  store.save_safety(record_at(4));
  ASSERT_TRUE(store.corrupt_safety_record());

  const auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_FALSE(loaded->safety.has_value());
  ASSERT_TRUE(loaded->safety_lost.has_value());
  EXPECT_EQ(loaded->safety_lost->kind, StoreErrorKind::CorruptSafetyRecord);
  // Reading does not heal it: the rot stays until a write replaces the file.
  EXPECT_FALSE(store.load()->safety.has_value());

  store.save_safety(record_at(5));
  expect_safety(store, 5);
}

TEST(SimStore, ACrashInsideAnAppendKeepsTheRecordsBeforeTheTornOneWhole) {
  const Genesis genesis = storage_genesis();
  std::vector<CommittedBlock> commits;
  ChainBuilder chain(genesis);
  for (int i = 0; i < 6; ++i) commits.push_back(chain.next(i % 3));
  std::size_t most_survivors = 0;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    SimStore store(sha256, genesis.chain_id(), seed);
    bool crash = false;
    store.set_disk(DiskFaults{1, 1.0}, [&](TimeMs) { return !crash; });
    store.save_commits({commits.begin(), commits.begin() + 2});
    crash = true;
    EXPECT_THROW(store.save_commits({commits.begin() + 2, commits.end()}), ProcessCrashed);
    ASSERT_EQ(store.stats().torn_writes, 1u);

    const auto loaded = store.load();  // drops the torn tail
    ASSERT_TRUE(loaded.has_value()) << to_string(loaded.error());
    const std::size_t kept = loaded->committed.size();
    ASSERT_GE(kept, 2u);
    ASSERT_LT(kept, commits.size());
    most_survivors = std::max(most_survivors, kept - 2);
    for (std::size_t h = 0; h < kept; ++h) {
      EXPECT_EQ(loaded->committed[h].block->id, commits[h].block->id) << "seed " << seed << " height " << h + 1;
      EXPECT_EQ(loaded->committed[h].qc, commits[h].qc) << "seed " << seed << " height " << h + 1;
      EXPECT_EQ(loaded->committed[h].outcome.txs.size(), commits[h].outcome.txs.size());
    }
  }
  EXPECT_GE(most_survivors, 2u);  // some seed kept records of the crashed append before the torn one
}

}  // namespace
}  // namespace synod::sim
