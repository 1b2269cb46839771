// Helpers for the storage tests, the crash child and the store benchmark:
// committed chains as a replica hands them to a store (outcomes and state
// roots from core's Ledger), unsigned, since a store never verifies
// signatures. Header-only; owns nothing, never included by production code.
#pragma once

#include <filesystem>
#include <random>
#include <string>

#include "core/assert.h"
#include "core/certs.h"
#include "core/ledger.h"
#include "core/records.h"
#include "core/sign_bytes.h"
#include "core/store.h"
#include "core/wire.h"

namespace synod {

// The stored-value keys ChainBuilder uses: "key-<k>", k below 17.
inline Bytes test_key_bytes(std::uint64_t k) {
  const std::string key = "key-" + std::to_string(k);
  return Bytes(key.begin(), key.end());
}

inline KeyPair storage_account(std::string_view label) { return KeyPair::from_label(label); }

// One validator, two funded accounts: enough for every storage test.
inline Genesis storage_genesis(std::string chain_name = "synod-storage-test") {
  Genesis g;
  g.chain_name = std::move(chain_name);
  g.validators.push_back(Validator{KeyPair::from_label("validator-0").public_key, Weight(1), "127.0.0.1:7770", "v0"});
  g.allocations = {Allocation{storage_account("alice").public_key, std::uint64_t{1} << 50},
                   Allocation{storage_account("bob").public_key, 1000}};
  return g;
}

class ChainBuilder {
 public:
  explicit ChainBuilder(const Genesis& genesis)
      : chain_(genesis.chain_id()), ledger_(genesis, sha256), tip_qc_(genesis_qc(chain_)) {}

  // Continues after a chain a store returned.
  void resume(const std::vector<CommittedBlock>& committed) {
    for (const CommittedBlock& c : committed) {
      SYNOD_ASSERT(ledger_.execute(c.block->height(), c.block->txs).state_root == c.outcome.state_root);
      tip_qc_ = c.qc;
    }
  }

  // The next block, with `txs` transactions: transfers from alice to bob, and
  // every third one a stored value.
  CommittedBlock next(std::size_t txs) {
    const KeyPair alice = storage_account("alice");
    const PublicKey bob = storage_account("bob").public_key;
    std::uint64_t nonce = ledger_.account(alice.public_key)->nonce;
    std::vector<Transaction> batch;
    for (std::size_t i = 0; i < txs; ++i, ++nonce) {
      Transaction tx;
      tx.sender = alice.public_key;
      tx.nonce = nonce;
      if (i % 3 == 2) {
        const std::string value = "value-" + std::to_string(nonce);
        tx.op = StoreValue{test_key_bytes(nonce % 17), Bytes(value.begin(), value.end())};
      } else {
        tx.op = Transfer{bob, 1 + nonce % 5};
      }
      batch.push_back(std::move(tx));
    }
    const Round round = tip_qc_.round.next();
    BlockPtr block = seal(sha256, chain_, Block{round, NodeId(0), tip_qc_, std::move(batch), {}});
    QuorumCert qc{block->id, block->round, block->height(), {SignerSig{NodeId(0), Signature{}}}};
    CommittedBlock c{block, ledger_.execute(block->height(), block->txs), qc};
    tip_qc_ = qc;
    return c;
  }

  // A block above the tip that is not committed (yet).
  BlockPtr uncommitted(std::uint64_t rounds_ahead = 1) const {
    return seal(sha256, chain_, Block{Round(tip_qc_.round.value + rounds_ahead), NodeId(0), tip_qc_, {}, {}});
  }

  const Ledger& ledger() const { return ledger_; }
  const ChainId& chain() const { return chain_; }

 private:
  ChainId chain_;
  Ledger ledger_;
  QuorumCert tip_qc_;
};

inline SafetyRecord record_at(std::uint64_t round) {
  SafetyRecord r;
  r.voted_round = Round(round);
  r.highest_qc_round = Round(round > 0 ? round - 1 : 0);
  r.proposed_round = Round(round);
  r.last_vote = Vote{BlockId{}, Round(round), Height(round), NodeId(0), Signature{}};
  return r;
}

inline Bytes record_bytes(const SafetyRecord& r) { return encode_safety_record(r); }

// A fresh folder under the system's temporary folder, removed on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view label) {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("synod-" + std::string(label) + "-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace synod
