// DigestMap (core/digest_map.h) against std::map: any sequence of emplace,
// take and find leaves the same contents. The keys share a handful of
// home slots, so runs are long, wrap around the table's end, and take must
// shift them back correctly.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <map>
#include <optional>

#include "core/digest_map.h"
#include "tests/test_util.h"

namespace synod {
namespace {

TEST(DigestMap, EraseKeepsTheRestOfARunThatWrapsAroundTheEnd) {
  DigestMap<TxHash, int> map;
  // 16 slots after the first growth; 15 and 0 are neighbours through the end.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(map.emplace(crowded_key<TxHash>(15, static_cast<std::uint8_t>(i)), i).second);
  ASSERT_TRUE(map.emplace(crowded_key<TxHash>(0, 9), 9).second);  // home 0, pushed further by the wrapped run
  ASSERT_EQ(map.take(crowded_key<TxHash>(15, 0)), 0);
  for (int i = 1; i < 4; ++i) {
    const int* v = map.find(crowded_key<TxHash>(15, static_cast<std::uint8_t>(i)));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, i);
  }
  ASSERT_NE(map.find(crowded_key<TxHash>(0, 9)), nullptr);
  EXPECT_EQ(map.find(crowded_key<TxHash>(15, 0)), nullptr);
  EXPECT_FALSE(map.take(crowded_key<TxHash>(15, 0)).has_value());
  EXPECT_EQ(map.size(), 4u);
}

TEST(DigestMap, EmplaceKeepsTheFirstValue) {
  DigestMap<TxHash, int> map;
  EXPECT_TRUE(map.emplace(crowded_key<TxHash>(1, 1), 1).second);
  const auto [value, inserted] = map.emplace(crowded_key<TxHash>(1, 1), 2);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(*value, 1);
}

RC_GTEST_PROP(DigestMapProperty, MatchesAnOrderedMap, ()) {
  DigestMap<TxHash, int> map;
  std::map<TxHash, int> model;
  const auto ops = *rc::gen::container<std::vector<std::tuple<int, std::uint8_t, std::uint8_t>>>(
      rc::gen::tuple(rc::gen::inRange(0, 9), rc::gen::inRange<std::uint8_t>(0, 6),
                     rc::gen::inRange<std::uint8_t>(0, 8)));  // 48 keys: each comes back often
  int next_value = 0;
  for (const auto& [op, home, tag] : ops) {
    // Homes 0..2 and 253..255: near both ends of any table size.
    const TxHash key = crowded_key<TxHash>(home < 3 ? home : static_cast<std::uint8_t>(250 + home), tag);
    if (op < 5) {
      const int value = next_value++;
      const bool inserted = map.emplace(key, value).second;
      RC_ASSERT(inserted == model.emplace(key, value).second);
    } else {
      const auto it = model.find(key);
      const std::optional<int> taken = map.take(key);
      RC_ASSERT(taken.has_value() == (it != model.end()));
      if (it != model.end()) {
        RC_ASSERT(*taken == it->second);
        model.erase(it);
      }
    }
    RC_ASSERT(map.size() == model.size());
    for (const auto& [k, v] : model) {
      const int* found = map.find(k);
      RC_ASSERT(map.contains(k));  // not the pointer: RapidCheck would print what it points at
      RC_ASSERT(*found == v);
    }
    RC_ASSERT(map.contains(key) == model.contains(key));
  }
}

}  // namespace
}  // namespace synod
