// Hashing and signatures. SHA-256 for ids and commitments; Ed25519 for every
// signed consensus message and transaction. Signing, verification and the
// digest behind transaction hashes, block ids, payload hashes and state roots go
// through SignatureScheme so that the simulator can run a cheaper suite with
// the same shape; the node always uses ed25519_scheme(), whose digest is
// SHA-256. Never touches files or clocks.
#pragma once

#include <array>

#include "core/types.h"

namespace synod {

Hash32 sha256(ByteView data);

// The function a chain's hashes are computed with (sha256 on every real chain).
using Digest = Hash32 (*)(ByteView data);

struct KeyPair {
  PublicKey public_key;
  std::array<std::uint8_t, 32> seed{};  // the secret: everything derives from it

  static KeyPair from_seed(const std::array<std::uint8_t, 32>& seed);
  // A deterministic key for tests, simulations and benchmarks: seed = SHA-256(label).
  static KeyPair from_label(std::string_view label);
};

class SignatureScheme {
 public:
  virtual ~SignatureScheme() = default;
  virtual Signature sign(const KeyPair& key, ByteView message) const = 0;
  virtual bool verify(const PublicKey& key, ByteView message, const Signature& sig) const = 0;
  // What transaction hashes, block ids, payload hashes, state roots and the
  // leader schedule use.
  virtual Digest digest() const { return &sha256; }
};

// Ed25519 through libsodium: about twice OpenSSL 3.0's verification rate here
// (bench/crypto_bench.cc measures both in one run).
const SignatureScheme& ed25519_scheme();
// Ed25519 through OpenSSL 3, kept for the benchmark and a cross-check test.
const SignatureScheme& ed25519_openssl_scheme();

}  // namespace synod
