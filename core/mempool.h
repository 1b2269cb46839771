// Transactions waiting to be proposed. Bounded in count and bytes, deduplicated
// by hash, and each transaction's signature is verified exactly once per node,
// here, on entry. Proposal batches are bounded by the chain's block_txs_max and
// block_bytes_max. Deterministic: arrival order decides, never a hash order.
#pragma once

#include <cstddef>
#include <expected>
#include <list>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/crypto.h"
#include "core/ledger.h"

namespace synod {

struct MempoolLimits {
  std::size_t txs_max = 20000;
  std::size_t bytes_max = 64u << 20;
  // A transaction may run at most this far ahead of its sender's account nonce.
  std::uint64_t nonce_ahead_max = 1000;
};

class Mempool {
 public:
  Mempool(const ChainId& chain, const ChainParams& params, MempoolLimits limits,
          const SignatureScheme& scheme);

  // Admission, cheapest checks first: TOO_LARGE, DUPLICATE (pending or already
  // committed), BAD_NONCE (below the account's nonce or too far ahead),
  // POOL_FULL, then BAD_SIGNATURE (the only expensive check, done once).
  std::expected<TxHash, TxError> add(const Transaction& tx, const Ledger& ledger);

  // The next proposal's transactions in arrival order, skipping `exclude` (those
  // already in uncommitted ancestors), within block_txs_max and block_bytes_max;
  // with their hashes, computed on entry, so that sealing the block need not.
  struct Batch {
    std::vector<Transaction> txs;
    std::vector<TxHash> hashes;  // tx_hash of each of txs
  };
  Batch batch(const std::set<TxHash>& exclude) const;

  bool contains(const TxHash& hash) const { return index_.contains(hash); }
  // True if this exact transaction, signature included, is pending here: its
  // signature was verified on entry. The hash alone does not cover the
  // signature, so a block carrying other signature bytes must be re-verified.
  bool holds_verified(const TxHash& hash, const Signature& sig) const {
    const auto it = index_.find(hash);
    return it != index_.end() && it->second->tx.sig == sig;
  }
  // Drops transactions that committed (executed or failed) in a block.
  void remove_committed(const std::vector<TxOutcome>& outcomes);

  std::size_t size() const { return index_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    TxHash hash;
    Transaction tx;
    std::size_t size_bytes = 0;
  };
  ChainId chain_;
  ChainParams params_;
  MempoolLimits limits_;
  const SignatureScheme& scheme_;
  std::list<Entry> queue_;  // arrival order
  // Look-ups only, never iterated: arrival order lives in queue_.
  std::unordered_map<TxHash, std::list<Entry>::iterator, FixedBytesHash> index_;
  std::size_t bytes_ = 0;
  Bytes scratch_;  // add()'s sign-bytes buffer, kept to spare an allocation per transaction
};

}  // namespace synod
