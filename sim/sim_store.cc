#include "sim/sim_store.h"

#include <algorithm>

#include "core/assert.h"
#include "core/records.h"
#include "core/sign_bytes.h"

namespace synod::sim {

namespace {

// A block whose bytes were cut short: its contents no longer hash to the id
// that was written with it.
BlockPtr torn_copy(const BlockPtr& block) {
  auto torn = std::make_shared<Block>(*block);
  if (torn->txs.empty()) {
    torn->round = Round(torn->round.value ^ 0x5a5a);
  } else {
    torn->txs.resize(torn->txs.size() / 2);
  }
  return torn;
}

bool intact(Digest digest, const ChainId& chain, const Block& block) {
  return block_id(digest, chain, block) == block.id;
}

}  // namespace

SimStore::SimStore(Digest digest, const ChainId& chain, std::uint64_t seed)
    : digest_(digest), chain_(chain), rng_(seed) {}

void SimStore::set_disk(const DiskFaults& faults, Sync sync) {
  faults_ = faults;
  sync_ = std::move(sync);
}

Height SimStore::committed_height() const { return Height(committed_.size()); }

void SimStore::sync(std::size_t count, const std::function<void(std::size_t, bool)>& keep) {
  ++stats_.writes;
  if (!sync_ || faults_.fsync_ms == 0 || sync_(faults_.fsync_ms)) {
    keep(count, false);
    return;
  }
  ++stats_.lost_writes;
  const std::size_t survivors = count == 0 ? 0 : rng_.below(count);
  const bool torn = survivors < count && rng_.chance(faults_.torn_write);
  if (torn) ++stats_.torn_writes;
  keep(survivors, torn);
  throw ProcessCrashed{};
}

void SimStore::save_safety(const SafetyRecord& record) {
  // Written to a temporary file, fsynced, renamed: a crash keeps the old record.
  sync(1, [&](std::size_t survivors, bool) {
    if (survivors == 1) {
      safety_ = record;
      rotten_safety_.reset();
    }
  });
}

void SimStore::save_blocks(const std::vector<BlockPtr>& blocks) {
  sync(blocks.size(), [&](std::size_t survivors, bool torn) {
    blocks_.insert(blocks_.end(), blocks.begin(), blocks.begin() + static_cast<std::ptrdiff_t>(survivors));
    if (torn) blocks_.push_back(torn_copy(blocks[survivors]));
  });
}

void SimStore::save_commits(const std::vector<CommittedBlock>& commits) {
  for (std::size_t i = 0; i < commits.size(); ++i) {
    SYNOD_ASSERT(commits[i].block->height() == Height(committed_.size() + i + 1));
  }
  sync(commits.size(), [&](std::size_t survivors, bool torn) {
    committed_.insert(committed_.end(), commits.begin(), commits.begin() + static_cast<std::ptrdiff_t>(survivors));
    if (torn) {
      CommittedBlock record = commits[survivors];
      record.block = torn_copy(record.block);
      committed_.push_back(std::move(record));
    }
    if (survivors == 0) return;
    // Uncommitted blocks at or below the committed height can never be needed again.
    const Height height = committed_[committed_.size() - 1 - (torn ? 1 : 0)].block->height();
    std::erase_if(blocks_, [&](const BlockPtr& b) { return b->height() <= height; });
  });
}

std::expected<Recovery, StoreError> SimStore::load() const {
  Recovery recovery;
  if (safety_) {
    // Read back through its sealed form, as from a file. A corrupt record is
    // never used: the replica starts without one and the AmnesiaRule keeps it
    // from signing until it is past every round it could have signed in.
    auto record = open_safety_record(rotten_safety_ ? *rotten_safety_ : seal_safety_record(*safety_));
    if (record) {
      recovery.safety = std::move(*record);
    } else {
      recovery.safety_lost = StoreError{StoreErrorKind::CorruptSafetyRecord,
                                        "safety record: " + std::string(to_string(record.error()))};
    }
  }
  for (std::size_t i = 0; i < committed_.size(); ++i) {
    if (intact(digest_, chain_, *committed_[i].block)) continue;
    if (i + 1 < committed_.size()) {
      return std::unexpected(StoreError{StoreErrorKind::CorruptLedger,
                                        "committed block at height " + std::to_string(i + 1) +
                                            " does not match its checksum"});
    }
    committed_.pop_back();  // torn by a crash before its fsync: never acknowledged
    ++stats_.torn_dropped;
  }
  stats_.torn_dropped += std::erase_if(blocks_, [&](const BlockPtr& b) { return !intact(digest_, chain_, *b); });
  recovery.committed = committed_;
  recovery.blocks = blocks_;
  return recovery;
}

bool SimStore::corrupt_safety_record() {
  if (!safety_) return false;
  if (!rotten_safety_) rotten_safety_ = seal_safety_record(*safety_);
  Bytes& bytes = *rotten_safety_;
  bytes[rng_.below(bytes.size())] ^= static_cast<std::uint8_t>(1 + rng_.below(255));
  return true;
}

}  // namespace synod::sim
