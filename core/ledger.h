// The replicated application: accounts (balance, nonce) keyed by public key,
// values stored per owner, and the index of committed transactions. Execution
// is deterministic: a transaction that cannot execute fails with a typed reason
// and changes nothing. The state root after each block is computed from that
// block's changes only, never by walking the whole state.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/crypto.h"
#include "core/entry_cache.h"
#include "core/messages.h"
#include "core/roster.h"

namespace synod {

// The sum of many 64-bit balances; callers (checkers, tests) name it so.
using BalanceSum = u128;

struct Account {
  std::uint64_t balance = 0;
  std::uint64_t nonce = 0;  // the nonce the account's next transaction must carry
  auto operator<=>(const Account&) const = default;
};

struct TxOutcome {
  TxHash hash;
  std::optional<TxError> error;  // empty: executed
};

struct BlockOutcome {
  Height height;
  std::vector<TxOutcome> txs;  // one per transaction, in block order
  StateRoot state_root;        // after this block
};

struct TxLocation {
  Height height;
  std::uint32_t index = 0;
  std::optional<TxError> error;
  auto operator<=>(const TxLocation&) const = default;
};

// Every transaction a ledger committed, with its fate: inserted once, looked
// up on every admission and execution, never erased (pruning keeps it whole,
// docs/storage.md). The entries sit in insertion order in fixed chunks that
// never move (one array would be copied at every doubling and keep up to half
// its room unused, for as long as the chain grows); an open
// table with linear probing, kept at most half full, maps a hash to its
// entry. Slots are found by the hash's first 8 bytes, which are uniform: the
// hash is a digest. A slot is a one-byte tag (0 for empty, else a hash byte
// with its top bit set) and a 4-byte entry number, so the table stays small
// enough for the cache: most look-ups are of new transactions and end at an
// empty slot, and doubling the table moves 5 bytes per entry, not the entry.
class TxIndex {
 public:
  const TxLocation* find(const TxHash& hash) const;
  // False, and nothing changes, if `hash` is already there.
  bool insert(const TxHash& hash, const TxLocation& location);
  // A new entry for `hash`, whose location the caller sets before the next
  // call; nullptr, and nothing changes, if `hash` is already there. One probe
  // where find() then insert() would take two.
  TxLocation* claim(const TxHash& hash);
  std::size_t size() const { return size_; }
  // Starts loading the slot `hash` probes first. The table outgrows the
  // caches, so each look-up of a new hash waits for memory; a block's worth of
  // prefetches, issued together, wait once.
  void prefetch(const TxHash& hash) const;

 private:
  struct Entry {
    TxHash hash;
    TxLocation location;
  };
  static constexpr std::size_t chunk_entries = 1024;  // 48 KiB
  std::size_t slot_of(const TxHash& hash) const;
  static std::uint8_t tag_of(const TxHash& hash) { return hash.bytes[8] | 0x80; }
  const Entry& entry(std::uint32_t number) const { return chunks_[number / chunk_entries][number % chunk_entries]; }
  void grow();

  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::uint32_t size_ = 0;  // entries
  std::vector<std::uint8_t> tags_;     // one per slot; 0: empty
  std::vector<std::uint32_t> slots_;   // the entry's number; as long as tags_, empty or a power of two
};

// Everything a Ledger holds after the block at `height`: what a store that
// pruned the blocks below its kept window hands back instead of them
// (docs/storage.md, Pruning).
struct LedgerState {
  Height height;
  StateRoot state_root;  // after the block at `height`
  std::map<PublicKey, Account> accounts;
  std::map<std::pair<PublicKey, Bytes>, Bytes> values;
  std::map<TxHash, TxLocation> txs;  // every transaction committed up to `height`, with its fate
};

class Ledger {
 public:
  // Applies the genesis allocations; height 0 with the genesis state root.
  // `digest` computes state roots and hashes bare transactions (sha256 on
  // every real chain; core/crypto.h).
  Ledger(const Genesis& genesis, Digest digest);
  // Continues from a state a store kept; executing the next block checks it,
  // since that block's state root chains `state.state_root` and its changes.
  Ledger(const Genesis& genesis, Digest digest, LedgerState state);

  // Executes the next committed block. The caller guarantees that every
  // signature was verified (on mempool entry, or by the quorum that certified
  // the block) and that the block's height is height() + 1. A sealed block
  // brings its transaction hashes; bare transactions are hashed here.
  BlockOutcome execute(const Block& block);
  BlockOutcome execute(Height height, const std::vector<Transaction>& txs);

  Height height() const { return height_; }
  const StateRoot& state_root() const { return state_root_; }
  const ChainId& chain_id() const { return chain_id_; }

  std::optional<Account> account(const PublicKey& key) const;
  std::optional<Bytes> value(const PublicKey& owner, const Bytes& key) const;
  std::optional<TxLocation> find_tx(const TxHash& hash) const;
  void prefetch_tx(const TxHash& hash) const { committed_txs_.prefetch(hash); }
  // The sum of all balances; constant by construction (the checkers verify it).
  BalanceSum total_balance() const;
  // How many accounts, stored values and committed transactions it holds.
  struct Sizes {
    std::size_t accounts = 0;
    std::size_t values = 0;
    std::size_t txs = 0;
  };
  Sizes sizes() const { return {accounts_.size(), values_.size(), committed_txs_.size()}; }

 private:
  using AccountEntry = std::map<PublicKey, Account>::value_type;
  // The account's entry, nullptr if it has none: every transaction looks up
  // its sender and receiver on admission and execution, and a block's few
  // senders repeat, so through a cache.
  AccountEntry* find_account(const PublicKey& key) { return account_cache_.find(accounts_, key); }
  BlockOutcome apply(Height height, const std::vector<Transaction>& txs, const std::vector<TxHash>& hashes);
  // The root after a block at `height` (the encoding in ledger.cc), from the
  // current one; the touched keys sorted and unique, their values already set.
  StateRoot next_root(Height height, const std::vector<TxOutcome>& outcomes,
                      const std::vector<const AccountEntry*>& touched_accounts,
                      const std::vector<std::pair<PublicKey, Bytes>>& touched_values) const;
  ChainId chain_id_;
  Digest digest_;
  ChainParams params_;
  Height height_;
  StateRoot state_root_;
  std::map<PublicKey, Account> accounts_;  // never erased from: account_cache_ keeps pointers into it
  EntryCache<std::map<PublicKey, Account>> account_cache_;
  std::map<std::pair<PublicKey, Bytes>, Bytes> values_;
  TxIndex committed_txs_;
  mutable Bytes root_bytes_;  // next_root's encoding, one buffer for every block
};

}  // namespace synod
