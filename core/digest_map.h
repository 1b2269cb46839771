// DigestMap: a hash map for keys whose bytes are already uniform (digests,
// and public keys a node or the simulator made). The key's first eight bytes
// pick its slot in a power-of-two array, with a mask: std::unordered_map
// divides by a prime bucket count instead, and a 64-bit divide stalls for
// dozens of cycles on every look-up. Open addressing with linear probing, at
// most half full, so a look-up touches one or two neighbouring slots and no
// node pointer; taking a key out shifts the rest of its run back (no tombstones).
//
// Not for bytes a client picks freely (a transfer's receiver key): those could
// be chosen to share one run. No iteration: order cannot leak into behaviour.
// TxIndex (core/ledger.h) is the compact kind for the committed index, which
// grows with the chain and never erases: 5-byte slots instead of whole entries.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "core/types.h"

namespace synod {

template <typename Key, typename Value>
class DigestMap {
 public:
  const Value* find(const Key& key) const {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = home(key);; i = next(i)) {
      const Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == key) return &s.value;
    }
  }
  Value* find(const Key& key) { return const_cast<Value*>(std::as_const(*this).find(key)); }
  bool contains(const Key& key) const { return find(key) != nullptr; }

  // Inserts `value` under `key` unless the key is there: the stored value, and
  // whether it was inserted.
  std::pair<Value*, bool> emplace(const Key& key, Value value) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    for (std::size_t i = home(key);; i = next(i)) {
      Slot& s = slots_[i];
      if (!s.used) {
        s = Slot{key, std::move(value), true};
        ++size_;
        return {&s.value, true};
      }
      if (s.key == key) return {&s.value, false};
    }
  }

  // Removes `key` and returns its value; empty, and nothing changes, if the
  // key is not there. One probe where find() then an erase would take two.
  std::optional<Value> take(const Key& key) {
    if (slots_.empty()) return std::nullopt;
    std::size_t hole = home(key);
    for (; slots_[hole].used; hole = next(hole)) {
      if (slots_[hole].key == key) break;
    }
    if (!slots_[hole].used) return std::nullopt;
    std::optional<Value> taken(std::move(slots_[hole].value));
    // Each later slot of the run moves into the hole unless its own home lies
    // between the hole and it (cyclically): it would then be found no more.
    for (std::size_t j = next(hole); slots_[j].used; j = next(j)) {
      const std::size_t mask = slots_.size() - 1;
      if (((j - home(slots_[j].key)) & mask) >= ((j - hole) & mask)) {
        slots_[hole] = std::move(slots_[j]);
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    return taken;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  static_assert(Key::size >= sizeof(std::uint64_t));
  struct Slot {
    Key key;
    Value value{};
    bool used = false;
  };

  std::size_t home(const Key& key) const {
    std::uint64_t prefix;
    std::memcpy(&prefix, key.bytes.data(), sizeof prefix);
    return static_cast<std::size_t>(prefix) & (slots_.size() - 1);
  }
  std::size_t next(std::size_t i) const { return (i + 1) & (slots_.size() - 1); }

  void grow() {
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(std::max<std::size_t>(16, 2 * slots_.size())));
    for (Slot& s : old) {
      if (!s.used) continue;
      std::size_t i = home(s.key);
      while (slots_[i].used) i = next(i);  // the keys are distinct
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;  // empty or a power of two long
  std::size_t size_ = 0;
};

}  // namespace synod
