// Shared helpers for the test binary: deterministic keys, a small genesis,
// signed transactions, and keys that crowd one slot of a table. Header-only (inline functions). Owns nothing and must
// never be included outside tests/: its keys come from public labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/assert.h"
#include "core/crypto.h"
#include "core/ledger.h"
#include "core/messages.h"
#include "core/roster.h"
#include "core/sign_bytes.h"
#include "core/store.h"

namespace synod {

// Keeps what is sent instead of delivering it.
class RecordingNetwork final : public Network {
 public:
  void send(NodeId to, const MessagePtr& message) override {
    sent.push_back(message);
    sent_to.push_back(to);
  }
  std::vector<MessagePtr> sent;
  std::vector<NodeId> sent_to;
};

// Time that moves only when a test says so.
class ManualClock final : public Clock {
 public:
  TimeMs now() const override { return now_ms; }
  TimeMs now_ms = 0;
};

// Distinct keys whose leading bytes take only a few values, for the tables
// indexed by them: `home` is byte 0 (what picks the slot), `tag` a later byte
// that tells keys with one home apart.
template <typename Key>
Key crowded_key(std::uint8_t home, std::uint8_t tag) {
  Key key;
  key.bytes[0] = home;
  key.bytes[8] = tag;
  return key;
}

// A deterministic key: the same label gives the same key in every run.
inline KeyPair test_key(std::string_view label) { return KeyPair::from_label(label); }

// The key of validator i in test_genesis(): from_label("validator-<i>").
inline KeyPair test_validator_key(std::size_t i) {
  return KeyPair::from_label("validator-" + std::to_string(i));
}

// Named client accounts shared by the tests: the same keys in every file.
inline const KeyPair& alice() {
  static const KeyPair k = test_key("alice");
  return k;
}
inline const KeyPair& bob() {
  static const KeyPair k = test_key("bob");
  return k;
}
inline const KeyPair& carol() {
  static const KeyPair k = test_key("carol");
  return k;
}
// Never allocated in the tests' genesis: exists only once something reaches it.
inline const KeyPair& dave() {
  static const KeyPair k = test_key("dave");
  return k;
}

inline Allocation test_allocation(const KeyPair& key, std::uint64_t balance) {
  return Allocation{key.public_key, balance};
}

// A genesis with `validators` validators keyed by test_validator_key(i), with
// the given weights (all 1 when empty), allocations and chain parameters.
// Addresses step by 10 from 127.0.0.1:7770 so each node's P, P+1, P+2 are free.
inline Genesis test_genesis(std::size_t validators, std::vector<std::uint64_t> weights = {},
                            std::vector<Allocation> allocations = {}, ChainParams params = {},
                            std::string chain_name = "synod-test") {
  SYNOD_ASSERT(validators > 0);
  SYNOD_ASSERT(weights.empty() || weights.size() == validators);
  Genesis genesis;
  genesis.chain_name = std::move(chain_name);
  for (std::size_t i = 0; i < validators; ++i) {
    genesis.validators.push_back(Validator{
        .key = test_validator_key(i).public_key,
        .weight = Weight(weights.empty() ? 1 : weights[i]),
        .address = "127.0.0.1:" + std::to_string(7770 + 10 * i),
        .description = "validator-" + std::to_string(i),
    });
  }
  genesis.allocations = std::move(allocations);
  genesis.params = params;
  return genesis;
}

// A transaction as the ledger sees it after verification: the signature is not
// checked there, so ledger tests and properties can skip the cost of signing.
inline Transaction unsigned_tx(const KeyPair& from, std::uint64_t nonce,
                               std::variant<Transfer, StoreValue> op) {
  Transaction tx;
  tx.sender = from.public_key;
  tx.nonce = nonce;
  tx.op = std::move(op);
  return tx;
}

// Counts verifications, so tests can prove which checks ran and how often.
class CountingScheme final : public SignatureScheme {
 public:
  explicit CountingScheme(const SignatureScheme& inner) : inner_(inner) {}
  Signature sign(const KeyPair& key, ByteView message) const override { return inner_.sign(key, message); }
  bool verify(const PublicKey& key, ByteView message, const Signature& sig) const override {
    ++verify_calls;
    return inner_.verify(key, message, sig);
  }
  mutable std::size_t verify_calls = 0;

 private:
  const SignatureScheme& inner_;
};

inline Transaction signed_tx(const ChainId& chain, const KeyPair& from, std::uint64_t nonce,
                             std::variant<Transfer, StoreValue> op,
                             const SignatureScheme& scheme = ed25519_scheme()) {
  Transaction tx = unsigned_tx(from, nonce, std::move(op));
  sign_tx(scheme, chain, from, tx);
  return tx;
}

inline Transaction signed_transfer(const ChainId& chain, const KeyPair& from, std::uint64_t nonce,
                                   const PublicKey& to, std::uint64_t amount) {
  return signed_tx(chain, from, nonce, Transfer{to, amount});
}

inline Transaction signed_store(const ChainId& chain, const KeyPair& from, std::uint64_t nonce,
                                Bytes key, Bytes value) {
  return signed_tx(chain, from, nonce, StoreValue{std::move(key), std::move(value)});
}

inline Bytes test_bytes(std::string_view s) {
  const ByteView v = as_bytes(s);
  return Bytes(v.begin(), v.end());
}

inline Bytes filled_bytes(std::size_t size, std::uint8_t fill = 'x') { return Bytes(size, fill); }

// GoogleTest cannot print a 128-bit integer; compare with EXPECT_EQ on this.
inline std::string to_decimal(BalanceSum v) {
  if (v == 0) return "0";
  std::string digits;
  while (v > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return digits;
}

}  // namespace synod
