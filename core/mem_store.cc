#include "core/mem_store.h"

#include <algorithm>
#include <string>

#include "core/assert.h"

namespace synod {

void MemStore::save_safety(const SafetyRecord& record) {
  if (safety_) SYNOD_ASSERT(safety_->voted_round <= record.voted_round);
  safety_ = record;
}

void MemStore::save_blocks(const std::vector<BlockPtr>& blocks) {
  blocks_.insert(blocks_.end(), blocks.begin(), blocks.end());
}

void MemStore::save_commits(const std::vector<CommittedBlock>& commits) {
  for (const CommittedBlock& c : commits) {
    SYNOD_ASSERT(c.block->height() == Height(committed_.size() + 1));
    committed_.push_back(c);
  }
  if (commits.empty()) return;
  // Uncommitted blocks at or below the committed height can never be needed again.
  const Height committed_height = commits.back().block->height();
  std::erase_if(blocks_, [&](const BlockPtr& b) { return b->height() <= committed_height; });
}

std::expected<CommittedBlock, StoreError> MemStore::committed_block(Height height) const {
  SYNOD_ASSERT(height > Height(0));
  SYNOD_ASSERT(height <= committed_height());
  return committed_[height.value - 1];
}

std::expected<Recovery, StoreError> MemStore::load() const {
  if (schema_version_ > store_schema_version) {
    return std::unexpected(StoreError{StoreErrorKind::SchemaTooNew,
                                      "schema " + std::to_string(schema_version_) + ", this synod reads up to " +
                                          std::to_string(store_schema_version)});
  }
  return Recovery{safety_, committed_, blocks_, std::nullopt, std::nullopt};
}

}  // namespace synod
