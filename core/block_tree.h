// BlockTree: the uncommitted blocks a replica holds, rooted at its last
// committed block. Every block in it descends from the root; committing a
// block makes it the new root and drops every branch that does not extend it.
// Ordered containers only, so walks are deterministic.
#pragma once

#include <map>
#include <vector>

#include "core/messages.h"

namespace synod {

class BlockTree {
 public:
  explicit BlockTree(BlockPtr root);

  const BlockPtr& root() const { return root_; }
  bool contains(const BlockId& id) const { return blocks_.contains(id); }
  // nullptr when unknown.
  BlockPtr get(const BlockId& id) const;
  std::size_t size() const { return blocks_.size(); }

  // The parent must be in the tree; the block must not be.
  void insert(BlockPtr block);
  // Blocks after the root up to and including `id`, oldest first.
  std::vector<BlockPtr> path_from_root(const BlockId& id) const;
  // Makes `id` the root and forgets every block that does not descend from it.
  void prune_to(const BlockId& id);

 private:
  // prune_to when no block on the path from the root up to (not including)
  // `new_root` has a second child; false, and nothing changes, otherwise.
  bool prune_chain_to(const Block& new_root);

  BlockPtr root_;
  std::map<BlockId, BlockPtr> blocks_;
  std::multimap<BlockId, BlockId> children_;  // parent -> child
};

}  // namespace synod
