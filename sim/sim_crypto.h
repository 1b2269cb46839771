// The simulator's signature scheme: a keyed hash, about a hundred times
// cheaper than Ed25519, behind the same core SignatureScheme interface. A
// signature is a MAC under the signer's secret seed; verification recomputes
// it from the seed the scheme holds for that public key. Inside a simulation
// it is unforgeable in the way that matters: simulated processes, including
// the adversaries, only sign through this interface with keys they hold
// (compromised keys are handed to the adversary on purpose).
//
// Its digest (transaction hashes, block ids, payload hashes, state roots) is
// the same keyed hash under a public key, one 64-bit value spread over 32
// bytes: many times cheaper than SHA-256 in software, and collision-free in
// the way that matters, since no simulated process searches for collisions
// (a run hashes about a million values; two of them meet with a chance near
// 10^-8). None of it is cryptography and none of it leaves sim/;
// --real-crypto runs Ed25519 and SHA-256.
#pragma once

#include <string_view>

#include "core/crypto.h"
#include "core/digest_map.h"

namespace synod::sim {

class SimSignatureScheme final : public SignatureScheme {
 public:
  // A key for `label`, registered so that its signatures verify. Cheap: the
  // public key is a hash of the secret, not a curve point.
  KeyPair key(std::string_view label);

  Signature sign(const KeyPair& key, ByteView message) const override;
  bool verify(const PublicKey& key, ByteView message, const Signature& sig) const override;
  Digest digest() const override { return &sim_digest; }
  static Hash32 sim_digest(ByteView data);

 private:
  // Look-ups only, never iterated. Its keys are hashes of secrets this class
  // made, so no simulated adversary can choose them to collide.
  DigestMap<PublicKey, std::array<std::uint8_t, 32>> secrets_;
};

}  // namespace synod::sim
