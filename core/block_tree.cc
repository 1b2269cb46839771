#include "core/block_tree.h"

#include <algorithm>

#include "core/assert.h"

namespace synod {

BlockTree::BlockTree(BlockPtr root) : root_(std::move(root)) {
  SYNOD_ASSERT(root_ != nullptr);
  blocks_.emplace(root_->id, root_);
}

BlockPtr BlockTree::get(const BlockId& id) const {
  auto it = blocks_.find(id);
  return it == blocks_.end() ? nullptr : it->second;
}

void BlockTree::insert(BlockPtr block) {
  SYNOD_ASSERT(block != nullptr);
  SYNOD_ASSERT(!contains(block->id));
  const BlockPtr parent = get(block->parent());
  SYNOD_ASSERT(parent != nullptr);
  SYNOD_ASSERT(parent->height().next() == block->height());
  SYNOD_ASSERT(parent->round < block->round);
  children_.emplace(block->parent(), block->id);
  blocks_.emplace(block->id, std::move(block));
}

std::vector<BlockPtr> BlockTree::path_from_root(const BlockId& id) const {
  std::vector<BlockPtr> path;
  for (BlockPtr b = get(id); b != nullptr && b->id != root_->id; b = get(b->parent())) {
    path.push_back(b);
  }
  std::reverse(path.begin(), path.end());
  SYNOD_ASSERT(path.empty() || path.front()->parent() == root_->id);
  return path;
}

void BlockTree::prune_to(const BlockId& id) {
  BlockPtr new_root = get(id);
  SYNOD_ASSERT(new_root != nullptr);
  std::map<BlockId, BlockPtr> kept;
  std::multimap<BlockId, BlockId> kept_children;
  std::vector<BlockId> frontier{id};
  while (!frontier.empty()) {
    const BlockId current = frontier.back();
    frontier.pop_back();
    kept.emplace(current, blocks_.at(current));
    auto [begin, end] = children_.equal_range(current);
    for (auto it = begin; it != end; ++it) {
      kept_children.emplace(current, it->second);
      frontier.push_back(it->second);
    }
  }
  root_ = std::move(new_root);
  blocks_ = std::move(kept);
  children_ = std::move(kept_children);
}

}  // namespace synod
