// The validator set and chain parameters fixed at genesis, the stake-weighted
// quorum arithmetic, and the deterministic weighted leader schedule.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/types.h"

namespace synod {

struct Validator {
  PublicKey key;
  Weight weight;
  std::string address;
  std::string description;
};

struct Allocation {
  PublicKey account;
  std::uint64_t balance = 0;
};

// Chain-wide limits: every honest node must agree on them, so they live in the
// genesis and are covered by the chain id.
struct ChainParams {
  std::uint32_t block_txs_max = 1000;
  std::uint64_t block_bytes_max = 1u << 20;
  std::uint32_t tx_bytes_max = 4096;
  std::uint32_t value_bytes_max = 1024;
  std::uint32_t key_bytes_max = 64;
  bool operator==(const ChainParams&) const = default;
};

struct Genesis {
  std::string chain_name;
  std::vector<Validator> validators;
  std::vector<Allocation> allocations;
  ChainParams params;

  // SHA-256 of the canonical encoding: in every signature and handshake.
  ChainId chain_id() const;
};

// Weights are bounded so that 3 * total never overflows 64 bits.
inline constexpr std::uint64_t total_weight_max = std::uint64_t{1} << 60;

class Roster {
 public:
  explicit Roster(std::vector<Validator> validators);

  std::size_t size() const { return validators_.size(); }
  bool contains(NodeId id) const { return id.value < validators_.size(); }
  const Validator& at(NodeId id) const;
  Weight weight(NodeId id) const { return at(id).weight; }
  Weight total() const { return total_; }
  std::optional<NodeId> find(const PublicKey& key) const;

  // More than 2/3 of the total weight: any two quorums share more than 1/3,
  // so at least one honest validator while Byzantine weight stays below 1/3.
  bool is_quorum(Weight w) const { return 3 * w.value > 2 * total_.value; }
  // More than 1/3: at least one honest validator is among the signers.
  bool exceeds_one_third(Weight w) const { return 3 * w.value > total_.value; }

  // Leader(round), the same on every node (docs/protocol.md section 2): each
  // epoch of n rounds takes n evenly spaced points on the weight line from a
  // seeded offset (the chain's digest of the chain id and the epoch). A
  // validator with twice the weight leads about twice as often, and one with
  // at most 1/n of the weight never leads more than two rounds in a row.
  NodeId leader(Digest digest, const ChainId& chain, Round round) const;
  // The leaders of the n rounds of `epoch` (rounds epoch * n to epoch * n + n - 1),
  // in round order: one digest for all of them.
  std::vector<NodeId> epoch_leaders(Digest digest, const ChainId& chain, std::uint64_t epoch) const;

 private:
  std::vector<Validator> validators_;
  Weight total_;
};

}  // namespace synod
