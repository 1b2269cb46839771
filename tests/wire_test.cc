// The transport codec (core/wire.h): round-trip properties for every message,
// request and response, and a table of hand-made bad frames, one or more per
// DecodeError, each refused with its reason. Bad frames are spelled out with a
// tiny protobuf writer below rather than produced by the codec under test, so
// the table also pins the wire layout of synod.proto.
#include "core/wire.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <initializer_list>
#include <set>
#include <string_view>

#include "core/crypto.h"
#include "core/sign_bytes.h"

namespace synod {
namespace {

const ChainId& test_chain() {
  static const ChainId chain = sha256(as_bytes("synod/wire-test"));
  return chain;
}

const ChainParams default_params{};

// ---- generators --------------------------------------------------------------
// Sizes stay within default_params so that every generated value is valid; the
// limits themselves are exercised by the bad-frame table.

template <class Fixed>
rc::Gen<Fixed> gen_fixed() {
  return rc::gen::map(rc::gen::arbitrary<std::array<std::uint8_t, Fixed::size>>(),
                      [](const std::array<std::uint8_t, Fixed::size>& a) {
                        Fixed f;
                        f.bytes = a;
                        return f;
                      });
}

rc::Gen<Bytes> gen_bytes(std::size_t bytes_max) {
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, bytes_max + 1), [](std::size_t n) {
    return rc::gen::container<Bytes>(n, rc::gen::arbitrary<std::uint8_t>());
  });
}

template <class Q>
rc::Gen<Q> gen_quantity() {
  return rc::gen::construct<Q>(rc::gen::arbitrary<decltype(Q{}.value)>());
}

rc::Gen<Transaction> gen_tx() {
  return rc::gen::exec([] {
    Transaction tx;
    tx.sender = *gen_fixed<PublicKey>();
    tx.nonce = *rc::gen::arbitrary<std::uint64_t>();
    if (*rc::gen::arbitrary<bool>()) {
      tx.op = Transfer{*gen_fixed<PublicKey>(), *rc::gen::arbitrary<std::uint64_t>()};
    } else {
      tx.op = StoreValue{*gen_bytes(default_params.key_bytes_max),
                         *gen_bytes(default_params.value_bytes_max)};
    }
    tx.sig = *gen_fixed<Signature>();
    return tx;
  });
}

rc::Gen<std::vector<Transaction>> gen_txs(std::size_t count_max) {
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, count_max + 1), [](std::size_t n) {
    return rc::gen::container<std::vector<Transaction>>(n, gen_tx());
  });
}

rc::Gen<QuorumCert> gen_qc() {
  return rc::gen::exec([] {
    QuorumCert qc;
    qc.block = *gen_fixed<BlockId>();
    qc.round = *gen_quantity<Round>();
    qc.height = *gen_quantity<Height>();
    const auto n = *rc::gen::inRange<std::size_t>(0, 11);
    for (std::size_t i = 0; i < n; ++i) {
      qc.votes.push_back(SignerSig{*gen_quantity<NodeId>(), *gen_fixed<Signature>()});
    }
    return qc;
  });
}

rc::Gen<TimeoutCert> gen_tc() {
  return rc::gen::exec([] {
    TimeoutCert tc;
    tc.round = *gen_quantity<Round>();
    const auto n = *rc::gen::inRange<std::size_t>(0, 11);
    for (std::size_t i = 0; i < n; ++i) {
      tc.timeouts.push_back(
          TimeoutSig{*gen_quantity<NodeId>(), *gen_quantity<Round>(), *gen_fixed<Signature>()});
    }
    return tc;
  });
}

// Sealed, as every block a replica holds is.
rc::Gen<BlockPtr> gen_block() {
  return rc::gen::exec([] {
    Block b;
    b.round = *gen_quantity<Round>();
    b.proposer = *gen_quantity<NodeId>();
    b.justify = *gen_qc();
    b.txs = *gen_txs(6);
    return seal(sha256, test_chain(), std::move(b));
  });
}

rc::Gen<Proposal> gen_proposal() {
  return rc::gen::exec([] {
    Proposal p;
    p.block = *gen_block();
    if (*rc::gen::arbitrary<bool>()) p.tc = *gen_tc();
    p.sig = *gen_fixed<Signature>();
    return p;
  });
}

rc::Gen<Vote> gen_vote() {
  return rc::gen::exec([] {
    return Vote{*gen_fixed<BlockId>(), *gen_quantity<Round>(), *gen_quantity<Height>(),
                *gen_quantity<NodeId>(), *gen_fixed<Signature>()};
  });
}

rc::Gen<Timeout> gen_timeout() {
  return rc::gen::exec([] {
    return Timeout{*gen_quantity<Round>(), *gen_qc(), *gen_quantity<NodeId>(), *gen_fixed<Signature>()};
  });
}

