#include "core/records.h"

#include "core/assert.h"
#include "core/crypto.h"

namespace synod {

std::string_view to_string(RecordError e) {
  switch (e) {
    case RecordError::Truncated: return "truncated";
    case RecordError::BadMagic: return "bad_magic";
    case RecordError::BadVersion: return "bad_version";
    case RecordError::WrongKind: return "wrong_kind";
    case RecordError::TooLarge: return "too_large";
    case RecordError::BadChecksum: return "bad_checksum";
    case RecordError::Malformed: return "malformed";
  }
  return "unknown";
}

namespace {

constexpr std::string_view magic = "SYNR";

Bytes seal(RecordKind kind, const Bytes& payload) {
  SYNOD_ASSERT(payload.size() <= record_payload_bytes_max);
  Bytes out;
  out.reserve(record_overhead_bytes + payload.size());
  put_str(out, magic);
  out.push_back(static_cast<std::uint8_t>(record_version >> 8));
  out.push_back(static_cast<std::uint8_t>(record_version & 0xff));
  const auto k = static_cast<std::uint16_t>(kind);
  out.push_back(static_cast<std::uint8_t>(k >> 8));
  out.push_back(static_cast<std::uint8_t>(k & 0xff));
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  put_bytes(out, payload);
  const Hash32 checksum = sha256(out);
  put_bytes(out, checksum.view());
  SYNOD_ASSERT(out.size() == record_overhead_bytes + payload.size());
  return out;
}

// The payload of a record of `kind`, once every header field and the checksum hold.
std::expected<ByteView, RecordError> open(RecordKind kind, ByteView in) {
  if (in.size() < record_header_bytes) return std::unexpected(RecordError::Truncated);
  if (!std::equal(magic.begin(), magic.end(), in.begin())) return std::unexpected(RecordError::BadMagic);
  if (get_be(in, 4, 2) != record_version) return std::unexpected(RecordError::BadVersion);
  if (get_be(in, 6, 2) != static_cast<std::uint16_t>(kind)) return std::unexpected(RecordError::WrongKind);
  const std::size_t length = get_be(in, 8, 4);
  if (length > record_payload_bytes_max) return std::unexpected(RecordError::TooLarge);
  const std::size_t total = record_overhead_bytes + length;
  if (in.size() < total) return std::unexpected(RecordError::Truncated);
  if (in.size() > total) return std::unexpected(RecordError::Malformed);
  const Hash32 expected = sha256(in.first(record_header_bytes + length));
  if (!std::equal(expected.bytes.begin(), expected.bytes.end(), in.begin() + static_cast<std::ptrdiff_t>(total - 32))) {
    return std::unexpected(RecordError::BadChecksum);
  }
  return in.subspan(record_header_bytes, length);
}

}  // namespace

Bytes seal_safety_record(const SafetyRecord& record) {
  return seal(RecordKind::SafetyRecord, encode_safety_record(record));
}

std::expected<SafetyRecord, RecordError> open_safety_record(ByteView bytes) {
  const auto payload = open(RecordKind::SafetyRecord, bytes);
  if (!payload) return std::unexpected(payload.error());
  auto record = decode_safety_record(*payload);
  if (!record) return std::unexpected(RecordError::Malformed);
  // What SafetyRules maintains: nothing signed lies above voted_round, and every
  // QC voted on is below the round voted in.
  if (record->highest_qc_round > record->voted_round) return std::unexpected(RecordError::Malformed);
  if (record->last_vote && record->last_vote->round > record->voted_round) {
    return std::unexpected(RecordError::Malformed);
  }
  if (record->last_timeout && record->last_timeout->round > record->voted_round) {
    return std::unexpected(RecordError::Malformed);
  }
  return std::move(*record);
}

Bytes seal_block(const Block& block) { return seal(RecordKind::Block, encode_block(block)); }

std::expected<BlockPtr, RecordError> open_block(Digest digest, const ChainId& chain, const ChainParams& params, ByteView bytes) {
  const auto payload = open(RecordKind::Block, bytes);
  if (!payload) return std::unexpected(payload.error());
  auto block = decode_block(digest, chain, params, *payload);
  if (!block) return std::unexpected(RecordError::Malformed);
  return std::move(*block);
}

namespace {
constexpr std::size_t header_payload_bytes = 8 + 8 + 3 * 32;
}  // namespace

BlockHeader header_of(const CommittedBlock& committed) {
  const Block& b = *committed.block;
  return BlockHeader{b.height(), b.round, b.id, b.parent(), committed.outcome.state_root};
}

Bytes seal_block_header(const BlockHeader& header) {
  Bytes payload;
  put_u64(payload, header.height.value);
  put_u64(payload, header.round.value);
  put_bytes(payload, header.id.view());
  put_bytes(payload, header.parent.view());
  put_bytes(payload, header.state_root.view());
  SYNOD_ASSERT(payload.size() == header_payload_bytes);
  return seal(RecordKind::BlockHeader, payload);
}

std::expected<BlockHeader, RecordError> open_block_header(ByteView bytes) {
  const auto payload = open(RecordKind::BlockHeader, bytes);
  if (!payload) return std::unexpected(payload.error());
  if (payload->size() != header_payload_bytes) return std::unexpected(RecordError::Malformed);
  BlockHeader header{Height(get_be(*payload, 0, 8)), Round(get_be(*payload, 8, 8)), {}, {}, {}};
  SYNOD_ASSERT(BlockId::from(payload->subspan(16, 32), header.id));
  SYNOD_ASSERT(BlockId::from(payload->subspan(48, 32), header.parent));
  SYNOD_ASSERT(StateRoot::from(payload->subspan(80, 32), header.state_root));
  // Only genesis sits at height 0 and round 0, and genesis is never pruned.
  if (header.height == Height(0) || header.round == Round(0)) return std::unexpected(RecordError::Malformed);
  return header;
}

Bytes seal_committed_block(const CommittedBlock& committed) {
  return seal(RecordKind::CommittedBlock, encode_committed_block(committed));
}

std::expected<CommittedBlock, RecordError> open_committed_block(Digest digest, const ChainId& chain, const ChainParams& params,
                                                                ByteView bytes) {
  const auto payload = open(RecordKind::CommittedBlock, bytes);
  if (!payload) return std::unexpected(payload.error());
  auto committed = decode_committed_block(digest, chain, params, *payload);
  if (!committed) return std::unexpected(RecordError::Malformed);
  // The QC stored with a block certifies that very block.
  if (committed->qc.block != committed->block->id) return std::unexpected(RecordError::Malformed);
  return std::move(*committed);
}

}  // namespace synod
