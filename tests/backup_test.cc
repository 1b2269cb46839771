// Backups and restore (node/backup.h): the schedule decided from the time it
// is given, online copies while the store is open, the listing, and restore:
// refused while the node runs, refused for a bad or foreign backup with the
// ledger untouched, and a restored node that never signs again in a round it
// signed in before the backup was restored.
#include <gtest/gtest.h>

#include <fstream>

#include "node/backup.h"
#include "tests/signed_rounds.h"
#include "tests/store_test_util.h"

namespace synod {
namespace {

constexpr TimeMs hour_ms = 60 * 60 * 1000;
constexpr TimeMs day_ms = 24 * hour_ms;
constexpr TimeMs t0_ms = 1700000000000;  // 2023-11-14, any fixed time will do

using node::BackupInfo;

std::vector<BackupInfo> backups_at(std::initializer_list<TimeMs> times) {
  std::vector<BackupInfo> out;
  for (TimeMs t : times) out.push_back(BackupInfo{"b" + std::to_string(t), t, 1});
  return out;
}

TEST(BackupPlan, TakesOneADayAndKeepsTheNewestSeven) {
  const node::BackupPolicy policy{"folder", day_ms, 7};
  struct Case {
    std::vector<BackupInfo> existing;
    TimeMs now;
    bool take;
    std::size_t removed;
  };
  const std::vector<Case> cases = {
      {{}, t0_ms, true, 0},                                  // none yet: take one now
      {backups_at({t0_ms}), t0_ms + hour_ms, false, 0},       // too soon
      {backups_at({t0_ms}), t0_ms + day_ms, true, 0},         // a day later
      {backups_at({0, 1, 2, 3, 4, 5}), t0_ms, true, 0},       // the seventh
      {backups_at({0, 1, 2, 3, 4, 5, 6}), t0_ms, true, 1},    // the eighth pushes out the oldest
      {backups_at({0, 1, 2, 3, 4, 5, 6, 7, 8}), 9, false, 2},  // kept_max applies even when not taking
  };
  for (const Case& c : cases) {
    const node::BackupPlan plan = node::plan_backups(policy, c.existing, c.now);
    EXPECT_EQ(plan.take, c.take) << c.existing.size() << " at " << c.now;
    ASSERT_EQ(plan.remove.size(), c.removed) << c.existing.size() << " at " << c.now;
    for (std::size_t i = 0; i < c.removed; ++i) EXPECT_EQ(plan.remove[i], c.existing[i].file);
  }
}

class BackupTest : public ::testing::Test {
 protected:
  std::unique_ptr<node::LmdbStore> open() {
    auto s = node::LmdbStore::open(dir_.path(), genesis_, key_);
    SYNOD_ASSERT(s.has_value());
    return std::move(*s);
  }

