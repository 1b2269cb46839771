// The protocol's data: transactions, blocks, certificates and every message a
// replica sends or receives, as plain immutable values. Protobuf (core/wire.h)
// is only their transport form; what is signed or hashed is the fixed-layout
// sign-bytes of core/sign_bytes.h, never a re-encoding.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/types.h"

namespace synod {

// ---- transactions -------------------------------------------------------

struct Transfer {
  PublicKey to;
  std::uint64_t amount = 0;
  auto operator<=>(const Transfer&) const = default;
};

// Stores `value` under `key` in the sender's own namespace.
struct StoreValue {
  Bytes key;
  Bytes value;
  auto operator<=>(const StoreValue&) const = default;
};

struct Transaction {
  PublicKey sender;
  std::uint64_t nonce = 0;  // must equal the sender's account nonce to execute
  std::variant<Transfer, StoreValue> op;
  Signature sig;  // over tx_hash(chain_id, *this), the digest of its sign-bytes
  auto operator<=>(const Transaction&) const = default;
};

// Why a transaction was refused by a mempool or failed in a committed block.
// Closed: every case is named in docs/protocol.md and counted in /metrics.
enum class TxError : std::uint8_t {
  PoolFull = 1,
  BadSignature,
  BadNonce,
  TooLarge,
  Duplicate,
  InsufficientBalance,
  BalanceOverflow,
  AlreadyCommitted,
};
std::string_view to_string(TxError e);

// ---- certificates and blocks --------------------------------------------

struct SignerSig {
  NodeId signer;
  Signature sig;
  auto operator<=>(const SignerSig&) const = default;
};

// A quorum certificate: votes of more than 2/3 of the weight for one block.
struct QuorumCert {
  BlockId block;
  Round round;
  Height height;
  std::vector<SignerSig> votes;  // sorted by signer, no duplicates
  auto operator<=>(const QuorumCert&) const = default;
};

struct TimeoutSig {
  NodeId signer;
  Round high_qc_round;  // the round of the signer's highest QC when it timed out
  Signature sig;
  auto operator<=>(const TimeoutSig&) const = default;
};

// A timeout certificate: timeouts of more than 2/3 of the weight for one round.
struct TimeoutCert {
  Round round;
  std::vector<TimeoutSig> timeouts;  // sorted by signer, no duplicates
  Round high_qc_round() const;       // the highest of the signers' QC rounds
  auto operator<=>(const TimeoutCert&) const = default;
};

struct Block {
  Round round;
  NodeId proposer;
  QuorumCert justify;  // certifies the parent; the parent is justify.block
  std::vector<Transaction> txs;
  BlockId id;          // block_id(chain_id, *this); set by seal()
  // tx_hash of each of txs, in order; set by seal() with the id, which needs
  // them anyway, so that execution, proposal and vote paths never hash again.
  std::vector<TxHash> tx_hashes{};

  // Round 0 is the genesis block alone, at height 0; every other block sits
  // one above the block its justify certifies.
  Height height() const { return round == Round(0) ? Height(0) : justify.height.next(); }
  const BlockId& parent() const { return justify.block; }
  auto operator<=>(const Block&) const = default;
};
using BlockPtr = std::shared_ptr<const Block>;

// ---- consensus messages --------------------------------------------------

struct Proposal {
  BlockPtr block;
  std::optional<TimeoutCert> tc;  // present when the block's round follows a timeout
  Signature sig;                  // the proposer's, over proposal_sign_bytes
};

struct Vote {
  BlockId block;
  Round round;
  Height height;
  NodeId voter;
  Signature sig;  // over vote_sign_bytes
  auto operator<=>(const Vote&) const = default;
};

struct Timeout {
  Round round;
  QuorumCert high_qc;  // the sender's highest QC
  NodeId sender;
  Signature sig;  // over timeout_sign_bytes(round, high_qc.round)
  // TC(round - 1) when the sender entered `round` through it rather than
  // through QC(round - 1): a peer still in an earlier round catches up with
  // it (TimeoutCarriesTc in docs/protocol.md). Not signed: it proves itself.
  std::optional<TimeoutCert> tc = std::nullopt;
};

// "I have committed up to `committed_height`; send me what follows."
struct SyncRequest {
  Height committed_height;
  auto operator<=>(const SyncRequest&) const = default;
};

// A chain of blocks, each certified by the next one's justify and the last by
// `qc`. The first block's parent is a block the requester already holds.
struct SyncResponse {
  std::vector<BlockPtr> blocks;
  std::optional<QuorumCert> qc;
  Height committed_height;  // the responder's, so the requester knows to ask again
};

// Transactions a node accepted from its clients, forwarded to the leaders of
// the next two proposals (docs/protocol.md section 12). Sealed like a block:
// the decoder that read it computed the hashes (in the simulator's object
// mode, the sender did), so admission need not hash each transaction again.
struct TxBatch {
  std::vector<Transaction> txs;
  std::vector<TxHash> tx_hashes;  // tx_hash of each of txs, in order; not on the wire
};

using Message = std::variant<Proposal, Vote, Timeout, SyncRequest, SyncResponse, TxBatch>;
using MessagePtr = std::shared_ptr<const Message>;

std::string_view message_kind(const Message& m);
// One line for logs and golden files: kind, round, short ids.
std::string describe(const Message& m);

// ---- client requests -----------------------------------------------------

struct SubmitTx {
  Transaction tx;
};
struct QueryAccount {
  PublicKey account;
};
struct QueryTx {
  TxHash hash;
};
struct QueryValue {
  PublicKey owner;
  Bytes key;
};

struct ClientRequest {
  std::uint64_t id = 0;  // chosen by the client, echoed in the response
  std::variant<SubmitTx, QueryAccount, QueryTx, QueryValue> body;
};

struct TxAccepted {
  TxHash hash;
};
struct TxRejected {
  TxHash hash;
  TxError reason;
};
struct AccountInfo {
  std::uint64_t balance = 0;
  std::uint64_t nonce = 0;
};
// Where a committed transaction sits, and whether it executed.
struct TxStatus {
  enum class State : std::uint8_t { Unknown, Pending, Committed };
  State state = State::Unknown;
  Height height;
  std::uint32_t index = 0;
  std::optional<TxError> error;  // set when it committed but failed
};
struct ValueInfo {
  std::optional<Bytes> value;
};

struct ClientResponse {
  std::uint64_t id = 0;
  std::variant<TxAccepted, TxRejected, AccountInfo, TxStatus, ValueInfo> body;
};

}  // namespace synod
