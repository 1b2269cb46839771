// EntryCache in front of a std::map: hits, keys that share a slot, entries
// remembered on insertion, and a cache emptied by clear() or by a move.
#include <gtest/gtest.h>

#include <map>

#include "core/entry_cache.h"
#include "core/types.h"
#include "tests/test_util.h"

namespace synod {
namespace {

PublicKey key(std::uint8_t home, std::uint8_t tag) { return crowded_key<PublicKey>(home, tag); }

TEST(EntryCache, KeysThatShareASlotEachFindTheirOwnEntry) {
  std::map<PublicKey, int> map{{key(7, 1), 10}, {key(7, 2), 20}, {key(8, 1), 30}};
  EntryCache<std::map<PublicKey, int>> cache;
  for (int round = 0; round < 3; ++round) {  // alternate, so each look-up evicts the other
    ASSERT_NE(cache.find(map, key(7, 1)), nullptr);
    EXPECT_EQ(cache.find(map, key(7, 1))->second, 10);
    EXPECT_EQ(cache.find(map, key(7, 2))->second, 20);
    EXPECT_EQ(cache.find(map, key(8, 1))->second, 30);
    EXPECT_EQ(cache.find(map, key(7, 3)), nullptr);
  }
  // An entry handed out is the map's own: writes through it land in the map.
  cache.find(map, key(7, 2))->second = 21;
  EXPECT_EQ(map.at(key(7, 2)), 21);
}

// A cache that kept an entry after clear() or a move would hand it out for a
// look-up in another map with an equal key: both maps stay alive here, so the
// wrong answer is a pointer into the first one, not freed memory.
TEST(EntryCache, ARememberedEntryIsFoundAndClearForgetsEverything) {
  std::map<PublicKey, int> first;
  std::map<PublicKey, int> second{{key(3, 3), 6}};
  EntryCache<std::map<PublicKey, int>> cache;
  auto& added = cache.remember(*first.emplace(key(3, 3), 5).first);
  EXPECT_EQ(cache.find(first, key(3, 3)), &added);
  cache.clear();
  EXPECT_EQ(cache.find(second, key(3, 3)), &*second.find(key(3, 3)));
}

TEST(EntryCache, AMovedCacheKeepsItsEntriesAndLeavesItsSourceEmpty) {
  std::map<PublicKey, int> first{{key(3, 3), 5}};
  std::map<PublicKey, int> second{{key(3, 3), 6}};
  EntryCache<std::map<PublicKey, int>> source;
  const auto* entry = source.find(first, key(3, 3));
  EntryCache<std::map<PublicKey, int>> moved = std::move(source);
  EXPECT_EQ(moved.find(first, key(3, 3)), entry);
  EXPECT_EQ(source.find(second, key(3, 3))->second, 6);  // the move emptied it
  EntryCache<std::map<PublicKey, int>> assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.find(first, key(3, 3)), entry);
  EXPECT_EQ(moved.find(second, key(3, 3))->second, 6);
}

}  // namespace
}  // namespace synod
