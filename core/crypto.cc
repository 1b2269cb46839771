#include "core/crypto.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <memory>

#include "core/assert.h"

namespace synod {

// OpenSSL 3's one-shot SHA256() looks the algorithm up on every call, which
// cost more than the hashing itself for our short inputs (the simulator's
// profile showed it). The algorithm is fetched once and a context reused.
Hash32 sha256(ByteView data) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  SYNOD_ASSERT(md && ctx);
  Hash32 h;
  unsigned int size = 0;
  const bool ok = EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
                  EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx.get(), h.bytes.data(), &size) == 1;
  SYNOD_ASSERT(ok && size == h.bytes.size());
  return h;
}

namespace {

void ensure_sodium() {
  static const int ready = sodium_init();
  SYNOD_ASSERT(ready >= 0);
}

class SodiumEd25519 final : public SignatureScheme {
 public:
  SodiumEd25519() { ensure_sodium(); }
  Signature sign(const KeyPair& key, ByteView message) const override {
    std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
    std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> pub{};
    crypto_sign_seed_keypair(pub.data(), secret.data(), key.seed.data());
    Signature sig;
    crypto_sign_detached(sig.bytes.data(), nullptr, message.data(), message.size(), secret.data());
    sodium_memzero(secret.data(), secret.size());
    return sig;
  }
  bool verify(const PublicKey& key, ByteView message, const Signature& sig) const override {
    return crypto_sign_verify_detached(sig.bytes.data(), message.data(), message.size(),
                                       key.bytes.data()) == 0;
  }
};

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

class OpensslEd25519 final : public SignatureScheme {
 public:
  Signature sign(const KeyPair& key, ByteView message) const override {
    std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.seed.data(), key.seed.size()));
    SYNOD_ASSERT(pkey != nullptr);
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    SYNOD_ASSERT(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1);
    Signature sig;
    std::size_t len = sig.bytes.size();
    SYNOD_ASSERT(EVP_DigestSign(ctx.get(), sig.bytes.data(), &len, message.data(), message.size()) == 1);
    SYNOD_ASSERT(len == sig.bytes.size());
    return sig;
  }
  bool verify(const PublicKey& key, ByteView message, const Signature& sig) const override {
    std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.bytes.data(), key.bytes.size()));
    if (!pkey) return false;
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) return false;
    return EVP_DigestVerify(ctx.get(), sig.bytes.data(), sig.bytes.size(), message.data(),
                            message.size()) == 1;
  }
};

}  // namespace

KeyPair KeyPair::from_seed(const std::array<std::uint8_t, 32>& seed) {
  ensure_sodium();
  KeyPair k;
  k.seed = seed;
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
  crypto_sign_seed_keypair(k.public_key.bytes.data(), secret.data(), seed.data());
  sodium_memzero(secret.data(), secret.size());
  return k;
}

KeyPair KeyPair::from_label(std::string_view label) {
  return from_seed(sha256(as_bytes(label)).bytes);
}

const SignatureScheme& ed25519_scheme() {
  static const SodiumEd25519 scheme;
  return scheme;
}

const SignatureScheme& ed25519_openssl_scheme() {
  static const OpensslEd25519 scheme;
  return scheme;
}

}  // namespace synod
