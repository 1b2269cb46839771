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
    torn->round = torn->round.next();  // never round 0, which would make it genesis
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

SimStore::Record SimStore::record_of(const CommittedBlock& committed) {
  const Block& block = *committed.block;
  Record record{committed.block, committed.outcome.state_root, {}, committed.qc};
  bool derived = committed.outcome.txs.size() == block.tx_hashes.size();
  for (std::size_t i = 0; derived && i < block.tx_hashes.size(); ++i) {
    derived = !committed.outcome.txs[i].error && committed.outcome.txs[i].hash == block.tx_hashes[i];
  }
  if (!derived) record.outcomes = committed.outcome.txs;
  return record;
}

CommittedBlock SimStore::rebuild(std::size_t index) const {
  const Record& record = committed_[index];
  SYNOD_ASSERT(record.qc || index + 1 < committed_.size());  // only a successor's justify stands in for it
  CommittedBlock committed{record.block, BlockOutcome{record.block->height(), record.outcomes, record.state_root},
                           record.qc ? *record.qc : committed_[index + 1].block->justify};
  if (record.outcomes.empty()) {
    for (const TxHash& hash : record.block->tx_hashes) committed.outcome.txs.push_back(TxOutcome{hash, std::nullopt});
  }
  SYNOD_ASSERT(committed.qc.block == record.block->id);
  return committed;
}

std::expected<CommittedBlock, StoreError> SimStore::committed_block(Height height) const {
  SYNOD_ASSERT(height > Height(0));
  SYNOD_ASSERT(height.value <= committed_.size());
  return rebuild(height.value - 1);
}

std::vector<CommittedBlock> SimStore::committed() const {
  std::vector<CommittedBlock> chain;
  chain.reserve(committed_.size());
  for (std::size_t i = 0; i < committed_.size(); ++i) chain.push_back(rebuild(i));
  return chain;
}

void SimStore::save_commits(const std::vector<CommittedBlock>& commits) {
  for (std::size_t i = 0; i < commits.size(); ++i) {
    SYNOD_ASSERT(commits[i].block->height() == Height(committed_.size() + i + 1));
    // One outcome per transaction and the block's own QC, as LmdbStore
    // asserts too: an empty outcome list must mean an empty block here.
    SYNOD_ASSERT(commits[i].outcome.height == commits[i].block->height());
    SYNOD_ASSERT(commits[i].outcome.txs.size() == commits[i].block->tx_hashes.size());
    SYNOD_ASSERT(commits[i].qc.block == commits[i].block->id);
  }
  sync(commits.size(), [&](std::size_t survivors, bool torn) {
    for (std::size_t i = 0; i < survivors; ++i) {
      if (!committed_.empty() && committed_.back().qc == commits[i].block->justify) committed_.back().qc.reset();
      committed_.push_back(record_of(commits[i]));
    }
    if (torn) {
      // The torn copy keeps the tx_hashes the record was checked against. It
      // leaves the record before it whole: load() drops it.
      Record record = record_of(commits[survivors]);
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
  recovery.committed = committed();
  recovery.blocks = blocks_;
  return recovery;
}

void SimStore::restore(const Backup& backup) {
  committed_ = backup.committed;
  blocks_ = backup.blocks;
}

bool SimStore::corrupt_safety_record() {
  if (!safety_) return false;
  if (!rotten_safety_) rotten_safety_ = seal_safety_record(*safety_);
  Bytes& bytes = *rotten_safety_;
  bytes[rng_.below(bytes.size())] ^= static_cast<std::uint8_t>(1 + rng_.below(255));
  return true;
}

}  // namespace synod::sim
