// EntryCache: a direct-mapped cache of a std::map's entries, in front of the
// map, for keys that repeat (the few senders of a block, a busy account). The
// key's first byte picks one of 256 slots; a hit costs one whole-key
// comparison where the map walks down a tree comparing 32-byte keys. Keys
// that share a slot, which a client can choose, only miss: no look-up is ever
// slower than the map's by more than that comparison. A map's entries never
// move while they stay in it, and go with it when it moves; the owner forgets
// the cache (clear) whenever an entry leaves.
#pragma once

#include <array>
#include <map>

namespace synod {

template <typename Map>
class EntryCache {
 public:
  using Entry = typename Map::value_type;

  // The entry for `key`, nullptr when `map` has none. `map` is the one this
  // cache always serves; an entry of a std::map is never a const object, so a
  // caller holding the map const may still be handed a mutable entry.
  Entry* find(const Map& map, const typename Map::key_type& key) const {
    Entry*& slot = slots_[key.bytes[0]];
    if (slot != nullptr && slot->first == key) return slot;
    const auto it = map.find(key);
    if (it == map.end()) return nullptr;
    slot = const_cast<Entry*>(&*it);
    return slot;
  }
  // Records an entry just added to the map.
  Entry& remember(Entry& entry) const {
    slots_[entry.first.bytes[0]] = &entry;
    return entry;
  }
  void clear() { slots_ = {}; }

 private:
  mutable std::array<Entry*, 256> slots_{};
};

}  // namespace synod
