// The transport codec: core/messages.h values to and from protobuf bytes
// (core/proto/synod.proto). It owns every structural check on untrusted input:
// the frame size, each fixed length (keys, hashes, signatures), required
// fields, enum ranges, and the chain's limits (ChainParams) plus the codec's own
// caps below. Decoded blocks come back sealed, their id recomputed from their
// contents, because the id is never sent. The codec never verifies a signature
// (the replica does, against the roster) and never sees the generated protobuf
// types: only wire.cc includes the generated synod.pb.h, so including this header stays cheap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <iosfwd>
#include <string_view>

#include "core/messages.h"
#include "core/roster.h"
#include "core/safety_rules.h"
#include "core/store.h"

namespace synod {

// Checked before parsing, so that a peer cannot make us parse an arbitrarily
// large buffer. A sync responder must keep its response under this size too
// (sync_blocks_max full blocks may not fit: it sends fewer).
inline constexpr std::size_t frame_bytes_max = std::size_t{16} << 20;
// Signatures in one QC or TC. Far above any roster we run; it bounds the work a
// single certificate can ask of us before the roster is even consulted.
inline constexpr std::size_t certificate_signers_max = 1024;
// Blocks in one sync response; the requester asks again for the rest.
inline constexpr std::size_t sync_blocks_max = 64;

// Why a frame was refused. Closed: each case is counted in /metrics under the
// name to_string() gives.
enum class DecodeError : std::uint8_t {
  Malformed = 1,      // protobuf parse failed (truncated, bad wire type, ...)
  FrameTooLarge,      // more than frame_bytes_max, refused before parsing
  BadLength,          // a key, hash or block id not 32 bytes, a signature not 64
  MissingField,       // an empty oneof, a proposal without a block, a block without justify, ...
  TooManyTxs,         // a block or batch with more than block_txs_max transactions
  BlockTooLarge,      // the sum of tx_size_bytes over a block above block_bytes_max
  TxTooLarge,         // one transaction's tx_size_bytes above tx_bytes_max
  KeyTooLarge,        // a stored key above key_bytes_max
  ValueTooLarge,      // a stored value above value_bytes_max
  TooManySignatures,  // a certificate with more than certificate_signers_max signatures
  TooManyBlocks,      // a sync response with more than sync_blocks_max blocks
  BadEnum,            // a reason or state code outside its enum
};
std::string_view to_string(DecodeError e);
std::ostream& operator<<(std::ostream& os, DecodeError e);

Bytes encode(const Message& message);
Bytes encode(const ClientRequest& request);
Bytes encode(const ClientResponse& response);

// `digest` and `chain` seal decoded blocks (core/sign_bytes.h) and TxBatches
// (their transactions' hashes, which admission takes); `params` are
// the limits every honest node of that chain enforces. A TxBatch is bounded
// like a block's transactions, since a node forwards no more than a leader
// could propose at once.
std::expected<Message, DecodeError> decode_message(Digest digest, const ChainId& chain, const ChainParams& params,
                                                   ByteView frame);
std::expected<ClientRequest, DecodeError> decode_client_request(const ChainId& chain,
                                                                const ChainParams& params,
                                                                ByteView frame);
// Responses carry no blocks; `chain` is taken only so all three read alike.
std::expected<ClientResponse, DecodeError> decode_client_response(const ChainId& chain,
                                                                  const ChainParams& params,
                                                                  ByteView frame);

// ---- durable forms ----------------------------------------------------------
// The payloads that core/records.h wraps in a checksummed envelope: protobuf,
// like the transport, but read back from our own disk. Decoding applies the
// same structural checks as for a frame (lengths, the chain's limits, at most
// frame_bytes_max bytes); blocks come back sealed. Never sent to a peer.
Bytes encode_safety_record(const SafetyRecord& record);
std::expected<SafetyRecord, DecodeError> decode_safety_record(ByteView bytes);
Bytes encode_block(const Block& block);
std::expected<BlockPtr, DecodeError> decode_block(Digest digest, const ChainId& chain, const ChainParams& params,
                                                  ByteView bytes);
Bytes encode_committed_block(const CommittedBlock& committed);
std::expected<CommittedBlock, DecodeError> decode_committed_block(Digest digest, const ChainId& chain,
                                                                  const ChainParams& params,
                                                                  ByteView bytes);

}  // namespace synod
