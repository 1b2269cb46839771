// Transactions waiting to be proposed. Bounded in count and bytes, deduplicated
// by hash, and each transaction's signature is verified exactly once per node,
// here, on entry. Proposal batches are bounded by the chain's block_txs_max and
// block_bytes_max, and hold back a transaction whose predecessor (by nonce) is
// missing, for a while (docs/protocol.md section 12). Deterministic: arrival
// order decides, never a hash order.
#pragma once

#include <cstddef>
#include <expected>
#include <limits>
#include <optional>
#include <vector>

#include "core/crypto.h"
#include "core/digest_map.h"
#include "core/ledger.h"

namespace synod {

struct MempoolLimits {
  std::size_t txs_max = 20000;
  std::size_t bytes_max = 64u << 20;
  // A transaction may run at most this far ahead of its sender's account nonce.
  std::uint64_t nonce_ahead_max = 1000;
  // A batch holds back a transaction whose nonce is ahead of its sender's next
  // one for at most this many rounds; then it is proposed, and fails. 0: no
  // holding back, arrival order only.
  std::uint64_t gap_wait_rounds = 8;
};

class Mempool {
 public:
  Mempool(const ChainId& chain, const ChainParams& params, MempoolLimits limits,
          const SignatureScheme& scheme);

  // Admission, cheapest checks first: TOO_LARGE, DUPLICATE (pending or already
  // committed), BAD_NONCE (below the account's nonce or too far ahead),
  // POOL_FULL, then BAD_SIGNATURE (the only expensive check, done once).
  std::expected<TxHash, TxError> add(const Transaction& tx, const Ledger& ledger);
  // The same, for a transaction of a sealed message: `hash` is its tx_hash.
  std::expected<TxHash, TxError> add(const Transaction& tx, const TxHash& hash, const Ledger& ledger);

  // The transactions of a proposal in `round` extending `ancestors` (the
  // uncommitted blocks on its path, oldest first): pending ones in arrival
  // order, skipping those already in the ancestors, within block_txs_max and
  // block_bytes_max; with their hashes, computed on entry, so that sealing the
  // block need not. A transaction whose nonce is ahead of its sender's next
  // nonce (the ledger's, advanced by the sender's transactions in the
  // ancestors and earlier in the batch) is held back to the end of the batch,
  // then proposed if its predecessor was placed before it, or if
  // gap_wait_rounds rounds passed since a batch first held it back.
  struct Batch {
    std::vector<Transaction> txs;
    std::vector<TxHash> hashes;  // tx_hash of each of txs
  };
  Batch batch(const std::vector<BlockPtr>& ancestors, const Ledger& ledger, Round round);

  bool contains(const TxHash& hash) const { return index_.contains(hash); }
  // The pending transaction with this hash, or null; valid until the next
  // add or remove_committed.
  const Transaction* find(const TxHash& hash) const {
    const std::uint32_t* slot = index_.find(hash);
    return slot == nullptr ? nullptr : &slots_[*slot].entry.tx;
  }
  // True if this exact transaction, signature included, is pending here: its
  // signature was verified on entry. The hash alone does not cover the
  // signature, so a block carrying other signature bytes must be re-verified.
  bool holds_verified(const TxHash& hash, const Signature& sig) const {
    const std::uint32_t* slot = index_.find(hash);
    return slot != nullptr && slots_[*slot].entry.tx.sig == sig;
  }
  // Drops transactions that committed (executed or failed) in a block.
  void remove_committed(const std::vector<TxOutcome>& outcomes);

  std::size_t size() const { return index_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  // TOO_LARGE, or the transaction's size in bytes.
  std::expected<std::size_t, TxError> check_size(const Transaction& tx) const;
  std::expected<TxHash, TxError> admit(const Transaction& tx, const TxHash& hash, std::size_t size_bytes,
                                       const Ledger& ledger);

  struct Entry {
    TxHash hash;
    Transaction tx;
    std::size_t size_bytes = 0;
    std::optional<Round> held_since;  // the first round a batch held it back
    std::uint64_t in_ancestors_of = 0;  // the number (batches_count_) of the last batch whose ancestors carry it
  };
  ChainId chain_;
  ChainParams params_;
  MempoolLimits limits_;
  const SignatureScheme& scheme_;
  // Arrival order without an allocation per transaction: the entries sit in
  // slots linked oldest to newest, and a removed entry's slot is reused.
  static constexpr std::uint32_t no_slot = std::numeric_limits<std::uint32_t>::max();
  struct Slot {
    Entry entry;
    std::uint32_t older = no_slot;
    std::uint32_t newer = no_slot;
  };
  // A new newest entry, in a reused slot when one is free; every field of
  // Entry is set (a reused slot still holds its last entry).
  std::uint32_t append(const TxHash& hash, const Transaction& tx, std::size_t size_bytes);
  void unlink(std::uint32_t slot);
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t oldest_ = no_slot;
  std::uint32_t newest_ = no_slot;
  // Look-ups only, never iterated: arrival order lives in the links.
  DigestMap<TxHash, std::uint32_t> index_;  // the entry's slot
  std::size_t bytes_ = 0;
  Bytes scratch_;  // add()'s sign-bytes buffer, kept to spare an allocation per transaction
  std::uint64_t batches_count_ = 0;  // batch() calls so far: each marks the entries its ancestors carry
};

}  // namespace synod