  Genesis genesis_ = storage_genesis();
  PublicKey key_ = KeyPair::from_label("validator-0").public_key;
  ChainBuilder chain_{genesis_};
  TempDir dir_{"backup"};
};

TEST_F(BackupTest, AScheduleOverNineDaysKeepsSevenDailyCopies) {
  auto store = open();
  const node::BackupPolicy policy{dir_.path() / "dump", day_ms, 7};
  std::size_t taken = 0;
  for (TimeMs now = t0_ms; now < t0_ms + 9 * day_ms; now += 6 * hour_ms) {
    store->save_commits({chain_.next(5)});
    auto backup = node::run_backup_schedule(*store, policy, now);
    ASSERT_TRUE(backup.has_value()) << to_string(backup.error());
    taken += backup->has_value() ? 1 : 0;
  }
  EXPECT_EQ(taken, 9u);
  const auto listed = node::list_backups(policy.folder, store->files()).value();
  ASSERT_EQ(listed.size(), 7u);
  EXPECT_EQ(listed.front().time_ms, t0_ms + 2 * day_ms);
  EXPECT_EQ(listed.back().time_ms, t0_ms + 8 * day_ms);
  for (const BackupInfo& b : listed) {
    EXPECT_GT(b.size_bytes, 0u);
    EXPECT_EQ(std::filesystem::status(b.file).permissions() & std::filesystem::perms::all, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
}

TEST_F(BackupTest, RestoreBringsBackTheLedgerAsItWasAndKeepsTheRecord) {
  auto store = open();
  for (int i = 0; i < 5; ++i) store->save_commits({chain_.next(10)});
  store->save_safety(record_at(5));
  auto old = node::take_backup(*store, store->files().backups, t0_ms);
  ASSERT_TRUE(old.has_value()) << to_string(old.error());
  for (int i = 0; i < 5; ++i) store->save_commits({chain_.next(10)});
  store->save_safety(record_at(10));

  // While the node runs, restore refuses and changes nothing.
  auto refused = node::restore_backup(old->file, dir_.path(), chain_.chain(), key_, t0_ms, &genesis_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, StoreErrorKind::Locked);
  store.reset();

  auto restored = node::restore_backup(old->file, dir_.path(), chain_.chain(), key_, t0_ms, &genesis_);
  ASSERT_TRUE(restored.has_value()) << to_string(restored.error());
  EXPECT_EQ(restored->plan.backup.committed_height, Height(5));
  EXPECT_EQ(restored->plan.current->committed_height, Height(10));
  EXPECT_EQ(restored->plan.blocks_discarded, 5u);
  EXPECT_EQ(restored->plan.safety, node::RestorePlan::Safety::Valid);
  // The replaced ledger is kept beside the new one, which is the owner's alone.
  ASSERT_FALSE(restored->replaced_kept_as.empty());
  EXPECT_EQ(node::inspect_ledger(restored->replaced_kept_as, false).value().committed_height, Height(10));
  EXPECT_EQ(restored->replaced_kept_as.parent_path(), dir_.path());
  EXPECT_EQ(std::filesystem::status(node::node_files(dir_.path(), key_).ledger).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto r = open()->load();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->committed.size(), 5u);
  EXPECT_EQ(r->safety->voted_round, Round(10));  // the newer record, not the backup's time
}

TEST_F(BackupTest, RestoreRefusesABadOrForeignBackupAndLeavesTheLedger) {
  auto store = open();
  for (int i = 0; i < 20; ++i) store->save_commits({chain_.next(20)});
  auto backup = node::take_backup(*store, store->files().backups, t0_ms);
  ASSERT_TRUE(backup.has_value());
  const auto ledger = store->files().ledger;
  store.reset();
  const std::uintmax_t ledger_size = std::filesystem::file_size(ledger);

  const ChainId other = storage_genesis("another-chain").chain_id();
  auto foreign = node::restore_backup(backup->file, dir_.path(), other, key_, t0_ms);
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().kind, StoreErrorKind::WrongChain);

  // A flipped bit in a stored value of the backup.
  std::fstream f(backup->file, std::ios::in | std::ios::out | std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), {});
  const std::size_t at = bytes.find("value-");
  ASSERT_NE(at, std::string::npos);
  f.seekp(static_cast<std::streamoff>(at + 3));
  f.put(static_cast<char>(bytes[at + 3] ^ 0x20));
  f.close();
  auto corrupt = node::restore_backup(backup->file, dir_.path(), chain_.chain(), key_, t0_ms, &genesis_);
  ASSERT_FALSE(corrupt.has_value());
  EXPECT_EQ(corrupt.error().kind, StoreErrorKind::CorruptLedger) << to_string(corrupt.error());

  std::filesystem::resize_file(backup->file, std::filesystem::file_size(backup->file) / 2);
  auto truncated = node::restore_backup(backup->file, dir_.path(), chain_.chain(), key_, t0_ms);
  ASSERT_FALSE(truncated.has_value());
  EXPECT_EQ(truncated.error().kind, StoreErrorKind::CorruptLedger);

  EXPECT_EQ(std::filesystem::file_size(ledger), ledger_size);
  auto r = open()->load();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->committed.size(), 20u);
}

TEST_F(BackupTest, TheListingNamesAMissingFolderAndSkipsWhatIsNotABackupOfThisNode) {
  auto store = open();
  store->save_commits({chain_.next(3)});
  const auto folder = dir_.path() / "dump";
  auto missing = node::list_backups(folder, store->files());
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().detail.find("no backup folder"), std::string::npos);
  auto real = node::take_backup(*store, folder, t0_ms);
  ASSERT_TRUE(real.has_value());
  const std::string prefix = real->file.filename().string().substr(0, 17);
  std::ofstream(folder / (prefix + "20231113T221320.000Z.mdb")) << "not a ledger at all, but named like one";
  std::filesystem::copy_file(real->file, folder / (prefix + "20231314T221320.000Z.mdb"));  // month 13
  std::filesystem::copy_file(real->file, folder / "0123456789abcdef-20231114T221320.000Z.mdb");  // another node's
  std::filesystem::create_directory(folder / (prefix + "20231115T221320.000Z.mdb"));
  const auto listed = node::list_backups(folder, store->files());
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().file, real->file);
}