rc::Gen<SyncRequest> gen_sync_request() {
  return rc::gen::map(gen_quantity<Height>(), [](Height h) { return SyncRequest{h}; });
}

rc::Gen<SyncResponse> gen_sync_response() {
  return rc::gen::exec([] {
    SyncResponse s;
    const auto n = *rc::gen::inRange<std::size_t>(0, 5);
    for (std::size_t i = 0; i < n; ++i) s.blocks.push_back(*gen_block());
    if (*rc::gen::arbitrary<bool>()) s.qc = *gen_qc();
    s.committed_height = *gen_quantity<Height>();
    return s;
  });
}

rc::Gen<TxBatch> gen_tx_batch() {
  return rc::gen::exec([] {
    std::vector<Transaction> txs = *gen_txs(12);
    std::vector<TxHash> hashes = tx_hashes(sha256, test_chain(), txs);
    return TxBatch{std::move(txs), std::move(hashes)};
  });
}

rc::Gen<Message> gen_message() {
  return rc::gen::oneOf(rc::gen::cast<Message>(gen_proposal()), rc::gen::cast<Message>(gen_vote()),
                        rc::gen::cast<Message>(gen_timeout()),
                        rc::gen::cast<Message>(gen_sync_request()),
                        rc::gen::cast<Message>(gen_sync_response()),
                        rc::gen::cast<Message>(gen_tx_batch()));
}

rc::Gen<TxError> gen_tx_error() {
  return rc::gen::element(TxError::PoolFull, TxError::BadSignature, TxError::BadNonce,
                          TxError::TooLarge, TxError::Duplicate, TxError::InsufficientBalance,
                          TxError::BalanceOverflow, TxError::AlreadyCommitted);
}

rc::Gen<ClientRequest> gen_client_request() {
  return rc::gen::exec([] {
    ClientRequest r;
    r.id = *rc::gen::arbitrary<std::uint64_t>();
    switch (*rc::gen::inRange(0, 4)) {
      case 0: r.body = SubmitTx{*gen_tx()}; break;
      case 1: r.body = QueryAccount{*gen_fixed<PublicKey>()}; break;
      case 2: r.body = QueryTx{*gen_fixed<TxHash>()}; break;
      default:
        r.body = QueryValue{*gen_fixed<PublicKey>(), *gen_bytes(default_params.key_bytes_max)};
        break;
    }
    return r;
  });
}

rc::Gen<ClientResponse> gen_client_response() {
  return rc::gen::exec([] {
    ClientResponse r;
    r.id = *rc::gen::arbitrary<std::uint64_t>();
    switch (*rc::gen::inRange(0, 5)) {
      case 0: r.body = TxAccepted{*gen_fixed<TxHash>()}; break;
      case 1: r.body = TxRejected{*gen_fixed<TxHash>(), *gen_tx_error()}; break;
      case 2:
        r.body = AccountInfo{*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint64_t>()};
        break;
      case 3: {
        TxStatus s;
        s.state = *rc::gen::element(TxStatus::State::Unknown, TxStatus::State::Pending,
                                    TxStatus::State::Committed);
        s.height = *gen_quantity<Height>();
        s.index = *rc::gen::arbitrary<std::uint32_t>();
        if (*rc::gen::arbitrary<bool>()) s.error = *gen_tx_error();
        r.body = s;
        break;
      }
      default: {
        ValueInfo v;
        if (*rc::gen::arbitrary<bool>()) v.value = *gen_bytes(default_params.value_bytes_max);
        r.body = std::move(v);
        break;
      }
    }
    return r;
  });
}

// ---- equality ------------------------------------------------------------------
// Not every message type has operator== (Proposal holds a pointer), so the
// tests compare by value here. Overloads come before the variant template so
// that its unqualified call finds them.

