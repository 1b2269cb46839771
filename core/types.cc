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

}  // namespace synod