TEST_F(BackupTest, AFailedRestoreLeavesNothingBehindAndTheRecordIsReportedAsItIs) {
  auto store = open();
  for (int i = 0; i < 3; ++i) store->save_commits({chain_.next(5)});
  auto backup = node::take_backup(*store, dir_.path() / "dump", t0_ms);
  ASSERT_TRUE(backup.has_value());
  store.reset();

  // Into a new folder, a damaged backup: refused, and the folder is not left behind.
  const auto fresh = dir_.path() / "fresh";
  const auto damaged = dir_.path() / "damaged.mdb";
  std::filesystem::copy_file(backup->file, damaged);
  std::filesystem::resize_file(damaged, std::filesystem::file_size(damaged) / 2);
  ASSERT_FALSE(node::restore_backup(damaged, fresh, chain_.chain(), key_, t0_ms).has_value());
  EXPECT_FALSE(std::filesystem::exists(fresh));

  // Over the ledger: refused, nothing changed, no .restore or lock file left.
  const auto files = node::node_files(dir_.path(), key_);
  std::filesystem::remove(files.lock);
  const auto before = std::filesystem::file_size(files.ledger);
  ASSERT_FALSE(node::restore_backup(damaged, dir_.path(), chain_.chain(), key_, t0_ms).has_value());
  EXPECT_EQ(std::filesystem::file_size(files.ledger), before);
  EXPECT_FALSE(std::filesystem::exists(files.ledger.string() + ".restore"));
  EXPECT_FALSE(std::filesystem::exists(files.lock));

  // An empty safety record file is unusable, and the plan says so; planning changes nothing.
  std::ofstream(files.safety, std::ios::trunc).close();
  auto plan = node::plan_restore(backup->file, dir_.path(), chain_.chain(), key_, &genesis_);
  ASSERT_TRUE(plan.has_value()) << to_string(plan.error());
  EXPECT_EQ(plan->safety, node::RestorePlan::Safety::Unusable);
  EXPECT_EQ(plan->current->committed_height, Height(3));
  EXPECT_EQ(std::filesystem::file_size(files.ledger), before);
  std::filesystem::remove(files.safety);
  EXPECT_EQ(node::plan_restore(backup->file, dir_.path(), chain_.chain(), key_).value().safety,
            node::RestorePlan::Safety::Missing);
}

// The replica on an LmdbStore votes in rounds 1 to 5; a backup taken after
// round 3 is restored. Shown other blocks for rounds 4 and 5, it signs
// nothing; it votes again in round 6.
TEST(RestoredNode, NeverSignsAgainInARoundItSignedIn) {
  TempDir dir("restore-replica");
  const SignedRounds net(6);
  const PublicKey key = test_validator_key(net.self.value).public_key;
  const auto open = [&] {
    auto s = node::LmdbStore::open(dir.path(), net.genesis, key);
    SYNOD_ASSERT(s.has_value());
    return std::move(*s);
  };
  std::filesystem::path backup;
  std::vector<BlockPtr> blocks = {net.block(1, genesis_qc(net.chain))};
  {
    auto store = open();
    auto replica = net.boot(ReplicaConfig{}, store->load().value(), 0);
    for (std::uint64_t r = 1; r <= 5; ++r) {
      if (r > 1) blocks.push_back(net.block(r, net.qc(blocks.back())));
      replica->on_message(blocks.back()->proposer, net.proposal(blocks.back()));
      ASSERT_EQ(SignedRounds::votes(SignedRounds::persist(*replica, *store)).size(), 1u) << "round " << r;
      if (r == 3) backup = node::take_backup(*store, store->files().backups, t0_ms).value().file;
    }
  }
  auto restored = node::restore_backup(backup, dir.path(), net.chain, key, t0_ms, &net.genesis);
  ASSERT_TRUE(restored.has_value()) << to_string(restored.error());
  ASSERT_EQ(restored->plan.safety, node::RestorePlan::Safety::Valid);

  auto store = open();
  const Recovery recovery = store->load().value();
  EXPECT_EQ(recovery.committed.size(), 1u);  // the ledger went back to round 3
  EXPECT_EQ(recovery.safety->voted_round, Round(5));
  auto replica = net.boot(ReplicaConfig{}, recovery, 0);
  SignedRounds::persist(*replica, *store);
  // An equivocating leader's other blocks for rounds 4 and 5.
  const BlockPtr other4 = net.block(4, net.qc(blocks[2]));
  replica->on_message(other4->proposer, net.proposal(other4));
  const BlockPtr other5 = net.block(5, net.qc(other4));
  replica->on_message(other5->proposer, net.proposal(other5));
  EXPECT_TRUE(SignedRounds::votes(SignedRounds::persist(*replica, *store)).empty());
  const BlockPtr b6 = net.block(6, net.qc(other5));
  replica->on_message(b6->proposer, net.proposal(b6));
  const auto votes = SignedRounds::votes(SignedRounds::persist(*replica, *store));
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].round, Round(6));
}

}  // namespace
}  // namespace synod
