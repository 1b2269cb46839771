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

namespace synod {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

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
  bool operator==(const FixedBytes&) const = default;
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

// For unordered containers keyed by hashes and keys: their first eight bytes
// are already uniform. Never iterate such a container where order could leak
// into behaviour (determinism); look-ups only.
struct FixedBytesHash {
  template <typename Tag, std::size_t N>
  std::size_t operator()(const FixedBytes<Tag, N>& b) const {
    static_assert(N >= sizeof(std::size_t));
    std::size_t v;
    std::memcpy(&v, b.bytes.data(), sizeof v);
    return v;
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

// Fixed-layout, big-endian appends used by sign-bytes and hashing.
void put_u8(Bytes& out, std::uint8_t v);
void put_u32(Bytes& out, std::uint32_t v);
void put_u64(Bytes& out, std::uint64_t v);
void put_bytes(Bytes& out, ByteView v);
void put_str(Bytes& out, std::string_view s);
// A length-prefixed (u32) variable field, so that concatenations stay unambiguous.
void put_var(Bytes& out, ByteView v);

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace synod
