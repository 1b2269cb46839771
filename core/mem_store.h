// MemStore: a Store held in memory. Everything saved is "durable" for as long
// as the object lives, so a test or simulation can crash a replica (destroy
// it) and restart another from the same MemStore. It never touches a file.
#pragma once

#include "core/store.h"

namespace synod {

class MemStore final : public Store {
 public:
  void save_safety(const SafetyRecord& record) override;
  void save_blocks(const std::vector<BlockPtr>& blocks) override;
  void save_commits(const std::vector<CommittedBlock>& commits) override;
  std::expected<Recovery, StoreError> load() const override;
  Height committed_height() const override { return Height(committed_.size()); }
  std::expected<CommittedBlock, StoreError> committed_block(Height height) const override;

  const std::vector<CommittedBlock>& committed() const { return committed_; }

  // What a newer synod would leave behind: load() then refuses with
  // SchemaTooNew, as every store must (the conformance suite checks it).
  void set_schema_version(std::uint32_t version) { schema_version_ = version; }

 private:
  std::optional<SafetyRecord> safety_;
  std::vector<CommittedBlock> committed_;
  std::vector<BlockPtr> blocks_;
  std::uint32_t schema_version_ = store_schema_version;
};

}  // namespace synod
