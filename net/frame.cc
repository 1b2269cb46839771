#include "net/frame.h"

#include <algorithm>

#include "core/assert.h"

namespace synod::net {

namespace {
constexpr std::string_view hello_domain = "synod/hello/v1";
constexpr std::size_t hello_bytes = 4 + hello_domain.size() + 4 + ChainId::size + PublicKey::size;
}  // namespace

Bytes make_frame(FrameKind kind, ByteView payload) {
  SYNOD_ASSERT(payload.size() + 1 <= UINT32_MAX);
  Bytes out;
  out.reserve(frame_header_bytes + 1 + payload.size());
  put_u32(out, static_cast<std::uint32_t>(payload.size() + 1));
  put_u8(out, static_cast<std::uint8_t>(kind));
  put_bytes(out, payload);
  SYNOD_ASSERT(out.size() == frame_header_bytes + 1 + payload.size());
  return out;
}

Bytes encode_hello(const Hello& hello) {
  Bytes out;
  put_var(out, as_bytes(hello_domain));
  put_u32(out, hello.version);
  put_bytes(out, hello.chain.view());
  put_bytes(out, hello.key.view());
  SYNOD_ASSERT(out.size() == hello_bytes);
  return out;
}

std::expected<Hello, std::string> decode_hello(ByteView payload) {
  if (payload.size() != hello_bytes) return std::unexpected("bad_hello");
  Bytes domain;
  put_var(domain, as_bytes(hello_domain));
  if (!std::equal(domain.begin(), domain.end(), payload.begin())) return std::unexpected("bad_hello");
  std::size_t at = domain.size();
  Hello hello;
  hello.version = static_cast<std::uint32_t>(get_be(payload, at, 4));
  at += 4;
  std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(at), ChainId::size, hello.chain.bytes.begin());
  at += ChainId::size;
  std::copy_n(payload.begin() + static_cast<std::ptrdiff_t>(at), PublicKey::size, hello.key.bytes.begin());
  at += PublicKey::size;
  SYNOD_ASSERT(at == hello_bytes);
  return hello;
}

}  // namespace synod::net
