#include "core/types.h"

#include <cstdio>
#include <cstdlib>
#include <array>
#include <ostream>

#include "core/assert.h"

namespace synod {

namespace detail {
void assert_fail(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "synod: assertion failed: %s at %s:%d\n", condition, file, line);
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

template <class Tag, class Rep>
std::ostream& operator<<(std::ostream& os, Quantity<Tag, Rep> q) {
  return os << Tag::prefix << q.value;
}
template std::ostream& operator<<(std::ostream&, Round);
template std::ostream& operator<<(std::ostream&, Height);
template std::ostream& operator<<(std::ostream&, NodeId);
template std::ostream& operator<<(std::ostream&, Weight);

std::ostream& operator<<(std::ostream& os, const Hash32& b) { return os << short_hex(b.view()); }
std::ostream& operator<<(std::ostream& os, const BlockId& b) { return os << short_hex(b.view()); }
std::ostream& operator<<(std::ostream& os, const TxHash& b) { return os << short_hex(b.view()); }
std::ostream& operator<<(std::ostream& os, const PublicKey& b) { return os << short_hex(b.view()); }
std::ostream& operator<<(std::ostream& os, const Signature& b) { return os << short_hex(b.view()); }

std::string hex(ByteView bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

std::string short_hex(ByteView bytes) { return hex(bytes.first(std::min<std::size_t>(4, bytes.size()))); }

namespace {
// Big-endian, appended in one insert: sign-bytes are built on every
// transaction's path, and insert (unlike resize) neither zero-fills first nor
// leaves the inlined fast path when capacity suffices.
template <typename T>
void put_be(Bytes& out, T v) {
  std::array<std::uint8_t, sizeof v> be;
  for (std::size_t i = sizeof v; i-- > 0; v >>= 8) be[i] = static_cast<std::uint8_t>(v);
  out.insert(out.end(), be.begin(), be.end());
}
}  // namespace

void put_u8(Bytes& out, std::uint8_t v) { out.push_back(v); }
void put_u32(Bytes& out, std::uint32_t v) { put_be(out, v); }
void put_u64(Bytes& out, std::uint64_t v) { put_be(out, v); }
void put_bytes(Bytes& out, ByteView v) { out.insert(out.end(), v.begin(), v.end()); }
void put_str(Bytes& out, std::string_view s) { put_bytes(out, as_bytes(s)); }
void put_var(Bytes& out, ByteView v) {
  SYNOD_ASSERT(v.size() <= UINT32_MAX);
  put_u32(out, static_cast<std::uint32_t>(v.size()));
  put_bytes(out, v);
}

}  // namespace synod
