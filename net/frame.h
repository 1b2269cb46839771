// The peer port's framing (docs/transport.md): a big-endian u32 length, a
// kind byte and a payload, and the fixed-layout Hello each side sends first.
// Pure byte handling: no sockets, no Asio, so tests and fuzzers can use it.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "core/types.h"

namespace synod::net {

// Raised on every change of the consensus messages or their rules: peers on
// another version refuse each other (the "flag day" rule).
inline constexpr std::uint32_t protocol_version = 1;

enum class FrameKind : std::uint8_t {
  Hello = 1,
  Refusal = 2,
  Message = 3,
  ClientRequest = 4,
  ClientResponse = 5,
  Goodbye = 6,
};
inline constexpr std::uint8_t frame_kind_last = 6;

inline constexpr std::size_t frame_header_bytes = 4;
inline constexpr std::size_t refusal_bytes_max = 256;
// Before the Hello is accepted only a Hello or a Refusal may come: a longer
// frame is refused before any buffer is allocated for it.
inline constexpr std::size_t handshake_frame_bytes_max = 1 + refusal_bytes_max;

// A whole frame: header, kind and payload.
Bytes make_frame(FrameKind kind, ByteView payload);

struct Hello {
  std::uint32_t version = protocol_version;
  ChainId chain;
  PublicKey key;
  bool operator==(const Hello&) const = default;
};
Bytes encode_hello(const Hello& hello);
// Refuses anything but the exact layout: "bad_hello".
std::expected<Hello, std::string> decode_hello(ByteView payload);

}  // namespace synod::net
