// The exact bytes that are signed or hashed. Each is domain-separated
// ("synod/<kind>/v1"), includes the chain id, and has a fixed layout of
// big-endian integers and length-prefixed variable fields, so that no two
// different meanings can share one signature. Changing a layout is a protocol
// version change (docs/protocol.md, "Sign-bytes").
#pragma once

#include <array>
#include <string_view>

#include "core/crypto.h"
#include "core/messages.h"

namespace synod {

// The digest of the transaction's sign-bytes (domain synod/tx/v1,
// docs/protocol.md section 4); hashes take the chain's Digest (core/crypto.h): sha256 on
// every real chain.
TxHash tx_hash(Digest digest, const ChainId& chain, const Transaction& tx);
// The same, building the sign-bytes in `scratch`: for hot paths that reuse one buffer.
TxHash tx_hash(Digest digest, const ChainId& chain, const Transaction& tx, Bytes& scratch);
// What a transaction's signature covers: `u32 len || "synod/tx-sig/v1" ||
// tx_hash`, not the sign-bytes. Every node hashes a transaction on entry
// anyway, so verifying reads 51 bytes however large the transaction; the
// domain keeps a signature over some other 32-byte value (a key that is also
// an account's may sign one elsewhere) from passing for a transaction's.
inline constexpr std::string_view tx_sig_domain = "synod/tx-sig/v1";
using TxSigBytes = std::array<std::uint8_t, 4 + tx_sig_domain.size() + TxHash::size>;
TxSigBytes tx_sig_bytes(const TxHash& hash);
// Signs `tx` in place with `key` (the sender's) for `chain`; returns its hash.
// What every client does: the load generator, `synod tx`, the simulator's
// clients and the tests.
TxHash sign_tx(const SignatureScheme& scheme, const ChainId& chain, const KeyPair& key, Transaction& tx, Bytes& scratch);
TxHash sign_tx(const SignatureScheme& scheme, const ChainId& chain, const KeyPair& key, Transaction& tx);
std::vector<TxHash> tx_hashes(Digest digest, const ChainId& chain, const std::vector<Transaction>& txs);
std::size_t tx_size_bytes(const Transaction& tx);

// Recomputes every transaction hash: what checks a block's integrity uses.
BlockId block_id(Digest digest, const ChainId& chain, const Block& block);
// Always SHA-256: the genesis block is never hashed from its contents, and
// stores keep its id next to the chain id.
BlockId genesis_block_id(const ChainId& chain);
// Computes and stores the block's transaction hashes and id; blocks are
// immutable afterwards.
BlockPtr seal(Digest digest, const ChainId& chain, Block block);
// The same with the transaction hashes already known (a mempool computed them
// on entry): `hashes` must be tx_hash of each of block.txs.
BlockPtr seal(Digest digest, const ChainId& chain, Block block, std::vector<TxHash> hashes);

// What proposals, votes and timeouts sign: fixed layouts, built on the stack
// (docs/protocol.md section 4).
inline constexpr std::string_view proposal_domain = "synod/proposal/v1";
inline constexpr std::string_view vote_domain = "synod/vote/v1";
inline constexpr std::string_view timeout_domain = "synod/timeout/v1";
using ProposalSignBytes = std::array<std::uint8_t, 4 + proposal_domain.size() + ChainId::size + BlockId::size>;
using VoteSignBytes = std::array<std::uint8_t, 4 + vote_domain.size() + ChainId::size + 8 + 8 + BlockId::size>;
using TimeoutSignBytes = std::array<std::uint8_t, 4 + timeout_domain.size() + ChainId::size + 8 + 8>;
ProposalSignBytes proposal_sign_bytes(const ChainId& chain, const BlockId& block);
VoteSignBytes vote_sign_bytes(const ChainId& chain, const BlockId& block, Round round, Height height);
TimeoutSignBytes timeout_sign_bytes(const ChainId& chain, Round round, Round high_qc_round);

}  // namespace synod
