// Strong types for the protocol's quantities (Round, Height, NodeId, Weight,
// BlockId, TxHash, keys, signatures) and the byte helpers they are built from.
// Every type here is printable and totally ordered; none of them owns I/O.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"

namespace synod {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// For 64x64->128-bit products; `__extension__` keeps -Wpedantic quiet.
__extension__ typedef unsigned __int128 u128;

// splitmix64: advances `state` and returns the next value of a generator that
// is identical on every platform (the leader schedule's shuffle, the
// simulator's seeding).
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// An integer quantity that cannot be mixed up with another one by accident.
template <class Tag, class Rep = std::uint64_t>
struct Quantity {
  Rep value = 0;
  constexpr Quantity() = default;
  constexpr explicit Quantity(Rep v) : value(v) {}
  constexpr auto operator<=>(const Quantity&) const = default;
  constexpr Quantity next() const { return Quantity(value + 1); }
};

struct RoundTag { static constexpr std::string_view prefix = "r"; };
struct HeightTag { static constexpr std::string_view prefix = "h"; };
struct NodeIdTag { static constexpr std::string_view prefix = "n"; };
struct WeightTag { static constexpr std::string_view prefix = "w"; };

using Round = Quantity<RoundTag>;    // a consensus round; 0 is genesis
using Height = Quantity<HeightTag>;  // a block's distance from genesis
using NodeId = Quantity<NodeIdTag, std::uint32_t>;  // index into the roster
using Weight = Quantity<WeightTag>;  // stake
using TimeMs = std::uint64_t;        // milliseconds on the driver's clock

template <class Tag, class Rep>
std::ostream& operator<<(std::ostream& os, Quantity<Tag, Rep> q);

// A fixed-size byte string (hash, key, signature) with a distinct type per use.
template <class Tag, std::size_t N>
struct FixedBytes {
  static constexpr std::size_t size = N;
  std::array<std::uint8_t, N> bytes{};
  // Eight bytes at a time, inline: the default (memcmp) is a library call,
  // and hash tables compare keys on every look-up.
  bool operator==(const FixedBytes& other) const {
    std::uint64_t diff = 0;
    std::size_t i = 0;
    for (; i + 8 <= N; i += 8) {
      std::uint64_t a, b;
      std::memcpy(&a, bytes.data() + i, 8);
      std::memcpy(&b, other.bytes.data() + i, 8);
      diff |= a ^ b;
    }
    for (; i < N; ++i) diff |= bytes[i] ^ other.bytes[i];
    return diff == 0;
  }
  // Byte order (as memcmp), eight bytes at a time: hashes and keys are the
  // keys of the ledger's and mempool's maps, and random ones differ early.
  std::strong_ordering operator<=>(const FixedBytes& other) const {
    std::size_t i = 0;
    for (; i + 8 <= N; i += 8) {
      std::uint64_t a, b;
      std::memcpy(&a, bytes.data() + i, 8);
      std::memcpy(&b, other.bytes.data() + i, 8);
      if (a != b) {
        if constexpr (std::endian::native == std::endian::little) return std::byteswap(a) <=> std::byteswap(b);
        return a <=> b;
      }
    }
    for (; i < N; ++i) {
      if (bytes[i] != other.bytes[i]) return bytes[i] <=> other.bytes[i];
    }
    return std::strong_ordering::equal;
  }
  ByteView view() const { return bytes; }
  bool is_zero() const { return *this == FixedBytes{}; }
  // Parses exactly N bytes; false if the length differs.
  static bool from(ByteView in, FixedBytes& out) {
    if (in.size() != N) return false;
    std::copy(in.begin(), in.end(), out.bytes.begin());
    return true;
  }
};

struct HashTag {};
struct BlockIdTag {};
struct TxHashTag {};
struct PublicKeyTag {};
struct SignatureTag {};

using Hash32 = FixedBytes<HashTag, 32>;
using BlockId = FixedBytes<BlockIdTag, 32>;
using TxHash = FixedBytes<TxHashTag, 32>;
using ChainId = Hash32;
using StateRoot = Hash32;
using PublicKey = FixedBytes<PublicKeyTag, 32>;
using Signature = FixedBytes<SignatureTag, 64>;

std::string hex(ByteView bytes);
// The first four bytes in hex: enough to tell blocks apart in logs and goldens.
std::string short_hex(ByteView bytes);

// Prints the short form; hex() gives all bytes.
std::ostream& operator<<(std::ostream& os, const Hash32& b);
std::ostream& operator<<(std::ostream& os, const BlockId& b);
std::ostream& operator<<(std::ostream& os, const TxHash& b);
std::ostream& operator<<(std::ostream& os, const PublicKey& b);
std::ostream& operator<<(std::ostream& os, const Signature& b);

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Appends to a Bytes that it sizes ahead and trims once, when it goes out of
// scope: a field is then a bounds check and a memcpy, where appending to the
// Bytes itself is a vector insert per field. For the encodings built on every
// transaction's path (sign-bytes, the state root); `out` must not be read,
// nor appended from, while the Writer lives.
class Writer {
 public:
  // `expected`: about how many bytes will be appended; more is allowed.
  Writer(Bytes& out, std::size_t expected) : out_(out), size_(out.size()) { out_.resize(size_ + expected); }
  ~Writer() { out_.resize(size_); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void append(const std::uint8_t* data, std::size_t n) {
    if (n == 0) return;  // an empty field's data may be null, which memcpy must not get
    if (out_.size() - size_ < n) out_.resize(2 * (size_ + n));
    std::memcpy(out_.data() + size_, data, n);
    size_ += n;
  }

 private:
  Bytes& out_;
  std::size_t size_;  // what was appended; out_ is larger until the end
};

inline void append(Bytes& out, const std::uint8_t* data, std::size_t n) { out.insert(out.end(), data, data + n); }
inline void append(Writer& out, const std::uint8_t* data, std::size_t n) { out.append(data, n); }

// The inverse of put_u8/u32/u64: `bytes` (at most 8) big-endian bytes at `at`.
inline std::uint64_t get_be(ByteView in, std::size_t at, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | in[at + i];
  return v;
}

// Fixed-layout, big-endian appends used by sign-bytes and hashing, to a Bytes
// or through a Writer.
template <class Out>
void put_u8(Out& out, std::uint8_t v) {
  append(out, &v, 1);
}
template <class Out>
void put_u32(Out& out, std::uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = std::byteswap(v);
  append(out, reinterpret_cast<const std::uint8_t*>(&v), sizeof v);
}
template <class Out>
void put_u64(Out& out, std::uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = std::byteswap(v);
  append(out, reinterpret_cast<const std::uint8_t*>(&v), sizeof v);
}
template <class Out>
void put_bytes(Out& out, ByteView v) {
  append(out, v.data(), v.size());
}
template <class Out>
void put_str(Out& out, std::string_view s) {
  put_bytes(out, as_bytes(s));
}
// A length-prefixed (u32) variable field, so that concatenations stay unambiguous.
template <class Out>
void put_var(Out& out, ByteView v) {
  SYNOD_ASSERT(v.size() <= UINT32_MAX);
  put_u32(out, static_cast<std::uint32_t>(v.size()));
  put_bytes(out, v);
}

}  // namespace synod
