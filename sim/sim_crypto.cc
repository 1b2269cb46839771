#include "sim/sim_crypto.h"

#include <cstring>
#include <string>

namespace synod::sim {

namespace {

__extension__ typedef unsigned __int128 u128;

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

std::uint64_t word(const std::uint8_t* p, std::size_t n) {
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

// Two keyed 64-bit hashes ("lanes") of one message, in the style of wyhash:
// every 8 message bytes go through one 128-bit multiply per lane with a
// key-dependent constant. The lanes differ only in their starting state and
// are computed in one pass, so their multiplies overlap in the CPU.
std::array<std::uint64_t, 2> keyed_hash(const std::array<std::uint8_t, 32>& secret, ByteView message) {
  const std::uint64_t k1 = word(secret.data() + 8, 8) | 1;
  const std::uint64_t k2 = word(secret.data() + 16, 8) ^ 0xa0761d6478bd642fULL;
  std::array<std::uint64_t, 2> h;
  for (std::uint64_t lane = 0; lane < 2; ++lane) {
    const std::uint64_t k0 = word(secret.data(), 8) ^ (lane * 0x9e3779b97f4a7c15ULL);
    h[lane] = mix(k0 ^ message.size(), k2);
  }
  std::size_t i = 0;
  for (; i + 8 <= message.size(); i += 8) {
    const std::uint64_t w = word(message.data() + i, 8);
    h[0] = mix(h[0] ^ w, k1);
    h[1] = mix(h[1] ^ w, k1);
  }
  if (i < message.size()) {
    const std::uint64_t w = word(message.data() + i, message.size() - i);
    h[0] = mix(h[0] ^ w, k1 ^ 0xe7037ed1a0b428dbULL);
    h[1] = mix(h[1] ^ w, k1 ^ 0xe7037ed1a0b428dbULL);
  }
  for (std::uint64_t& lane : h) lane = mix(lane ^ word(secret.data() + 24, 8), k2 ^ 0x8ebc6af09c88c6e3ULL);
  return h;
}

Signature mac(const std::array<std::uint8_t, 32>& secret, ByteView message) {
  Signature sig;
  const std::array<std::uint64_t, 2> h = keyed_hash(secret, message);
  std::memcpy(sig.bytes.data(), h.data(), sizeof h);
  return sig;
}

// The digest's key: public, fixed, arbitrary.
constexpr std::array<std::uint8_t, 32> digest_key = {
    0x73, 0x79, 0x6e, 0x6f, 0x64, 0x2f, 0x73, 0x69, 0x6d, 0x2d, 0x64, 0x69, 0x67, 0x65, 0x73, 0x74,
    0x2f, 0x76, 0x31, 0x9b, 0x05, 0x68, 0x8c, 0x2b, 0x3e, 0x6c, 0x1f, 0x1f, 0x83, 0xd9, 0xab, 0xfb};

}  // namespace

Hash32 SimSignatureScheme::sim_digest(ByteView data) {
  const auto [a, b] = keyed_hash(digest_key, data);
  const std::uint64_t words[4] = {a, b, mix(a ^ 0x2d358dccaa6c78a5ULL, b ^ 0x8bb84b93962eacc9ULL),
                                  mix(a ^ 0x4b33a62ed433d4a3ULL, b ^ 0x4d5a2da51de1aa47ULL)};
  Hash32 h;
  std::memcpy(h.bytes.data(), words, sizeof words);
  return h;
}

KeyPair SimSignatureScheme::key(std::string_view label) {
  KeyPair key;
  const Hash32 seed = sha256(as_bytes(std::string("synod/sim-key/v1/") + std::string(label)));
  std::copy(seed.bytes.begin(), seed.bytes.end(), key.seed.begin());
  const Hash32 pub = sha256(seed.bytes);
  std::copy(pub.bytes.begin(), pub.bytes.end(), key.public_key.bytes.begin());
  secrets_.emplace(key.public_key, key.seed);
  return key;
}

Signature SimSignatureScheme::sign(const KeyPair& key, ByteView message) const {
  return mac(key.seed, message);
}

bool SimSignatureScheme::verify(const PublicKey& key, ByteView message, const Signature& sig) const {
  const auto it = secrets_.find(key);
  return it != secrets_.end() && mac(it->second, message) == sig;
}

}  // namespace synod::sim
