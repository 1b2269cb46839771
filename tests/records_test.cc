// The checksummed durable records (core/records.h): round trips, and every
// RecordError on the bytes that cause it.
#include <gtest/gtest.h>

#include "core/records.h"
#include "tests/store_test_util.h"

namespace synod {
namespace {

SafetyRecord full_record() {
  SafetyRecord r = record_at(9);
  r.last_tc = TimeoutCert{Round(8), {TimeoutSig{NodeId(2), Round(6), Signature{}}}};
  r.last_timeout = Timeout{Round(9), QuorumCert{BlockId{}, Round(7), Height(7), {SignerSig{NodeId(1), Signature{}}}},
                           NodeId(0), Signature{}, r.last_tc};
  return r;
}

TEST(Records, ASafetyRecordRoundTripsWithEveryField) {
  const SafetyRecord r = full_record();
  auto back = open_safety_record(seal_safety_record(r));
  ASSERT_TRUE(back.has_value()) << to_string(back.error());
  EXPECT_EQ(record_bytes(*back), record_bytes(r));
  EXPECT_EQ(back->last_tc, r.last_tc);
  EXPECT_EQ(back->last_timeout->high_qc, r.last_timeout->high_qc);
  EXPECT_EQ(back->last_timeout->tc, r.last_tc);
}

TEST(Records, BlocksAndCommittedBlocksRoundTrip) {
  const Genesis g = storage_genesis();
  ChainBuilder chain(g);
  const CommittedBlock c = chain.next(7);
  auto block = open_block(sha256, chain.chain(), g.params, seal_block(*c.block));
  ASSERT_TRUE(block.has_value());
  EXPECT_EQ(**block, *c.block);
  auto committed = open_committed_block(sha256, chain.chain(), g.params, seal_committed_block(c));
  ASSERT_TRUE(committed.has_value());
  EXPECT_EQ(*committed->block, *c.block);
  EXPECT_EQ(committed->qc, c.qc);
  EXPECT_EQ(committed->outcome.state_root, c.outcome.state_root);
}

TEST(Records, EachDefectHasItsError) {
  const Bytes good = seal_safety_record(full_record());
  const auto error_of = [](Bytes bytes) { return open_safety_record(bytes).error(); };

  EXPECT_EQ(error_of(Bytes(good.begin(), good.begin() + 5)), RecordError::Truncated);
  EXPECT_EQ(error_of(Bytes(good.begin(), good.end() - 1)), RecordError::Truncated);
  Bytes b = good;
  b[0] = 'X';
  EXPECT_EQ(error_of(b), RecordError::BadMagic);
  b = good;
  b[5] = 2;
  EXPECT_EQ(error_of(b), RecordError::BadVersion);
  EXPECT_EQ(open_safety_record(seal_block(*ChainBuilder(storage_genesis()).uncommitted())).error(),
            RecordError::WrongKind);
  b = good;
  b[8] = 0x7f;  // a length far above record_payload_bytes_max
  EXPECT_EQ(error_of(b), RecordError::TooLarge);
  b = good;
  b[record_header_bytes + 3] ^= 0x10;
  EXPECT_EQ(error_of(b), RecordError::BadChecksum);
  b = good;
  b.push_back(0);
  EXPECT_EQ(error_of(b), RecordError::Malformed);
}

TEST(Records, APayloadLengthAtTheLimitIsReadAndOneMoreIsRefused) {
  Bytes header(record_header_bytes, 0);
  std::copy_n("SYNR", 4, header.begin());
  header[5] = record_version;
  header[7] = static_cast<std::uint8_t>(RecordKind::SafetyRecord);
  const auto with_length = [&](std::uint64_t length) {
    Bytes h = header;
    for (int i = 0; i < 4; ++i) h[8 + i] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
    return open_safety_record(h).error();
  };
  EXPECT_EQ(with_length(record_payload_bytes_max), RecordError::Truncated);  // believed, then found short
  EXPECT_EQ(with_length(record_payload_bytes_max + 1), RecordError::TooLarge);
}

TEST(Records, AValidChecksumOverGarbageIsMalformed) {
  Bytes bytes;
  put_str(bytes, "SYNR");
  bytes.insert(bytes.end(), {0, record_version, 0, static_cast<std::uint8_t>(RecordKind::SafetyRecord)});
  put_u32(bytes, 3);
  bytes.insert(bytes.end(), {0xff, 0xff, 0xff});
  put_bytes(bytes, sha256(bytes).view());
  EXPECT_EQ(open_safety_record(bytes).error(), RecordError::Malformed);
}

TEST(Records, NoSingleBitFlipGoesUnnoticed) {
  const Bytes good = seal_safety_record(full_record());
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = good;
      b[i] ^= static_cast<std::uint8_t>(1 << bit);
      EXPECT_FALSE(open_safety_record(b).has_value()) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(Records, ARecordThatContradictsItselfIsMalformed) {
  SafetyRecord r = record_at(4);
  r.last_vote->round = Round(5);  // a vote above voted_round: SafetyRules never writes this
  EXPECT_EQ(open_safety_record(seal_safety_record(r)).error(), RecordError::Malformed);
}

}  // namespace
}  // namespace synod
