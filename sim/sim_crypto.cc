#include "sim/sim_crypto.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace synod::sim {

namespace {

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  const u128 r = static_cast<u128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

std::uint64_t word(const std::uint8_t* p, std::size_t n) {
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

// A keyed 64-bit hash of one message in the style of wyhash: every 16
// message bytes go through one 128-bit multiply, the two words each xored
// with a key-dependent constant, the first also with the state so far.
std::uint64_t keyed_hash(const std::array<std::uint8_t, 32>& secret, ByteView message) {
  const std::uint64_t k1 = word(secret.data() + 8, 8) ^ 0xa0761d6478bd642fULL;
  const std::uint64_t k2 = word(secret.data() + 16, 8) ^ 0xe7037ed1a0b428dbULL;
  const std::uint8_t* p = message.data();
  const std::size_t n = message.size();
  std::uint64_t h = mix(word(secret.data(), 8) ^ n, k1);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) h = mix(word(p + i, 8) ^ k1 ^ h, word(p + i + 8, 8) ^ k2);
  if (i < n) {
    const std::size_t rest = n - i;  // 1..15 bytes
    const std::uint64_t a = word(p + i, std::min<std::size_t>(rest, 8));
    const std::uint64_t b = rest > 8 ? word(p + i + 8, rest - 8) : 0;
    h = mix(a ^ k2 ^ h, b ^ k1 ^ rest);
  }
  return mix(h ^ word(secret.data() + 24, 8), k1 ^ 0x8ebc6af09c88c6e3ULL);
}

Signature mac(const std::array<std::uint8_t, 32>& secret, ByteView message) {
  Signature sig;
  const std::uint64_t h = keyed_hash(secret, message);
  std::memcpy(sig.bytes.data(), &h, sizeof h);
  return sig;
}

// The digest's key: public, fixed, arbitrary.
constexpr std::array<std::uint8_t, 32> digest_key = {
    0x73, 0x79, 0x6e, 0x6f, 0x64, 0x2f, 0x73, 0x69, 0x6d, 0x2d, 0x64, 0x69, 0x67, 0x65, 0x73, 0x74,
    0x2f, 0x76, 0x31, 0x9b, 0x05, 0x68, 0x8c, 0x2b, 0x3e, 0x6c, 0x1f, 0x1f, 0x83, 0xd9, 0xab, 0xfb};

}  // namespace

Hash32 SimSignatureScheme::sim_digest(ByteView data) {
  const std::uint64_t k = keyed_hash(digest_key, data);
  const std::uint64_t words[4] = {k, mix(k ^ 0x2d358dccaa6c78a5ULL, 0x8bb84b93962eacc9ULL),
                                  mix(k ^ 0x4b33a62ed433d4a3ULL, 0x4d5a2da51de1aa47ULL),
                                  mix(k ^ 0x9e3779b97f4a7c15ULL, 0xd6e8feb86659fd93ULL)};
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
  const auto* secret = secrets_.find(key);
  return secret != nullptr && mac(*secret, message) == sig;
}

}  // namespace synod::sim
