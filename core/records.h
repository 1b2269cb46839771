// The checksummed durable form of what stores keep: the safety record, blocks
// and committed blocks. Every store (LMDB, simulated disk) writes these bytes
// and reads them back through open_*, so a torn or flipped record is caught the
// same way everywhere. Pure: bytes in, bytes out; never touches a file.
//
// Layout, all integers big-endian:
//   magic "SYNR" (4) | version u16 | kind u16 | payload length u32 | payload | SHA-256 (32)
// The checksum covers everything before it. The payload is the protobuf
// durable form from core/wire.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string_view>

#include "core/safety_rules.h"
#include "core/store.h"
#include "core/wire.h"

namespace synod {

inline constexpr std::uint16_t record_version = 1;
// A record's payload is never larger than a frame could carry.
inline constexpr std::size_t record_payload_bytes_max = frame_bytes_max;
// Magic, version, kind and length before the payload; the checksum after it.
inline constexpr std::size_t record_header_bytes = 12;
inline constexpr std::size_t record_overhead_bytes = record_header_bytes + 32;

enum class RecordKind : std::uint16_t { SafetyRecord = 1, Block = 2, CommittedBlock = 3, BlockHeader = 4 };

// Why bytes are not a valid record. Closed; docs/storage.md lists them.
enum class RecordError : std::uint8_t {
  Truncated = 1,  // shorter than its header says
  BadMagic,       // not a synod record at all
  BadVersion,     // a record version this synod does not read
  WrongKind,      // a valid record of another kind (a block where a safety record belongs)
  TooLarge,       // the header claims more than record_payload_bytes_max
  BadChecksum,    // the SHA-256 does not match: a flipped or torn write
  Malformed,      // checksum fine but the payload does not decode or is inconsistent, or trailing bytes
};
std::string_view to_string(RecordError e);

Bytes seal_safety_record(const SafetyRecord& record);
std::expected<SafetyRecord, RecordError> open_safety_record(ByteView bytes);

Bytes seal_block(const Block& block);
std::expected<BlockPtr, RecordError> open_block(Digest digest, const ChainId& chain, const ChainParams& params, ByteView bytes);

// What a store keeps of a committed block whose body it pruned: its place in
// the chain, so the kept chain still links back to genesis, and the state
// root after it. Payload: height u64 | round u64 | id | parent | state root.
struct BlockHeader {
  Height height;
  Round round;
  BlockId id;
  BlockId parent;
  StateRoot state_root;
  auto operator<=>(const BlockHeader&) const = default;
};
BlockHeader header_of(const CommittedBlock& committed);

Bytes seal_block_header(const BlockHeader& header);
std::expected<BlockHeader, RecordError> open_block_header(ByteView bytes);

Bytes seal_committed_block(const CommittedBlock& committed);
std::expected<CommittedBlock, RecordError> open_committed_block(Digest digest, const ChainId& chain, const ChainParams& params,
                                                                ByteView bytes);

}  // namespace synod
