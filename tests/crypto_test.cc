// Hashing and signatures (core/crypto.h): known vectors, sign/verify round
// trips through both Ed25519 implementations, the cross-check that each one
// accepts the other's signatures, and the refusals that keep forgeries out.
#include "core/crypto.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string_view>

#include "core/sign_bytes.h"

namespace synod {
namespace {

Bytes from_hex(std::string_view text) {
  Bytes out;
  auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    return static_cast<std::uint8_t>(c - 'a' + 10);
  };
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  }
  return out;
}

struct NamedScheme {
  std::string_view name;
  const SignatureScheme& scheme;
};

std::vector<NamedScheme> schemes() {
  return {{"libsodium", ed25519_scheme()}, {"openssl", ed25519_openssl_scheme()}};
}

// What a replica signs most: a vote's sign-bytes.
Bytes vote_message() {
  const ChainId chain = sha256(as_bytes("synod/crypto-test"));
  BlockId block;
  block.bytes = sha256(as_bytes("block")).bytes;
  const VoteSignBytes message = vote_sign_bytes(chain, block, Round(7), Height(6));
  return Bytes(message.begin(), message.end());
}

TEST(CryptoSha256, KnownVectors) {
  // FIPS 180-2, appendix B.1, and the empty string.
  EXPECT_EQ(hex(sha256(as_bytes("abc")).view()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256(as_bytes("")).view()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(CryptoKeys, FromLabelIsDeterministic) {
  const KeyPair a = KeyPair::from_label("validator-0");
  const KeyPair b = KeyPair::from_label("validator-0");
  EXPECT_EQ(a.public_key, b.public_key);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.seed, sha256(as_bytes("validator-0")).bytes);
  EXPECT_NE(KeyPair::from_label("validator-1").public_key, a.public_key);
  EXPECT_FALSE(a.public_key.is_zero());
}

// RFC 8032, section 7.1, test 1: the empty message.
TEST(CryptoEd25519, Rfc8032TestVector) {
  std::array<std::uint8_t, 32> seed{};
  const Bytes secret = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  std::copy(secret.begin(), secret.end(), seed.begin());
  const KeyPair key = KeyPair::from_seed(seed);
  EXPECT_EQ(hex(key.public_key.view()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string_view want =
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
  for (const NamedScheme& s : schemes()) {
    SCOPED_TRACE(s.name);
    const Signature sig = s.scheme.sign(key, {});
    EXPECT_EQ(hex(sig.view()), want);
    EXPECT_TRUE(s.scheme.verify(key.public_key, {}, sig));
  }
}

TEST(CryptoEd25519, SignVerifyRoundTrip) {
  const KeyPair key = KeyPair::from_label("signer");
  const Bytes message = vote_message();
  for (const NamedScheme& s : schemes()) {
    SCOPED_TRACE(s.name);
    const Signature sig = s.scheme.sign(key, message);
    EXPECT_FALSE(sig.is_zero());
    EXPECT_TRUE(s.scheme.verify(key.public_key, message, sig));
  }
}

// Ed25519 signatures are deterministic, so both libraries must produce the same
// bytes, and each must accept the other's: a node and a client built on
// different libraries agree on every signature.
TEST(CryptoEd25519, LibsodiumAndOpensslAgree) {
  const KeyPair key = KeyPair::from_label("signer");
  const Bytes message = vote_message();
  const Signature by_sodium = ed25519_scheme().sign(key, message);
  const Signature by_openssl = ed25519_openssl_scheme().sign(key, message);
  EXPECT_EQ(by_sodium, by_openssl);
  EXPECT_TRUE(ed25519_openssl_scheme().verify(key.public_key, message, by_sodium));
  EXPECT_TRUE(ed25519_scheme().verify(key.public_key, message, by_openssl));
}

TEST(CryptoEd25519, TamperedSignatureIsRejected) {
  const KeyPair key = KeyPair::from_label("signer");
  const Bytes message = vote_message();
  for (const NamedScheme& s : schemes()) {
    SCOPED_TRACE(s.name);
    const Signature sig = s.scheme.sign(key, message);
    for (std::size_t at : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
      Signature forged = sig;
      forged.bytes[at] ^= 0x01;
      EXPECT_FALSE(s.scheme.verify(key.public_key, message, forged)) << "byte " << at;
    }
    EXPECT_FALSE(s.scheme.verify(key.public_key, message, Signature{}));
  }
}

TEST(CryptoEd25519, TamperedMessageIsRejected) {
  const KeyPair key = KeyPair::from_label("signer");
  const Bytes message = vote_message();
  for (const NamedScheme& s : schemes()) {
    SCOPED_TRACE(s.name);
    const Signature sig = s.scheme.sign(key, message);
    Bytes changed = message;
    changed.back() ^= 0x80;
    EXPECT_FALSE(s.scheme.verify(key.public_key, changed, sig));
    Bytes longer = message;
    longer.push_back(0);
    EXPECT_FALSE(s.scheme.verify(key.public_key, longer, sig));
  }
}

TEST(CryptoEd25519, WrongKeyIsRejected) {
  const KeyPair signer = KeyPair::from_label("signer");
  const KeyPair other = KeyPair::from_label("someone else");
  const Bytes message = vote_message();
  for (const NamedScheme& s : schemes()) {
    SCOPED_TRACE(s.name);
    const Signature sig = s.scheme.sign(signer, message);
    EXPECT_FALSE(s.scheme.verify(other.public_key, message, sig));
    // The all-zero key (a small-order point) must not pass for the signer's.
    EXPECT_FALSE(s.scheme.verify(PublicKey{}, message, sig));
  }
}

// For any key and message: each scheme verifies its own signature and the
// other's, and the two signatures are identical.
RC_GTEST_PROP(CryptoEd25519, AnyKeyAnyMessageCrossVerifies, ()) {
  const auto seed = *rc::gen::arbitrary<std::array<std::uint8_t, 32>>();
  const auto message = *rc::gen::arbitrary<std::vector<std::uint8_t>>();
  const KeyPair key = KeyPair::from_seed(seed);
  const Signature a = ed25519_scheme().sign(key, message);
  const Signature b = ed25519_openssl_scheme().sign(key, message);
  RC_ASSERT(a == b);
  RC_ASSERT(ed25519_scheme().verify(key.public_key, message, b));
  RC_ASSERT(ed25519_openssl_scheme().verify(key.public_key, message, a));
}

}  // namespace
}  // namespace synod
