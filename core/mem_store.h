// MemStore: a Store held in memory. Everything saved is "durable" for as long
// as the object lives, so a test or simulation can crash a replica (destroy
// it) and restart another from the same MemStore.
#pragma once

#include "core/store.h"

namespace synod {

class MemStore final : public Store {
 public:
  void save_safety(const SafetyRecord& record) override;
  void save_blocks(const std::vector<BlockPtr>& blocks) override;
  void save_commits(const std::vector<CommittedBlock>& commits) override;
  Recovery load() const override;

  const std::vector<CommittedBlock>& committed() const { return committed_; }

 private:
  std::optional<SafetyRecord> safety_;
  std::vector<CommittedBlock> committed_;
  std::vector<BlockPtr> blocks_;
};

}  // namespace synod