bool same(const BlockPtr& a, const BlockPtr& b) { return a && b && *a == *b; }
bool same(const Proposal& a, const Proposal& b) {
  return same(a.block, b.block) && a.tc == b.tc && a.sig == b.sig;
}
bool same(const Vote& a, const Vote& b) { return a == b; }
bool same(const Timeout& a, const Timeout& b) {
  return a.round == b.round && a.high_qc == b.high_qc && a.sender == b.sender && a.sig == b.sig;
}
bool same(const SyncRequest& a, const SyncRequest& b) { return a == b; }
bool same(const SyncResponse& a, const SyncResponse& b) {
  if (a.blocks.size() != b.blocks.size()) return false;
  for (std::size_t i = 0; i < a.blocks.size(); ++i) {
    if (!same(a.blocks[i], b.blocks[i])) return false;
  }
  return a.qc == b.qc && a.committed_height == b.committed_height;
}
// The decoder seals it: the hashes it computed must be the sender's.
bool same(const TxBatch& a, const TxBatch& b) { return a.txs == b.txs && a.tx_hashes == b.tx_hashes; }
bool same(const SubmitTx& a, const SubmitTx& b) { return a.tx == b.tx; }
bool same(const QueryAccount& a, const QueryAccount& b) { return a.account == b.account; }
bool same(const QueryTx& a, const QueryTx& b) { return a.hash == b.hash; }
bool same(const QueryValue& a, const QueryValue& b) { return a.owner == b.owner && a.key == b.key; }
bool same(const TxAccepted& a, const TxAccepted& b) { return a.hash == b.hash; }
bool same(const TxRejected& a, const TxRejected& b) { return a.hash == b.hash && a.reason == b.reason; }
bool same(const AccountInfo& a, const AccountInfo& b) {
  return a.balance == b.balance && a.nonce == b.nonce;
}
bool same(const TxStatus& a, const TxStatus& b) {
  return a.state == b.state && a.height == b.height && a.index == b.index && a.error == b.error;
}
bool same(const ValueInfo& a, const ValueInfo& b) { return a.value == b.value; }

template <class... Ts>
bool same(const std::variant<Ts...>& a, const std::variant<Ts...>& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&b](const auto& x) { return same(x, std::get<std::decay_t<decltype(x)>>(b)); }, a);
}
bool same(const ClientRequest& a, const ClientRequest& b) { return a.id == b.id && same(a.body, b.body); }
bool same(const ClientResponse& a, const ClientResponse& b) {
  return a.id == b.id && same(a.body, b.body);
}

// ---- round trips ---------------------------------------------------------------

// decode(encode(m)) == m, and re-encoding the decoded value gives the same bytes.
void check_message_round_trip(const Message& m) {
  const Bytes frame = encode(m);
  const auto back = decode_message(sha256, test_chain(), default_params, frame);
  if (!back) RC_FAIL(std::string("refused: ") + std::string(to_string(back.error())));
  RC_ASSERT(same(m, *back));
  RC_ASSERT(encode(*back) == frame);
}

RC_GTEST_PROP(WireRoundTrip, Proposal, ()) { check_message_round_trip(*gen_proposal()); }
RC_GTEST_PROP(WireRoundTrip, Vote, ()) { check_message_round_trip(*gen_vote()); }
RC_GTEST_PROP(WireRoundTrip, Timeout, ()) { check_message_round_trip(*gen_timeout()); }
RC_GTEST_PROP(WireRoundTrip, SyncRequest, ()) { check_message_round_trip(*gen_sync_request()); }
RC_GTEST_PROP(WireRoundTrip, SyncResponse, ()) { check_message_round_trip(*gen_sync_response()); }
RC_GTEST_PROP(WireRoundTrip, TxBatch, ()) { check_message_round_trip(*gen_tx_batch()); }
RC_GTEST_PROP(WireRoundTrip, AnyMessage, ()) { check_message_round_trip(*gen_message()); }

RC_GTEST_PROP(WireRoundTrip, ClientRequest, ()) {
  const ClientRequest r = *gen_client_request();
  const Bytes frame = encode(r);
  const auto back = decode_client_request(test_chain(), default_params, frame);
  if (!back) RC_FAIL(std::string("refused: ") + std::string(to_string(back.error())));
  RC_ASSERT(same(r, *back));
  RC_ASSERT(encode(*back) == frame);
}

RC_GTEST_PROP(WireRoundTrip, ClientResponse, ()) {
  const ClientResponse r = *gen_client_response();
  const Bytes frame = encode(r);
  const auto back = decode_client_response(test_chain(), default_params, frame);
  if (!back) RC_FAIL(std::string("refused: ") + std::string(to_string(back.error())));
  RC_ASSERT(same(r, *back));
  RC_ASSERT(encode(*back) == frame);
}

// Untrusted bytes: whatever arrives, decoding returns a value or a reason.
RC_GTEST_PROP(WireDecode, ArbitraryBytesNeverCrash, ()) {
  const Bytes frame = *gen_bytes(512);
  (void)decode_message(sha256, test_chain(), default_params, frame);
  (void)decode_client_request(test_chain(), default_params, frame);
  (void)decode_client_response(test_chain(), default_params, frame);
}

// Flipping one byte of a valid frame must never crash the decoder, and when
// the result decodes, it is a well-formed value that encodes again.
RC_GTEST_PROP(WireDecode, MutatedFramesNeverCrash, ()) {
  Bytes frame = encode(*gen_message());
  RC_PRE(!frame.empty());
  const auto at = *rc::gen::inRange<std::size_t>(0, frame.size());
  frame[at] ^= *rc::gen::inRange<int>(1, 256);
  const auto back = decode_message(sha256, test_chain(), default_params, frame);
  if (back) (void)encode(*back);
}

