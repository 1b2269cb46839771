// BlockTree::prune_to: along a chain (its fast path), past a fork, and to
// the root itself.
#include <gtest/gtest.h>

#include "core/block_tree.h"
#include "core/certs.h"
#include "core/crypto.h"
#include "core/sign_bytes.h"

namespace synod {
namespace {

const ChainId chain = sha256(as_bytes(std::string_view("block-tree-test")));

// A child of `parent` at `round`; `proposer` only tells siblings apart.
BlockPtr child(const BlockPtr& parent, std::uint64_t round, std::uint32_t proposer = 0) {
  return seal(sha256, chain, Block{Round(round), NodeId(proposer), QuorumCert{parent->id, parent->round, parent->height(), {}}, {}, {}});
}

TEST(BlockTree, PruningAChainDropsOnlyTheBlocksBeforeTheNewRoot) {
  const BlockPtr g = genesis_block(chain);
  BlockTree tree(g);
  const BlockPtr a = child(g, 1), b = child(a, 2), c = child(b, 3), d = child(c, 4);
  for (const BlockPtr& x : {a, b, c, d}) tree.insert(x);

  tree.prune_to(c->id);
  EXPECT_EQ(tree.root(), c);
  EXPECT_EQ(tree.size(), 2u);
  EXPECT_FALSE(tree.contains(g->id));
  EXPECT_FALSE(tree.contains(a->id));
  EXPECT_FALSE(tree.contains(b->id));
  EXPECT_EQ(tree.path_from_root(d->id), std::vector<BlockPtr>{d});

  // The parent links of the blocks that left are gone too: a new child of d
  // and a second prune still work.
  const BlockPtr e = child(d, 5);
  tree.insert(e);
  tree.prune_to(e->id);
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree.root(), e);
}

TEST(BlockTree, PruningPastAForkDropsTheOtherBranchWithItsDescendants) {
  const BlockPtr g = genesis_block(chain);
  BlockTree tree(g);
  const BlockPtr a = child(g, 1), b = child(a, 2), b2 = child(a, 3, 1), b3 = child(b2, 4), c = child(b, 5);
  for (const BlockPtr& x : {a, b, b2, b3, c}) tree.insert(x);

  tree.prune_to(a->id);  // no fork on the way: a keeps both branches
  EXPECT_EQ(tree.size(), 5u);

  tree.prune_to(b->id);  // a has two children: b2 and b3 leave with a
  EXPECT_EQ(tree.root(), b);
  EXPECT_EQ(tree.size(), 2u);
  EXPECT_FALSE(tree.contains(b2->id));
  EXPECT_FALSE(tree.contains(b3->id));
  EXPECT_TRUE(tree.contains(c->id));
}

TEST(BlockTree, PruningToTheRootKeepsEverything) {
  const BlockPtr g = genesis_block(chain);
  BlockTree tree(g);
  const BlockPtr a = child(g, 1), a2 = child(g, 2, 1);
  tree.insert(a);
  tree.insert(a2);
  tree.prune_to(g->id);
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_EQ(tree.root(), g);
}

}  // namespace
}  // namespace synod
