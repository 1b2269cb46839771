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
  if (prune_chain_to(*new_root)) {
    root_ = std::move(new_root);
    return;
  }
  // The new root and its descendants stay, in place; every other block leaves.
  std::vector<BlockId> kept{id};
  for (std::size_t i = 0; i < kept.size(); ++i) {
    auto [begin, end] = children_.equal_range(kept[i]);
    for (auto it = begin; it != end; ++it) kept.push_back(it->second);
  }
  std::ranges::sort(kept);
  const auto is_kept = [&](const BlockId& b) { return std::ranges::binary_search(kept, b); };
  std::erase_if(blocks_, [&](const auto& entry) { return !is_kept(entry.first); });
  std::erase_if(children_, [&](const auto& entry) { return !is_kept(entry.first); });  // keyed by parent
  root_ = std::move(new_root);
}

// The usual commit: no fork between the root and the new root, so every block
// but the ones on that path descends from the new root, and only they leave.
// One look-up per block on the path instead of a pass over the whole tree.
bool BlockTree::prune_chain_to(const Block& new_root) {
  std::vector<BlockId> leaving;
  for (const Block* b = &new_root; b->id != root_->id;) {
    const BlockId& parent = b->parent();
    if (children_.count(parent) != 1) return false;
    leaving.push_back(parent);
    const auto it = blocks_.find(parent);
    SYNOD_ASSERT(it != blocks_.end());
    b = it->second.get();
  }
  for (const BlockId& b : leaving) {
    blocks_.erase(b);
    children_.erase(b);  // keyed by parent
  }
  return true;
}

}  // namespace synod
