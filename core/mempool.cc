// Mempool: transactions this node accepted and has not yet seen commit.
//
// Owns: the arrival-ordered queue, its hash index and the byte count. Must
// never: verify a signature twice for one pending transaction (verification is
// the node's dominant cost per transaction, DESIGN section 8), order anything
// by hash (arrival order decides, so proposals are reproducible), grow past
// MempoolLimits, or execute transactions (that is the Ledger's job; a nonce
// here is only checked against a window, the ledger decides at commit).
#include "core/mempool.h"

#include <algorithm>
#include <map>
#include <variant>

#include "core/assert.h"
#include "core/entry_cache.h"
#include "core/sign_bytes.h"

namespace synod {

Mempool::Mempool(const ChainId& chain, const ChainParams& params, MempoolLimits limits,
                 const SignatureScheme& scheme)
    : chain_(chain), params_(params), limits_(limits), scheme_(scheme) {
  SYNOD_ASSERT(limits_.txs_max > 0);
  SYNOD_ASSERT(limits_.bytes_max > 0);
}

// Cheapest checks first; the signature, the only expensive one, comes last so
// that junk never costs a verification.
std::expected<TxHash, TxError> Mempool::add(const Transaction& tx, const Ledger& ledger) {
  const auto size_bytes = check_size(tx);
  if (!size_bytes) return std::unexpected(size_bytes.error());
  return admit(tx, tx_hash(scheme_.digest(), chain_, tx, scratch_), *size_bytes, ledger);
}

std::expected<TxHash, TxError> Mempool::add(const Transaction& tx, const TxHash& hash, const Ledger& ledger) {
  const auto size_bytes = check_size(tx);
  if (!size_bytes) return std::unexpected(size_bytes.error());
  return admit(tx, hash, *size_bytes, ledger);
}

std::expected<std::size_t, TxError> Mempool::check_size(const Transaction& tx) const {
  const std::size_t size_bytes = tx_size_bytes(tx);
  if (size_bytes > params_.tx_bytes_max) return std::unexpected(TxError::TooLarge);
  if (const auto* store = std::get_if<StoreValue>(&tx.op)) {
    if (store->key.size() > params_.key_bytes_max) return std::unexpected(TxError::TooLarge);
    if (store->value.size() > params_.value_bytes_max) return std::unexpected(TxError::TooLarge);
  }
  return size_bytes;
}

std::expected<TxHash, TxError> Mempool::admit(const Transaction& tx, const TxHash& hash, std::size_t size_bytes,
                                              const Ledger& ledger) {
  ledger.prefetch_tx(hash);  // the committed index's slot loads while the pool is searched
  if (index_.contains(hash)) return std::unexpected(TxError::Duplicate);
  if (ledger.find_tx(hash)) return std::unexpected(TxError::Duplicate);

  const std::optional<Account> account = ledger.account(tx.sender);
  const std::uint64_t account_nonce = account ? account->nonce : 0;
  if (tx.nonce < account_nonce) return std::unexpected(TxError::BadNonce);
  if (tx.nonce - account_nonce > limits_.nonce_ahead_max) return std::unexpected(TxError::BadNonce);

  if (index_.size() + 1 > limits_.txs_max) return std::unexpected(TxError::PoolFull);
  if (size_bytes > limits_.bytes_max - bytes_) return std::unexpected(TxError::PoolFull);

  if (!scheme_.verify(tx.sender, tx_sig_bytes(hash), tx.sig)) {
    return std::unexpected(TxError::BadSignature);
  }

  const bool inserted = index_.emplace(hash, append(hash, tx, size_bytes)).second;
  SYNOD_ASSERT(inserted);
  bytes_ += size_bytes;

  SYNOD_ASSERT(index_.size() + free_slots_.size() == slots_.size());
  SYNOD_ASSERT(index_.size() <= limits_.txs_max);
  SYNOD_ASSERT(bytes_ <= limits_.bytes_max);
  return hash;
}

Mempool::Batch Mempool::batch(const std::vector<BlockPtr>& ancestors, const Ledger& ledger, Round round) {
  // The pending transactions the ancestors carry, marked through the index:
  // a look-up per ancestor transaction and nothing to clear afterwards.
  ++batches_count_;
  // Ordered, not hashed: senders are keys clients pick. A few senders come
  // back again and again, so through a cache.
  std::map<PublicKey, std::uint64_t> next_nonce;
  EntryCache<std::map<PublicKey, std::uint64_t>> next_cache;
  const auto next_of = [&](const PublicKey& sender) -> std::uint64_t& {
    if (auto* entry = next_cache.find(next_nonce, sender)) return entry->second;
    const std::optional<Account> account = ledger.account(sender);
    return next_cache.remember(*next_nonce.emplace(sender, account ? account->nonce : 0).first).second;
  };
  for (const BlockPtr& ancestor : ancestors) {
    for (const TxHash& hash : ancestor->tx_hashes) {
      if (const std::uint32_t* slot = index_.find(hash)) slots_[*slot].entry.in_ancestors_of = batches_count_;
    }
    for (const Transaction& tx : ancestor->txs) {
      std::uint64_t& next = next_of(tx.sender);
      if (tx.nonce == next) ++next;
    }
  }

  // Chosen first and copied once at the end, so the block's vectors are
  // exactly as long as it is: a block is kept long after it is proposed.
  std::vector<const Entry*> chosen;
  std::uint64_t batch_bytes = 0;
  const auto finish = [&] {
    SYNOD_ASSERT(chosen.size() <= params_.block_txs_max);
    SYNOD_ASSERT(batch_bytes <= params_.block_bytes_max);
    Batch batch;
    batch.txs.reserve(chosen.size());
    batch.hashes.reserve(chosen.size());
    for (const Entry* entry : chosen) {
      batch.txs.push_back(entry->tx);
      batch.hashes.push_back(entry->hash);
    }
    return batch;
  };
  // Stop rather than skip: a later, smaller transaction must not overtake an
  // earlier one, so arrival order alone decides what is proposed (a held-back
  // one excepted). False when the entry does not fit.
  const auto take = [&](const Entry& entry) {
    if (chosen.size() + 1 > params_.block_txs_max) return false;
    if (entry.size_bytes > params_.block_bytes_max - batch_bytes) return false;
    std::uint64_t& next = next_of(entry.tx.sender);
    if (entry.tx.nonce == next) ++next;
    chosen.push_back(&entry);
    batch_bytes += entry.size_bytes;
    return true;
  };
  // Nonce gaps wait for a second pass, lowest nonce first: a predecessor this
  // pass placed lets its successor follow it in the same batch.
  std::vector<Entry*> held;
  for (std::uint32_t slot = oldest_; slot != no_slot; slot = slots_[slot].newer) {
    Entry& entry = slots_[slot].entry;
    if (entry.in_ancestors_of == batches_count_) continue;
    if (limits_.gap_wait_rounds > 0 && entry.tx.nonce > next_of(entry.tx.sender)) {
      if (!entry.held_since) entry.held_since = round;
      held.push_back(&entry);
      continue;
    }
    if (!take(entry)) return finish();
  }
  std::ranges::stable_sort(held, {}, [](const Entry* e) { return e->tx.nonce; });
  for (const Entry* entry : held) {
    SYNOD_ASSERT(round >= *entry->held_since);
    const bool waited = round.value - entry->held_since->value >= limits_.gap_wait_rounds;
    if (entry->tx.nonce > next_of(entry->tx.sender) && !waited) continue;
    if (!take(*entry)) break;
  }
  return finish();
}

void Mempool::remove_committed(const std::vector<TxOutcome>& outcomes) {
  for (const TxOutcome& outcome : outcomes) {
    const std::optional<std::uint32_t> slot = index_.take(outcome.hash);
    if (!slot) continue;  // proposed by another node, or already removed
    const Entry& entry = slots_[*slot].entry;
    SYNOD_ASSERT(entry.hash == outcome.hash);
    SYNOD_ASSERT(bytes_ >= entry.size_bytes);
    bytes_ -= entry.size_bytes;
    unlink(*slot);
  }
  SYNOD_ASSERT(index_.size() + free_slots_.size() == slots_.size());
  SYNOD_ASSERT(oldest_ != no_slot || bytes_ == 0);
}

std::uint32_t Mempool::append(const TxHash& hash, const Transaction& tx, std::size_t size_bytes) {
  std::uint32_t slot;
  if (free_slots_.empty()) {
    SYNOD_ASSERT(slots_.size() < no_slot);
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  // Written field by field into the slot: a whole Entry built first and moved
  // in would be zeroed and copied once more, on every admission.
  Slot& s = slots_[slot];
  s.entry.hash = hash;
  s.entry.tx = tx;
  s.entry.size_bytes = size_bytes;
  s.entry.held_since.reset();
  s.entry.in_ancestors_of = 0;
  s.older = newest_;
  s.newer = no_slot;
  (newest_ == no_slot ? oldest_ : slots_[newest_].newer) = slot;
  newest_ = slot;
  return slot;
}

void Mempool::unlink(std::uint32_t slot) {
  Slot& s = slots_[slot];
  (s.older == no_slot ? oldest_ : slots_[s.older].newer) = s.newer;
  (s.newer == no_slot ? newest_ : slots_[s.newer].older) = s.older;
  // Lets go of a stored value's bytes; a transfer holds none, and append
  // overwrites the rest (clearing the whole transaction zeroed it every time).
  if (std::holds_alternative<StoreValue>(s.entry.tx.op)) s.entry.tx.op = Transfer{};
  free_slots_.push_back(slot);
}

}  // namespace synod
