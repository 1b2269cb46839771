// SimStore's safety record: kept as written and sealed (core/records.h) only
// when it is read back or rots, so these check what that must still give: a
// record reads back as saved, a rotten one is reported lost and never used,
// and the next durable write replaces the rot.
#include <gtest/gtest.h>

#include "core/crypto.h"
#include "sim/sim_store.h"

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

}  // namespace
}  // namespace synod::sim
