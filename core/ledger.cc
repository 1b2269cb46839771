// Ledger: executes committed blocks against accounts and stored values, and
// keeps the index of every committed transaction with its fate.
//
// Owns: the account map, the value map, the committed-transaction index and
// the state root. Must never: read a clock, draw randomness, verify signatures
// (that happened once, on mempool entry or in the quorum that certified the
// block), iterate an unordered container, or do work proportional to the size
// of the state when committing a block.
//
// Execution rules (DESIGN section 4; to be quoted in docs/protocol.md). Each
// transaction, in block order:
//   1. ALREADY_COMMITTED if its hash is in the committed index (an earlier
//      block, or earlier in this same block);
//   2. BAD_NONCE if its nonce is not the sender's account nonce (an unknown
//      sender is an account with nonce 0 and balance 0);
//   3. TOO_LARGE if it exceeds tx_bytes_max, or a StoreValue's key or value
//      exceeds key_bytes_max / value_bytes_max;
//   4. for a transfer, INSUFFICIENT_BALANCE if amount > balance, then
//      BALANCE_OVERFLOW if the receiver's balance would pass 2^64 - 1.
// A failing transaction changes nothing, not even the nonce; it does not even
// create the sender's account. Every transaction except an ALREADY_COMMITTED
// one is then recorded in the committed index with its height, index and
// error, so that its fate can be reported and it can never execute later; an
// ALREADY_COMMITTED one leaves the first record as it was, because that record
// is the transaction's real fate.
//
// Genesis: allocations naming the same account are summed (a genesis file may
// list an account twice, e.g. stake plus faucet); a sum past 2^64 - 1 is an
// invalid genesis and stops the process, because no honest node could start
// from it. The genesis root is
//   SHA-256("synod/state-genesis/v1" || chain_id || n || (key, balance)*n)
// over the merged allocations sorted by key.
//
// State root after block h:
//   root_h = SHA-256("synod/state/v1" || root_{h-1} || h
//                    || outcomes of the block's transactions, in block order
//                    || final (balance, nonce) of each account the block
//                       changed, sorted by key
//                    || final value of each (owner, key) the block stored,
//                       sorted by (owner, key))
// Layout: the domain is length-prefixed (put_var); heights and balances are
// big-endian u64; each list starts with a u32 count; an outcome is (tx hash,
// u8 0 for executed or the TxError value); an account is (key, balance,
// nonce); a value is (owner, var key, var value).
// This is a hash chain over the history of changes, not a Merkle root over the
// state: it costs time proportional to the block, never to the state, which is
// what DESIGN section 4 asks for. It commits to history, so two honest nodes
// with the same committed chain always agree, and two nodes that reached the
// same state by different histories do not; it cannot prove a single account
// to a light client. Failed transactions change the root through their
// recorded outcome only.
#include "core/ledger.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>
#include <variant>

#include "core/assert.h"
#include "core/crypto.h"
#include "core/sign_bytes.h"

