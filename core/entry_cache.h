// EntryCache: a direct-mapped cache of a std::map's entries, in front of the
// map, for keys that repeat (the few senders of a block, a busy account). The
// key's first byte picks one of 256 slots; a hit costs one whole-key
// comparison where the map walks down a tree comparing 32-byte keys. Keys
// that share a slot, which a client can choose, only miss: no look-up is ever
// slower than the map's by more than that comparison.
//
// A map's entries never move while they stay in it, and go with it when it
// moves: the cache moves with its map (the source left empty) and is never
// copied, and its owner calls clear() whenever an entry leaves the map. A
// look-up through a const owner still fills the cache, so two threads may not
// read through one owner at once (core is single-threaded).
#pragma once

#include <array>
#include <map>

namespace synod {

template <typename Map>
class EntryCache {
 public:
  using Entry = typename Map::value_type;
  using Key = typename Map::key_type;

  EntryCache() = default;
  EntryCache(const EntryCache&) = delete;
  EntryCache& operator=(const EntryCache&) = delete;
  EntryCache(EntryCache&& other) noexcept : slots_(other.slots_) { other.clear(); }
  EntryCache& operator=(EntryCache&& other) noexcept {
    slots_ = other.slots_;
    other.clear();
    return *this;
  }

  // The entry for `key`, nullptr when `map` (always the same one) has none.
  Entry* find(Map& map, const Key& key) { return lookup(map, key); }
  const Entry* find(const Map& map, const Key& key) const { return lookup(map, key); }
  // Records an entry just added to the map.
  Entry& remember(Entry& entry) {
    slots_[entry.first.bytes[0]] = &entry;
    return entry;
  }
  void clear() { slots_ = {}; }

 private:
  // An entry of a std::map is never a const object: the pointer kept for a
  // const look-up may serve a mutable one later.
  Entry* lookup(const Map& map, const Key& key) const {
    Entry*& slot = slots_[key.bytes[0]];
    if (slot != nullptr && slot->first == key) return slot;
    const auto it = map.find(key);
    if (it == map.end()) return nullptr;
    slot = const_cast<Entry*>(&*it);
    return slot;
  }

  mutable std::array<Entry*, 256> slots_{};
};

}  // namespace synod