// A vote's fields are all required, so no strict prefix of its frame decodes.
RC_GTEST_PROP(WireDecode, EveryStrictPrefixOfAVoteIsRefused, ()) {
  const Bytes frame = encode(Message{*gen_vote()});
  const auto cut = *rc::gen::inRange<std::size_t>(0, frame.size());
  const auto back = decode_message(sha256, test_chain(), default_params, ByteView(frame).first(cut));
  RC_ASSERT(!back.has_value());
}

// The block id is not on the wire: the receiver seals with its own chain id.
TEST(WireDecode, BlockIdIsRecomputedUnderTheReceiversChain) {
  Block b;
  b.round = Round(5);
  b.justify.round = Round(4);
  b.justify.height = Height(3);
  const Proposal p{seal(sha256, test_chain(), b), std::nullopt, Signature{}};
  const Bytes frame = encode(Message{p});

  const auto same_chain = decode_message(sha256, test_chain(), default_params, frame);
  ASSERT_TRUE(same_chain.has_value());
  EXPECT_EQ(std::get<Proposal>(*same_chain).block->id, p.block->id);

  const ChainId other = sha256(as_bytes("another chain"));
  const auto other_chain = decode_message(sha256, other, default_params, frame);
  ASSERT_TRUE(other_chain.has_value());
  EXPECT_EQ(std::get<Proposal>(*other_chain).block->id, block_id(sha256, other, b));
  EXPECT_NE(std::get<Proposal>(*other_chain).block->id, p.block->id);
}

// ---- a minimal protobuf writer -----------------------------------------------------