namespace synod {

namespace {

constexpr std::uint64_t balance_max = std::numeric_limits<std::uint64_t>::max();

// The outcome byte in the state-root encoding: 0 for executed, else the error.
std::uint8_t outcome_code(const std::optional<TxError>& error) {
  return error ? static_cast<std::uint8_t>(*error) : std::uint8_t{0};
}

// What one successful transaction does to the state, computed before anything
// is written so that a failing transaction cannot leave a partial change.
struct Effect {
  Account sender;
  std::optional<Account> receiver;  // a transfer to another account: the `to` account's new state
  const Bytes* stored = nullptr;    // a StoreValue's value, in the transaction
};

}  // namespace

Ledger::Ledger(const Genesis& genesis, Digest digest)
    : chain_id_(genesis.chain_id()), digest_(digest), params_(genesis.params), height_(0) {
  for (const Allocation& a : genesis.allocations) {
    Account& account = accounts_[a.account];
    // An allocation sum past 2^64 - 1 is an invalid genesis, not Byzantine input.
    SYNOD_ASSERT(a.balance <= balance_max - account.balance);
    account.balance += a.balance;
  }

  Bytes out;
  put_var(out, as_bytes("synod/state-genesis/v1"));
  put_bytes(out, chain_id_.view());
  SYNOD_ASSERT(accounts_.size() <= std::numeric_limits<std::uint32_t>::max());
  put_u32(out, static_cast<std::uint32_t>(accounts_.size()));
  for (const auto& [key, account] : accounts_) {  // std::map: sorted by key
    SYNOD_ASSERT(account.nonce == 0);
    put_bytes(out, key.view());
    put_u64(out, account.balance);
  }
  state_root_ = digest_(out);
}

Ledger::Ledger(const Genesis& genesis, Digest digest, LedgerState state)
    : chain_id_(genesis.chain_id()),
      digest_(digest),
      params_(genesis.params),
      height_(state.height),
      state_root_(state.state_root),
      accounts_(std::move(state.accounts)),
      values_(std::move(state.values)) {
  // A kept state lies above genesis, and nothing in it is from a later block.
  SYNOD_ASSERT(height_ > Height(0));
  for (const auto& [hash, location] : state.txs) {
    SYNOD_ASSERT(location.height <= height_);
    const bool inserted = committed_txs_.insert(hash, location);
    SYNOD_ASSERT(inserted);
  }
}

BlockOutcome Ledger::execute(const Block& block) {
  SYNOD_ASSERT(block.tx_hashes.size() == block.txs.size());  // sealed
  return apply(block.height(), block.txs, block.tx_hashes);
}

BlockOutcome Ledger::execute(Height height, const std::vector<Transaction>& txs) {
  return apply(height, txs, tx_hashes(digest_, chain_id_, txs));
}

BlockOutcome Ledger::apply(Height height, const std::vector<Transaction>& txs, const std::vector<TxHash>& hashes) {
  // Execution follows commit order, one block at a time, with no gaps.
  SYNOD_ASSERT(height == height_.next());
  SYNOD_ASSERT(txs.size() <= std::numeric_limits<std::uint32_t>::max());

  BlockOutcome result;
  result.height = height;
  result.txs.resize(txs.size());  // each written in place below, once

  // Everything this block changes; sorted and deduplicated below for the
  // root, which commits to each one's final value. Map entries stay where they
  // are, so the accounts are kept by address: one look-up each, not three.
  std::vector<const AccountEntry*> touched_accounts;
  std::vector<std::pair<PublicKey, Bytes>> touched_values;
  touched_accounts.reserve(2 * txs.size());
  for (const TxHash& hash : hashes) committed_txs_.prefetch(hash);

  for (std::uint32_t index = 0; index < txs.size(); ++index) {
    const Transaction& tx = txs[index];
    const TxHash& hash = hashes[index];

    TxLocation* location = committed_txs_.claim(hash);
    if (location == nullptr) {
      // The first record is the transaction's fate; keep it untouched.
      result.txs[index] = TxOutcome{hash, TxError::AlreadyCommitted};
      continue;
    }

    AccountEntry* sender_entry = find_account(tx.sender);
    AccountEntry* receiver_entry = nullptr;
    const Account sender = sender_entry == nullptr ? Account{} : sender_entry->second;

    std::optional<TxError> error;
    Effect effect;
    if (tx.nonce != sender.nonce) {
      error = TxError::BadNonce;
    } else if (tx_size_bytes(tx) > params_.tx_bytes_max) {
      error = TxError::TooLarge;
    } else if (const auto* transfer = std::get_if<Transfer>(&tx.op)) {
      effect.sender = sender;
      effect.sender.nonce += 1;
      if (transfer->amount > sender.balance) {
        error = TxError::InsufficientBalance;
      } else if (transfer->to != tx.sender) {
        receiver_entry = find_account(transfer->to);
        Account receiver = receiver_entry == nullptr ? Account{} : receiver_entry->second;
        if (transfer->amount > balance_max - receiver.balance) {
          error = TxError::BalanceOverflow;
        } else {
          const BalanceSum pair_before = BalanceSum{sender.balance} + receiver.balance;
          effect.sender.balance -= transfer->amount;
          receiver.balance += transfer->amount;
          // Conservation, checked on the two accounts touched so that it costs
          // nothing per state size; total_balance() is the checkers' global view.
          SYNOD_ASSERT(BalanceSum{effect.sender.balance} + receiver.balance == pair_before);
          effect.receiver = receiver;
        }
      }
      // A transfer to oneself moves nothing: only the nonce advances.
    } else {
      const auto& store = std::get<StoreValue>(tx.op);
      if (store.key.size() > params_.key_bytes_max || store.value.size() > params_.value_bytes_max) {
        error = TxError::TooLarge;
      } else {
        effect.sender = sender;
        effect.sender.nonce += 1;
        effect.stored = &store.value;
      }
    }

    if (!error) {
      SYNOD_ASSERT(effect.sender.nonce == sender.nonce + 1);
      if (sender_entry == nullptr) sender_entry = &*accounts_.emplace(tx.sender, Account{}).first;
      sender_entry->second = effect.sender;
      touched_accounts.push_back(sender_entry);
      if (effect.receiver) {
        const PublicKey& to = std::get<Transfer>(tx.op).to;
        SYNOD_ASSERT(to != tx.sender);
        if (receiver_entry == nullptr) receiver_entry = &*accounts_.emplace(to, Account{}).first;
        receiver_entry->second = *effect.receiver;
        touched_accounts.push_back(receiver_entry);
      }
      if (effect.stored != nullptr) {
        auto key = std::make_pair(tx.sender, std::get<StoreValue>(tx.op).key);
        values_[key] = *effect.stored;
        touched_values.push_back(std::move(key));
      }
    }

    *location = TxLocation{height, index, error};
    result.txs[index] = TxOutcome{hash, error};
  }
  // One entry per key: equal keys are the same map entry, so duplicates go
  // first, by address (a cheap comparison; busy accounts repeat within a
  // block), and only the distinct entries are sorted by key.
  std::ranges::sort(touched_accounts);
  touched_accounts.erase(std::ranges::unique(touched_accounts).begin(), touched_accounts.end());
  std::ranges::sort(touched_accounts, [](const AccountEntry* a, const AccountEntry* b) { return a->first < b->first; });
  std::ranges::sort(touched_values);
  touched_values.erase(std::ranges::unique(touched_values).begin(), touched_values.end());

  SYNOD_ASSERT(touched_accounts.size() <= 2 * txs.size());
  SYNOD_ASSERT(touched_values.size() <= txs.size());
  state_root_ = next_root(height, result.txs, touched_accounts, touched_values);
  height_ = height;
  result.state_root = state_root_;
  return result;
}

StateRoot Ledger::next_root(Height height, const std::vector<TxOutcome>& outcomes,
                            const std::vector<const AccountEntry*>& touched_accounts,
                            const std::vector<std::pair<PublicKey, Bytes>>& touched_values) const {
  Bytes& bytes = root_bytes_;
  bytes.clear();
  {
    Writer out(bytes, 64 + 33 * outcomes.size() + 48 * touched_accounts.size());
    put_var(out, as_bytes("synod/state/v1"));
    put_bytes(out, state_root_.view());
    put_u64(out, height.value);
    put_u32(out, static_cast<std::uint32_t>(outcomes.size()));
    for (const TxOutcome& o : outcomes) {
      put_bytes(out, o.hash.view());
      put_u8(out, outcome_code(o.error));
    }
    put_u32(out, static_cast<std::uint32_t>(touched_accounts.size()));
    for (const AccountEntry* entry : touched_accounts) {
      put_bytes(out, entry->first.view());
      put_u64(out, entry->second.balance);
      put_u64(out, entry->second.nonce);
    }
    put_u32(out, static_cast<std::uint32_t>(touched_values.size()));
    for (const auto& key : touched_values) {
      put_bytes(out, key.first.view());
      put_var(out, key.second);
      put_var(out, values_.at(key));
    }
  }
  return digest_(bytes);
}

std::optional<Account> Ledger::account(const PublicKey& key) const {
  const AccountEntry* entry = account_cache_.find(accounts_, key);
  if (entry == nullptr) return std::nullopt;
  return entry->second;
}

std::optional<Bytes> Ledger::value(const PublicKey& owner, const Bytes& key) const {
  const auto it = values_.find(std::make_pair(owner, key));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<TxLocation> Ledger::find_tx(const TxHash& hash) const {
  const TxLocation* location = committed_txs_.find(hash);
  if (location == nullptr) return std::nullopt;
  return *location;
}

// ---- TxIndex -----------------------------------------------------------------

std::size_t TxIndex::slot_of(const TxHash& hash) const {
  std::uint64_t prefix;
  std::memcpy(&prefix, hash.bytes.data(), sizeof prefix);
  return static_cast<std::size_t>(prefix) & (tags_.size() - 1);
}

const TxLocation* TxIndex::find(const TxHash& hash) const {
  if (tags_.empty()) return nullptr;
  const std::uint8_t tag = tag_of(hash);
  for (std::size_t i = slot_of(hash);; i = (i + 1) & (tags_.size() - 1)) {
    if (tags_[i] == 0) return nullptr;  // never erased: an empty slot ends the run
    if (tags_[i] == tag && entry(slots_[i]).hash == hash) return &entry(slots_[i]).location;
  }
}

void TxIndex::prefetch(const TxHash& hash) const {
  if (tags_.empty()) return;
  const std::size_t i = slot_of(hash);
  __builtin_prefetch(&tags_[i]);
  __builtin_prefetch(&slots_[i]);
}

bool TxIndex::insert(const TxHash& hash, const TxLocation& location) {
  TxLocation* claimed = claim(hash);
  if (claimed == nullptr) return false;
  *claimed = location;
  return true;
}

TxLocation* TxIndex::claim(const TxHash& hash) {
  if (2 * (std::size_t{size_} + 1) > tags_.size()) grow();
  const std::uint8_t tag = tag_of(hash);
  for (std::size_t i = slot_of(hash);; i = (i + 1) & (tags_.size() - 1)) {
    if (tags_[i] == 0) {
      SYNOD_ASSERT(size_ < std::numeric_limits<std::uint32_t>::max());
      if (size_ % chunk_entries == 0) chunks_.push_back(std::make_unique<Entry[]>(chunk_entries));
      tags_[i] = tag;
      slots_[i] = size_;
      Entry& added = chunks_.back()[size_++ % chunk_entries];
      added = Entry{hash, {}};
      return &added.location;
    }
    if (tags_[i] == tag && entry(slots_[i]).hash == hash) return nullptr;
  }
}

void TxIndex::grow() {
  const std::size_t count = std::max<std::size_t>(64, 2 * tags_.size());
  tags_.assign(count, 0);
  slots_.assign(count, 0);
  // The entries are distinct: each goes to the first empty slot of its run.
  for (std::uint32_t e = 0; e < size_; ++e) {
    const TxHash& hash = entry(e).hash;
    std::size_t i = slot_of(hash);
    while (tags_[i] != 0) i = (i + 1) & (count - 1);
    tags_[i] = tag_of(hash);
    slots_[i] = e;
  }
}

BalanceSum Ledger::total_balance() const {
  // O(accounts): for checkers and tests, never on the commit path.
  BalanceSum total = 0;
  for (const auto& [key, account] : accounts_) total += account.balance;
  return total;
}

}  // namespace synod
