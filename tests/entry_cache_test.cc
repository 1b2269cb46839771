// EntryCache in front of a std::map: hits, keys that share a slot, entries
// remembered on insertion, and clear().
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

TEST(EntryCache, ARememberedEntryIsFoundAndClearForgetsEverything) {
  std::map<PublicKey, int> map;
  EntryCache<std::map<PublicKey, int>> cache;
  auto& added = cache.remember(*map.emplace(key(3, 3), 5).first);
  EXPECT_EQ(cache.find(map, key(3, 3)), &added);
  cache.clear();
  map.clear();  // the entry leaves: a cache that kept it would hand out freed memory
  map.emplace(key(3, 4), 6);
  EXPECT_EQ(cache.find(map, key(3, 3)), nullptr);
  EXPECT_EQ(cache.find(map, key(3, 4))->second, 6);
}

}  // namespace
}  // namespace synod