Bytes varint(std::uint64_t v) {
  Bytes out;
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Field `n` as a varint (wire type 0).
Bytes u64_field(std::uint32_t n, std::uint64_t v) { return cat({varint(n << 3 | 0), varint(v)}); }
// Field `n` as length-delimited bytes or sub-message (wire type 2).
Bytes len_field(std::uint32_t n, const Bytes& payload) {
  return cat({varint(n << 3 | 2), varint(payload.size()), payload});
}
Bytes filled(std::size_t n) { return Bytes(n, 0xab); }

Bytes repeat(const Bytes& element, std::size_t times) {
  Bytes out;
  out.reserve(element.size() * times);
  for (std::size_t i = 0; i < times; ++i) out.insert(out.end(), element.begin(), element.end());
  return out;
}

// Field numbers follow core/proto/synod.proto.
struct Raw {
  static Bytes transfer_tx(std::size_t sender_bytes = 32, std::size_t to_bytes = 32,
                           std::size_t sig_bytes = 64) {
    return cat({len_field(1, filled(sender_bytes)), u64_field(2, 7),
                len_field(3, cat({len_field(1, filled(to_bytes)), u64_field(2, 100)})),
                len_field(5, filled(sig_bytes))});
  }
  static Bytes store_tx(std::size_t key_bytes, std::size_t value_bytes) {
    return cat({len_field(1, filled(32)), u64_field(2, 7),
                len_field(4, cat({len_field(1, filled(key_bytes)), len_field(2, filled(value_bytes))})),
                len_field(5, filled(64))});
  }
  static Bytes tx_without_op() {
    return cat({len_field(1, filled(32)), u64_field(2, 7), len_field(5, filled(64))});
  }
  static Bytes signer_sig(std::size_t sig_bytes = 64) {
    return cat({u64_field(1, 2), len_field(2, filled(sig_bytes))});
  }
  static Bytes qc(std::size_t block_bytes = 32, std::size_t votes = 3, std::size_t sig_bytes = 64) {
    return cat({len_field(1, filled(block_bytes)), u64_field(2, 4), u64_field(3, 3),
                repeat(len_field(4, signer_sig(sig_bytes)), votes)});
  }
  static Bytes tc(std::size_t timeouts = 3) {
    const Bytes t = cat({u64_field(1, 1), u64_field(2, 3), len_field(3, filled(64))});
    return cat({u64_field(1, 5), repeat(len_field(2, t), timeouts)});
  }
  // A block carrying `txs` (each already a Transaction encoding).
  static Bytes block(const Bytes& txs_fields, bool with_justify = true) {
    return cat({u64_field(1, 5), u64_field(2, 1), with_justify ? len_field(3, qc()) : Bytes{},
                txs_fields});
  }
  static Bytes txs(const Bytes& tx, std::size_t count) { return repeat(len_field(4, tx), count); }
  static Bytes proposal(const Bytes& block_fields, bool with_block = true) {
    return len_field(1, cat({with_block ? len_field(1, block_fields) : Bytes{},
                             len_field(2, tc()), len_field(3, filled(64))}));
  }
  static Bytes vote(std::size_t block_bytes = 32, std::size_t sig_bytes = 64) {
    return len_field(2, cat({len_field(1, filled(block_bytes)), u64_field(2, 5), u64_field(3, 4),
                             u64_field(4, 1), len_field(5, filled(sig_bytes))}));
  }
  static Bytes timeout(const Bytes& qc_fields, bool with_qc = true) {
    return len_field(3, cat({u64_field(1, 6), with_qc ? len_field(2, qc_fields) : Bytes{},
                             u64_field(3, 1), len_field(4, filled(64))}));
  }
  static Bytes sync_response(std::size_t blocks) {
    return len_field(5, cat({repeat(len_field(1, block({})), blocks), len_field(2, qc()),
                             u64_field(3, 9)}));
  }
  // sync_blocks_max blocks of block_txs_max transfers, each certificate at
  // certificate_signers_max: what the pre-scan's budget must still admit.
  static Bytes full_sync_response() {
    const ChainParams params;
    const Bytes full_block = cat({u64_field(1, 5), u64_field(2, 1),
                                  len_field(3, qc(32, certificate_signers_max)),
                                  txs(transfer_tx(), params.block_txs_max)});
    return len_field(5, cat({repeat(len_field(1, full_block), sync_blocks_max),
                             len_field(2, qc(32, certificate_signers_max)), u64_field(3, 9)}));
  }
  static Bytes tx_batch(const Bytes& tx, std::size_t count) {
    return len_field(6, repeat(len_field(1, tx), count));
  }
  // Client requests.
  static Bytes submit(const Bytes& tx_fields, bool with_tx = true) {
    return cat({u64_field(1, 42), len_field(2, with_tx ? len_field(1, tx_fields) : Bytes{})});
  }
  static Bytes query_account(std::size_t key_bytes) {
    return cat({u64_field(1, 42), len_field(3, len_field(1, filled(key_bytes)))});
  }
  static Bytes query_tx(std::size_t hash_bytes) {
    return cat({u64_field(1, 42), len_field(4, len_field(1, filled(hash_bytes)))});
  }
  static Bytes query_value(std::size_t owner_bytes, std::size_t key_bytes) {
    return cat({u64_field(1, 42),
                len_field(5, cat({len_field(1, filled(owner_bytes)), len_field(2, filled(key_bytes))}))});
  }
  // Client responses.
  static Bytes accepted(std::size_t hash_bytes) {
    return cat({u64_field(1, 42), len_field(2, len_field(1, filled(hash_bytes)))});
  }
  static Bytes rejected(std::uint64_t reason) {
    return cat({u64_field(1, 42), len_field(3, cat({len_field(1, filled(32)), u64_field(2, reason)}))});
  }
  static Bytes tx_status(std::uint64_t state, std::uint64_t error) {
    return cat({u64_field(1, 42), len_field(5, cat({u64_field(1, state), u64_field(2, 8),
                                                     u64_field(3, 2), u64_field(4, error)}))});
  }
  static Bytes value(std::size_t value_bytes) {
    return cat({u64_field(1, 42), len_field(6, cat({u64_field(1, 1), len_field(2, filled(value_bytes))}))});
  }
};

// ---- bad frames ------------------------------------------------------------------

enum class Kind { Message, Request, Response };

std::optional<DecodeError> decode_error(Kind kind, const ChainParams& params, ByteView frame) {
  switch (kind) {
    case Kind::Message: {
      const auto r = decode_message(sha256, test_chain(), params, frame);
      return r ? std::nullopt : std::optional(r.error());
    }
    case Kind::Request: {
      const auto r = decode_client_request(test_chain(), params, frame);
      return r ? std::nullopt : std::optional(r.error());
    }
    case Kind::Response: {
      const auto r = decode_client_response(test_chain(), params, frame);
      return r ? std::nullopt : std::optional(r.error());
    }
  }
  return std::nullopt;
}

// A transfer's tx_size_bytes: sender, nonce, tag, (to, amount), signature.
constexpr std::uint64_t transfer_tx_bytes = 32 + 8 + 1 + 32 + 8 + 64;

ChainParams with(auto change) {
  ChainParams p;
  change(p);
  return p;
}

struct GoodFrame {
  std::string_view name;
  Kind kind;
  Bytes frame;
  ChainParams params = {};
};

// Each bad frame below differs from one of these in a single field; that these
// decode shows the refusals are caused by that field and nothing else.
std::vector<GoodFrame> good_frames() {
  return {
      {"vote", Kind::Message, Raw::vote()},
      {"timeout", Kind::Message, Raw::timeout(Raw::qc())},
      {"proposal with transfers",
       Kind::Message, Raw::proposal(Raw::block(Raw::txs(Raw::transfer_tx(), 2)))},
      {"proposal at the tx and byte limits", Kind::Message,
       Raw::proposal(Raw::block(Raw::txs(Raw::transfer_tx(), 2))),
       with([](ChainParams& p) {
         p.block_txs_max = 2;
         p.block_bytes_max = 2 * transfer_tx_bytes;
         p.tx_bytes_max = transfer_tx_bytes;
       })},
      {"store at the key and value limits", Kind::Message, Raw::tx_batch(Raw::store_tx(64, 1024), 1)},
      {"qc at the signer limit", Kind::Message, Raw::timeout(Raw::qc(32, certificate_signers_max))},
      {"sync response at the block limit", Kind::Message, Raw::sync_response(sync_blocks_max)},
      {"largest honest frame: sync response of full blocks with full certificates",
       Kind::Message, Raw::full_sync_response()},
      {"submit", Kind::Request, Raw::submit(Raw::transfer_tx())},
      {"query account", Kind::Request, Raw::query_account(32)},
      {"query tx", Kind::Request, Raw::query_tx(32)},
      {"query value", Kind::Request, Raw::query_value(32, 64)},
      {"accepted", Kind::Response, Raw::accepted(32)},
      {"rejected", Kind::Response, Raw::rejected(static_cast<std::uint64_t>(TxError::AlreadyCommitted))},
      {"tx status", Kind::Response, Raw::tx_status(2, static_cast<std::uint64_t>(TxError::BadNonce))},
      {"value at the limit", Kind::Response, Raw::value(1024)},
  };
}

TEST(WireDecode, HandMadeGoodFramesDecode) {
  for (const GoodFrame& c : good_frames()) {
    SCOPED_TRACE(c.name);
    const auto error = decode_error(c.kind, c.params, c.frame);
    EXPECT_FALSE(error.has_value()) << to_string(*error);
  }
}

struct BadFrame {
  std::string_view name;
  Kind kind;
  Bytes frame;
  DecodeError want;
  ChainParams params = {};
};

std::vector<BadFrame> bad_frames() {
  const Bytes vote = Raw::vote();
  const Bytes oversized(frame_bytes_max + 1, 0);
  const Bytes transfers_3 = Raw::txs(Raw::transfer_tx(), 3);
  const auto two_txs_max = with([](ChainParams& p) { p.block_txs_max = 2; });
  const auto two_transfers_bytes_max =
      with([](ChainParams& p) { p.block_bytes_max = 2 * transfer_tx_bytes; });
  const auto tx_bytes_max_below_transfer =
      with([](ChainParams& p) { p.tx_bytes_max = transfer_tx_bytes - 1; });
  return {
      // Malformed: protobuf itself refuses.
      {"truncated vote", Kind::Message, Bytes(vote.begin(), vote.end() - 1), DecodeError::Malformed},
      {"unterminated varint", Kind::Message, Bytes{0xff, 0xff, 0xff}, DecodeError::Malformed},
      {"length past the end", Kind::Request, Bytes{0x12, 0x05, 0x0a}, DecodeError::Malformed},
      {"group wire type", Kind::Response, Bytes{0x0b}, DecodeError::Malformed},
      // Malformed, by the pre-scan: fields this protocol version does not define,
      // and frames that would make the parser allocate far beyond an honest one.
      {"unknown field only", Kind::Message, u64_field(99, 1), DecodeError::Malformed},
      {"unknown field in a vote", Kind::Message,
       len_field(2, cat({len_field(1, filled(32)), len_field(5, filled(64)), u64_field(9, 1)})),
       DecodeError::Malformed},
      {"vote field as a varint", Kind::Message, u64_field(2, 5), DecodeError::Malformed},
      {"zero tag", Kind::Message, Bytes{0x00}, DecodeError::Malformed},
      {"unknown field in a request", Kind::Request, cat({Raw::query_tx(32), u64_field(15, 1)}),
       DecodeError::Malformed},
      {"oneof members replacing each other", Kind::Message,
       repeat(cat({len_field(2, {}), len_field(4, {})}), 100'000), DecodeError::Malformed},
      {"request oneof members replacing each other", Kind::Request,
       repeat(cat({len_field(3, {}), len_field(4, {})}), 5), DecodeError::Malformed},
      // FrameTooLarge: refused before parsing.
      {"oversized message", Kind::Message, oversized, DecodeError::FrameTooLarge},
      {"oversized request", Kind::Request, oversized, DecodeError::FrameTooLarge},
      {"oversized response", Kind::Response, oversized, DecodeError::FrameTooLarge},
      // BadLength: every fixed-size field.
      {"vote block 31 bytes", Kind::Message, Raw::vote(31, 64), DecodeError::BadLength},
      {"vote block empty", Kind::Message, Raw::vote(0, 64), DecodeError::BadLength},
      {"vote signature 63 bytes", Kind::Message, Raw::vote(32, 63), DecodeError::BadLength},
      {"vote signature 65 bytes", Kind::Message, Raw::vote(32, 65), DecodeError::BadLength},
      {"tx sender 33 bytes", Kind::Message, Raw::tx_batch(Raw::transfer_tx(33), 1), DecodeError::BadLength},
      {"transfer recipient 31 bytes", Kind::Message, Raw::tx_batch(Raw::transfer_tx(32, 31), 1),
       DecodeError::BadLength},
      {"tx signature 0 bytes", Kind::Message, Raw::tx_batch(Raw::transfer_tx(32, 32, 0), 1),
       DecodeError::BadLength},
      {"qc block 16 bytes", Kind::Message, Raw::timeout(Raw::qc(16)), DecodeError::BadLength},
      {"qc vote signature 32 bytes", Kind::Message, Raw::timeout(Raw::qc(32, 3, 32)),
       DecodeError::BadLength},
      {"justify block 33 bytes", Kind::Message,
       Raw::proposal(cat({u64_field(1, 5), len_field(3, Raw::qc(33))})), DecodeError::BadLength},
      {"query account 31 bytes", Kind::Request, Raw::query_account(31), DecodeError::BadLength},
      {"query tx 33 bytes", Kind::Request, Raw::query_tx(33), DecodeError::BadLength},
      {"query value owner 0 bytes", Kind::Request, Raw::query_value(0, 4), DecodeError::BadLength},
      {"accepted hash 31 bytes", Kind::Response, Raw::accepted(31), DecodeError::BadLength},
      // MissingField: empty oneofs and required sub-messages.
      {"empty message", Kind::Message, Bytes{}, DecodeError::MissingField},
      {"proposal without block", Kind::Message, Raw::proposal({}, false), DecodeError::MissingField},
      {"block without justify", Kind::Message, Raw::proposal(Raw::block({}, false)),
       DecodeError::MissingField},
      {"timeout without high qc", Kind::Message, Raw::timeout({}, false), DecodeError::MissingField},
      {"tx without op", Kind::Message, Raw::tx_batch(Raw::tx_without_op(), 1), DecodeError::MissingField},
      {"empty request", Kind::Request, u64_field(1, 42), DecodeError::MissingField},
      {"submit without tx", Kind::Request, Raw::submit({}, false), DecodeError::MissingField},
      {"empty response", Kind::Response, u64_field(1, 42), DecodeError::MissingField},
      // TooManyTxs: block_txs_max bounds blocks and forwarded batches; the
      // pre-scan refuses a flood of empty ones before protobuf allocates them.
      {"flood of empty txs", Kind::Message,
       len_field(6, repeat(len_field(1, {}), ChainParams{}.block_txs_max * sync_blocks_max + 1)),
       DecodeError::TooManyTxs},
      {"block over block_txs_max", Kind::Message, Raw::proposal(Raw::block(transfers_3)),
       DecodeError::TooManyTxs, two_txs_max},
      {"batch over block_txs_max", Kind::Message, Raw::tx_batch(Raw::transfer_tx(), 3),
       DecodeError::TooManyTxs, two_txs_max},
      {"batch over default block_txs_max", Kind::Message,
       Raw::tx_batch(Raw::transfer_tx(), ChainParams{}.block_txs_max + 1), DecodeError::TooManyTxs},
      // BlockTooLarge: the sum of tx_size_bytes.
      {"block over block_bytes_max", Kind::Message, Raw::proposal(Raw::block(transfers_3)),
       DecodeError::BlockTooLarge, two_transfers_bytes_max},
      {"batch over block_bytes_max", Kind::Message, Raw::tx_batch(Raw::transfer_tx(), 3),
       DecodeError::BlockTooLarge, two_transfers_bytes_max},
      {"batch of large stores over default block_bytes_max", Kind::Message,
       Raw::tx_batch(Raw::store_tx(64, 1024), 1000), DecodeError::BlockTooLarge},
      // TxTooLarge.
      {"transfer over tx_bytes_max", Kind::Message, Raw::tx_batch(Raw::transfer_tx(), 1),
       DecodeError::TxTooLarge, tx_bytes_max_below_transfer},
      {"submitted transfer over tx_bytes_max", Kind::Request, Raw::submit(Raw::transfer_tx()),
       DecodeError::TxTooLarge, tx_bytes_max_below_transfer},
      // KeyTooLarge / ValueTooLarge.
      {"store key over key_bytes_max", Kind::Message, Raw::tx_batch(Raw::store_tx(65, 0), 1),
       DecodeError::KeyTooLarge},
      {"query value key over key_bytes_max", Kind::Request, Raw::query_value(32, 65),
       DecodeError::KeyTooLarge},
      {"store value over value_bytes_max", Kind::Message, Raw::tx_batch(Raw::store_tx(0, 1025), 1),
       DecodeError::ValueTooLarge},
      {"submitted store value over value_bytes_max", Kind::Request, Raw::submit(Raw::store_tx(1, 1025)),
       DecodeError::ValueTooLarge},
      {"value response over value_bytes_max", Kind::Response, Raw::value(1025), DecodeError::ValueTooLarge},
      // TooManySignatures.
      {"qc over certificate_signers_max", Kind::Message,
       Raw::timeout(Raw::qc(32, certificate_signers_max + 1)), DecodeError::TooManySignatures},
      {"tc over certificate_signers_max", Kind::Message,
       len_field(1, cat({len_field(1, Raw::block({})), len_field(2, Raw::tc(certificate_signers_max + 1)),
                         len_field(3, filled(64))})),
       DecodeError::TooManySignatures},
      // TooManyBlocks.
      {"block field repeated in a proposal", Kind::Message,
       len_field(1, repeat(len_field(1, Raw::block({})), sync_blocks_max + 1)),
       DecodeError::TooManyBlocks},
      {"sync response over sync_blocks_max", Kind::Message, Raw::sync_response(sync_blocks_max + 1),
       DecodeError::TooManyBlocks},
      // BadEnum: reason and state codes, including values that would wrap a u8.
      {"rejected reason 0", Kind::Response, Raw::rejected(0), DecodeError::BadEnum},
      {"rejected reason past the last", Kind::Response,
       Raw::rejected(static_cast<std::uint64_t>(TxError::AlreadyCommitted) + 1), DecodeError::BadEnum},
      {"rejected reason 257 (1 as a u8)", Kind::Response, Raw::rejected(257), DecodeError::BadEnum},
      {"tx status state 3", Kind::Response, Raw::tx_status(3, 0), DecodeError::BadEnum},
      {"tx status state 256 (0 as a u8)", Kind::Response, Raw::tx_status(256, 0), DecodeError::BadEnum},
      {"tx status error 99", Kind::Response, Raw::tx_status(2, 99), DecodeError::BadEnum},
  };
}

TEST(WireDecode, HandMadeBadFramesAreRefusedWithTheirReason) {
  for (const BadFrame& c : bad_frames()) {
    SCOPED_TRACE(c.name);
    const auto error = decode_error(c.kind, c.params, c.frame);
    ASSERT_TRUE(error.has_value()) << "decoded, expected " << to_string(c.want);
    EXPECT_EQ(*error, c.want);
  }
}

constexpr DecodeError all_decode_errors[] = {
    DecodeError::Malformed,     DecodeError::FrameTooLarge, DecodeError::BadLength,
    DecodeError::MissingField,  DecodeError::TooManyTxs,    DecodeError::BlockTooLarge,
    DecodeError::TxTooLarge,    DecodeError::KeyTooLarge,   DecodeError::ValueTooLarge,
    DecodeError::TooManySignatures, DecodeError::TooManyBlocks, DecodeError::BadEnum,
};

TEST(WireDecode, EveryDecodeErrorHasABadFrame) {
  std::set<DecodeError> covered;
  for (const BadFrame& c : bad_frames()) covered.insert(c.want);
  for (DecodeError e : all_decode_errors) EXPECT_TRUE(covered.contains(e)) << to_string(e);
}

TEST(WireDecode, DecodeErrorNamesAreDistinct) {
  std::set<std::string_view> names;
  for (DecodeError e : all_decode_errors) {
    EXPECT_NE(to_string(e), "UNKNOWN");
    EXPECT_TRUE(names.insert(to_string(e)).second) << to_string(e);
  }
  EXPECT_EQ(to_string(DecodeError::TooManyBlocks), "TOO_MANY_BLOCKS");
}

// Encoding a large honest message stays under the frame limit with room to
// spare: a full block of the largest transactions is far below frame_bytes_max.
TEST(WireEncode, FullBlockOfLargestTransactionsFitsAFrame) {
  const ChainParams params;
  Block b;
  const std::size_t value_bytes = params.tx_bytes_max - (32 + 8 + 1 + 8 + 64 + 64);
  Transaction tx;
  tx.op = StoreValue{Bytes(64, 1), Bytes(std::min<std::size_t>(value_bytes, params.value_bytes_max), 2)};
  const std::size_t count = params.block_bytes_max / tx_size_bytes(tx);
  b.txs.assign(count, tx);
  const Bytes frame = encode(Message{Proposal{seal(sha256, test_chain(), b), std::nullopt, Signature{}}});
  EXPECT_LT(frame.size(), frame_bytes_max);
  const auto back = decode_message(sha256, test_chain(), params, frame);
  ASSERT_TRUE(back.has_value()) << to_string(back.error());
  EXPECT_EQ(std::get<Proposal>(*back).block->txs.size(), count);
}

}  // namespace
}  // namespace synod
