// The protobuf codec. Encoding is a plain field copy. Decoding parses, then
// checks every length and limit before building a value, in an order that does
// the cheap refusals first (counts before elements, sizes before copies), so a
// hostile frame costs little more than its parse. Nothing here verifies a
// signature: that needs the roster and belongs to the replica.
#include "core/wire.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>

#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "core/assert.h"
#include "core/sign_bytes.h"
#include "proto/synod.pb.h"  // generated into the build tree by protoc

namespace synod {

namespace pb = ::synod::wire;

std::string_view to_string(DecodeError e) {
  switch (e) {
    case DecodeError::Malformed: return "MALFORMED";
    case DecodeError::FrameTooLarge: return "FRAME_TOO_LARGE";
    case DecodeError::BadLength: return "BAD_LENGTH";
    case DecodeError::MissingField: return "MISSING_FIELD";
    case DecodeError::TooManyTxs: return "TOO_MANY_TXS";
    case DecodeError::BlockTooLarge: return "BLOCK_TOO_LARGE";
    case DecodeError::TxTooLarge: return "TX_TOO_LARGE";
    case DecodeError::KeyTooLarge: return "KEY_TOO_LARGE";
    case DecodeError::ValueTooLarge: return "VALUE_TOO_LARGE";
    case DecodeError::TooManySignatures: return "TOO_MANY_SIGNATURES";
    case DecodeError::TooManyBlocks: return "TOO_MANY_BLOCKS";
    case DecodeError::BadEnum: return "BAD_ENUM";
  }
  return "UNKNOWN";
}

std::ostream& operator<<(std::ostream& os, DecodeError e) { return os << to_string(e); }

namespace {

// ---- helpers ---------------------------------------------------------------

void set(std::string* out, ByteView bytes) {
  out->assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

ByteView view(const std::string& s) { return as_bytes(s); }

Bytes copy(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::unexpected<DecodeError> fail(DecodeError e) { return std::unexpected(e); }

template <class Fixed>
bool read_fixed(const std::string& in, Fixed& out) {
  return Fixed::from(view(in), out);
}

Bytes serialize(const google::protobuf::MessageLite& m) {
  Bytes out(m.ByteSizeLong());
  m.SerializeWithCachedSizesToArray(out.data());
  return out;
}

// Enum codes arrive as u32; a cast to an enum with a u8 underlying type would
// wrap, so the range is checked first, and the switches list every case so
// that adding an enumerator without teaching the codec fails to compile.
std::optional<TxError> tx_error_from(std::uint32_t code) {
  if (code > 0xff) return std::nullopt;
  const auto e = static_cast<TxError>(code);
  switch (e) {
    case TxError::PoolFull:
    case TxError::BadSignature:
    case TxError::BadNonce:
    case TxError::TooLarge:
    case TxError::Duplicate:
    case TxError::InsufficientBalance:
    case TxError::BalanceOverflow:
    case TxError::AlreadyCommitted:
      return e;
  }
  return std::nullopt;
}

std::optional<TxStatus::State> tx_state_from(std::uint32_t code) {
  if (code > 0xff) return std::nullopt;
  const auto s = static_cast<TxStatus::State>(code);
  switch (s) {
    case TxStatus::State::Unknown:
    case TxStatus::State::Pending:
    case TxStatus::State::Committed:
      return s;
  }
  return std::nullopt;
}

// ---- encoding --------------------------------------------------------------

void put(pb::Transaction& out, const Transaction& tx) {
  set(out.mutable_sender(), tx.sender.view());
  out.set_nonce(tx.nonce);
  if (const auto* t = std::get_if<Transfer>(&tx.op)) {
    pb::Transfer* o = out.mutable_transfer();
    set(o->mutable_to(), t->to.view());
    o->set_amount(t->amount);
  } else {
    const auto& s = std::get<StoreValue>(tx.op);
    pb::StoreValue* o = out.mutable_store();
    set(o->mutable_key(), s.key);
    set(o->mutable_value(), s.value);
  }
  set(out.mutable_sig(), tx.sig.view());
}

void put(pb::QuorumCert& out, const QuorumCert& qc) {
  set(out.mutable_block(), qc.block.view());
  out.set_round(qc.round.value);
  out.set_height(qc.height.value);
  out.mutable_votes()->Reserve(static_cast<int>(qc.votes.size()));
  for (const SignerSig& v : qc.votes) {
    pb::SignerSig* o = out.add_votes();
    o->set_signer(v.signer.value);
    set(o->mutable_sig(), v.sig.view());
  }
}

void put(pb::TimeoutCert& out, const TimeoutCert& tc) {
  out.set_round(tc.round.value);
  out.mutable_timeouts()->Reserve(static_cast<int>(tc.timeouts.size()));
  for (const TimeoutSig& t : tc.timeouts) {
    pb::TimeoutSig* o = out.add_timeouts();
    o->set_signer(t.signer.value);
    o->set_high_qc_round(t.high_qc_round.value);
    set(o->mutable_sig(), t.sig.view());
  }
}

void put(pb::Block& out, const Block& block) {
  out.set_round(block.round.value);
  out.set_proposer(block.proposer.value);
  put(*out.mutable_justify(), block.justify);
  out.mutable_txs()->Reserve(static_cast<int>(block.txs.size()));
  for (const Transaction& tx : block.txs) put(*out.add_txs(), tx);
}

void put(pb::Vote& out, const Vote& v) {
  set(out.mutable_block(), v.block.view());
  out.set_round(v.round.value);
  out.set_height(v.height.value);
  out.set_voter(v.voter.value);
  set(out.mutable_sig(), v.sig.view());
}

void put(pb::Timeout& out, const Timeout& t) {
  out.set_round(t.round.value);
  put(*out.mutable_high_qc(), t.high_qc);
  out.set_sender(t.sender.value);
  set(out.mutable_sig(), t.sig.view());
  if (t.tc) put(*out.mutable_tc(), *t.tc);
}

struct EncodeMessage {
  pb::Message& out;
  void operator()(const Proposal& p) const {
    SYNOD_ASSERT(p.block != nullptr);
    pb::Proposal* o = out.mutable_proposal();
    put(*o->mutable_block(), *p.block);
    if (p.tc) put(*o->mutable_tc(), *p.tc);
    set(o->mutable_sig(), p.sig.view());
  }
  void operator()(const Vote& v) const { put(*out.mutable_vote(), v); }
  void operator()(const Timeout& t) const { put(*out.mutable_timeout(), t); }
  void operator()(const SyncRequest& s) const {
    out.mutable_sync_request()->set_committed_height(s.committed_height.value);
  }
  void operator()(const SyncResponse& s) const {
    pb::SyncResponse* o = out.mutable_sync_response();
    for (const BlockPtr& b : s.blocks) {
      SYNOD_ASSERT(b != nullptr);
      put(*o->add_blocks(), *b);
    }
    if (s.qc) put(*o->mutable_qc(), *s.qc);
    o->set_committed_height(s.committed_height.value);
  }
  void operator()(const TxBatch& b) const {
    pb::TxBatch* o = out.mutable_tx_batch();
    o->mutable_txs()->Reserve(static_cast<int>(b.txs.size()));
    for (const Transaction& tx : b.txs) put(*o->add_txs(), tx);
  }
};

struct EncodeRequest {
  pb::ClientRequest& out;
  void operator()(const SubmitTx& s) const { put(*out.mutable_submit_tx()->mutable_tx(), s.tx); }
  void operator()(const QueryAccount& q) const {
    set(out.mutable_query_account()->mutable_account(), q.account.view());
  }
  void operator()(const QueryTx& q) const { set(out.mutable_query_tx()->mutable_hash(), q.hash.view()); }
  void operator()(const QueryValue& q) const {
    pb::QueryValue* o = out.mutable_query_value();
    set(o->mutable_owner(), q.owner.view());
    set(o->mutable_key(), q.key);
  }
};

struct EncodeResponse {
  pb::ClientResponse& out;
  void operator()(const TxAccepted& a) const { set(out.mutable_accepted()->mutable_hash(), a.hash.view()); }
  void operator()(const TxRejected& r) const {
    pb::TxRejected* o = out.mutable_rejected();
    set(o->mutable_hash(), r.hash.view());
    o->set_reason(static_cast<std::uint32_t>(r.reason));
  }
  void operator()(const AccountInfo& a) const {
    pb::AccountInfo* o = out.mutable_account();
    o->set_balance(a.balance);
    o->set_nonce(a.nonce);
  }
  void operator()(const TxStatus& s) const {
    pb::TxStatus* o = out.mutable_tx_status();
    o->set_state(static_cast<std::uint32_t>(s.state));
    o->set_height(s.height.value);
    o->set_index(s.index);
    o->set_error(s.error ? static_cast<std::uint32_t>(*s.error) : 0);
  }
  void operator()(const ValueInfo& v) const {
    pb::ValueInfo* o = out.mutable_value();
    o->set_found(v.value.has_value());
    if (v.value) set(o->mutable_value(), *v.value);
  }
};

// ---- decoding --------------------------------------------------------------

std::expected<Transaction, DecodeError> read_tx(const pb::Transaction& in, const ChainParams& params) {
  Transaction tx;
  if (!read_fixed(in.sender(), tx.sender)) return fail(DecodeError::BadLength);
  if (!read_fixed(in.sig(), tx.sig)) return fail(DecodeError::BadLength);
  tx.nonce = in.nonce();
  switch (in.op_case()) {
    case pb::Transaction::kTransfer: {
      Transfer t;
      if (!read_fixed(in.transfer().to(), t.to)) return fail(DecodeError::BadLength);
      t.amount = in.transfer().amount();
      tx.op = t;
      break;
    }
    case pb::Transaction::kStore: {
      const pb::StoreValue& s = in.store();
      if (s.key().size() > params.key_bytes_max) return fail(DecodeError::KeyTooLarge);
      if (s.value().size() > params.value_bytes_max) return fail(DecodeError::ValueTooLarge);
      tx.op = StoreValue{copy(s.key()), copy(s.value())};
      break;
    }
    case pb::Transaction::OP_NOT_SET:
      return fail(DecodeError::MissingField);
  }
  if (tx_size_bytes(tx) > params.tx_bytes_max) return fail(DecodeError::TxTooLarge);
  return tx;
}

// Shared by blocks and batches: a batch is bounded like a block's payload.
std::expected<std::vector<Transaction>, DecodeError> read_txs(
    const google::protobuf::RepeatedPtrField<pb::Transaction>& in, const ChainParams& params) {
  if (static_cast<std::size_t>(in.size()) > params.block_txs_max) return fail(DecodeError::TooManyTxs);
  std::vector<Transaction> txs;
  txs.reserve(static_cast<std::size_t>(in.size()));
  std::uint64_t bytes = 0;
  for (const pb::Transaction& t : in) {
    auto tx = read_tx(t, params);
    if (!tx) return fail(tx.error());
    bytes += tx_size_bytes(*tx);
    if (bytes > params.block_bytes_max) return fail(DecodeError::BlockTooLarge);
    txs.push_back(std::move(*tx));
  }
  return txs;
}

std::expected<QuorumCert, DecodeError> read_qc(const pb::QuorumCert& in) {
  QuorumCert qc;
  if (!read_fixed(in.block(), qc.block)) return fail(DecodeError::BadLength);
  qc.round = Round(in.round());
  qc.height = Height(in.height());
  if (static_cast<std::size_t>(in.votes_size()) > certificate_signers_max) {
    return fail(DecodeError::TooManySignatures);
  }
  qc.votes.reserve(static_cast<std::size_t>(in.votes_size()));
  for (const pb::SignerSig& v : in.votes()) {
    SignerSig s;
    s.signer = NodeId(v.signer());
    if (!read_fixed(v.sig(), s.sig)) return fail(DecodeError::BadLength);
    qc.votes.push_back(s);
  }
  return qc;
}

std::expected<TimeoutCert, DecodeError> read_tc(const pb::TimeoutCert& in) {
  TimeoutCert tc;
  tc.round = Round(in.round());
  if (static_cast<std::size_t>(in.timeouts_size()) > certificate_signers_max) {
    return fail(DecodeError::TooManySignatures);
  }
  tc.timeouts.reserve(static_cast<std::size_t>(in.timeouts_size()));
  for (const pb::TimeoutSig& t : in.timeouts()) {
    TimeoutSig s;
    s.signer = NodeId(t.signer());
    s.high_qc_round = Round(t.high_qc_round());
    if (!read_fixed(t.sig(), s.sig)) return fail(DecodeError::BadLength);
    tc.timeouts.push_back(s);
  }
  return tc;
}

// The id is not on the wire: sealing recomputes it, so a block's id always
// matches its contents whatever the sender claimed.
std::expected<BlockPtr, DecodeError> read_block(Digest digest, const ChainId& chain, const ChainParams& params,
                                                const pb::Block& in) {
  if (!in.has_justify()) return fail(DecodeError::MissingField);
  Block block;
  block.round = Round(in.round());
  block.proposer = NodeId(in.proposer());
  auto justify = read_qc(in.justify());
  if (!justify) return fail(justify.error());
  block.justify = std::move(*justify);
  auto txs = read_txs(in.txs(), params);
  if (!txs) return fail(txs.error());
  block.txs = std::move(*txs);
  return seal(digest, chain, std::move(block));
}

std::expected<Message, DecodeError> read_proposal(Digest digest, const ChainId& chain, const ChainParams& params,
                                                  const pb::Proposal& in) {
  if (!in.has_block()) return fail(DecodeError::MissingField);
  Proposal p;
  if (!read_fixed(in.sig(), p.sig)) return fail(DecodeError::BadLength);
  auto block = read_block(digest, chain, params, in.block());
  if (!block) return fail(block.error());
  p.block = std::move(*block);
  if (in.has_tc()) {
    auto tc = read_tc(in.tc());
    if (!tc) return fail(tc.error());
    p.tc = std::move(*tc);
  }
  return p;
}

std::expected<Message, DecodeError> read_vote(const pb::Vote& in) {
  Vote v;
  if (!read_fixed(in.block(), v.block)) return fail(DecodeError::BadLength);
  if (!read_fixed(in.sig(), v.sig)) return fail(DecodeError::BadLength);
  v.round = Round(in.round());
  v.height = Height(in.height());
  v.voter = NodeId(in.voter());
  return v;
}

std::expected<Message, DecodeError> read_timeout(const pb::Timeout& in) {
  if (!in.has_high_qc()) return fail(DecodeError::MissingField);
  Timeout t;
  if (!read_fixed(in.sig(), t.sig)) return fail(DecodeError::BadLength);
  t.round = Round(in.round());
  t.sender = NodeId(in.sender());
  auto qc = read_qc(in.high_qc());
  if (!qc) return fail(qc.error());
  t.high_qc = std::move(*qc);
  if (in.has_tc()) {
    auto tc = read_tc(in.tc());
    if (!tc) return fail(tc.error());
    t.tc = std::move(*tc);
  }
  return t;
}

// Durable data is ours and checksummed (core/records.h), so it skips the
// pre-scan, but never its size bound or the checks after the parse.
template <class T>
std::expected<const T*, DecodeError> parse_durable(google::protobuf::Arena& arena, ByteView bytes) {
  if (bytes.size() > frame_bytes_max) return std::unexpected(DecodeError::FrameTooLarge);
  T* out = google::protobuf::Arena::CreateMessage<T>(&arena);
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return std::unexpected(DecodeError::Malformed);
  }
  return out;
}

std::expected<Message, DecodeError> read_sync_response(Digest digest, const ChainId& chain, const ChainParams& params,
                                                       const pb::SyncResponse& in) {
  if (static_cast<std::size_t>(in.blocks_size()) > sync_blocks_max) {
    return fail(DecodeError::TooManyBlocks);
  }
  SyncResponse s;
  s.committed_height = Height(in.committed_height());
  s.blocks.reserve(static_cast<std::size_t>(in.blocks_size()));
  for (const pb::Block& b : in.blocks()) {
    auto block = read_block(digest, chain, params, b);
    if (!block) return fail(block.error());
    s.blocks.push_back(std::move(*block));
  }
  if (in.has_qc()) {
    auto qc = read_qc(in.qc());
    if (!qc) return fail(qc.error());
    s.qc = std::move(*qc);
  }
  return s;
}

std::expected<Message, DecodeError> read_tx_batch(Digest digest, const ChainId& chain, const ChainParams& params,
                                                  const pb::TxBatch& in) {
  auto txs = read_txs(in.txs(), params);
  if (!txs) return fail(txs.error());
  std::vector<TxHash> hashes = tx_hashes(digest, chain, *txs);
  return TxBatch{std::move(*txs), std::move(hashes)};
}

// ---- the pre-scan -------------------------------------------------------------
// Protobuf allocates while it parses, before any of our checks run: a 16 MiB
// frame of two-byte empty sub-messages (or of oneof members that replace each
// other, or of unknown fields it keeps) costs it some 600 MB. So a frame is
// first walked without building anything, and refused if it holds more blocks,
// transactions, signatures or sub-messages than the largest honest frame
// (a sync response of sync_blocks_max full blocks), or any field this version
// of synod.proto does not define: peers run the same protocol version (the
// handshake checks it), so an unknown field is never honest, and refusing it
// keeps the parser from storing it. The exact per-block limits are checked
// after the parse; this only bounds what the parse may allocate.

struct FrameBudget {
  std::size_t blocks_max = 0;
  std::size_t txs_max = 0;
  std::size_t signatures_max = 0;
  std::size_t sub_messages_max = 0;  // every message-typed field occurrence, any depth
};

FrameBudget message_budget(const ChainParams& params) {
  FrameBudget b;
  b.blocks_max = sync_blocks_max;
  b.txs_max = std::size_t{params.block_txs_max} * sync_blocks_max;
  // Each block's justify, the response's own QC, and a proposal's TC.
  b.signatures_max = certificate_signers_max * (sync_blocks_max + 2);
  // Per block: itself and its justify; per transaction: itself and its op.
  b.sub_messages_max = 2 * b.blocks_max + 2 * b.txs_max + b.signatures_max + 16;
  return b;
}

// A request holds at most one transaction (and its op); a response no message
// deeper than its body.
constexpr FrameBudget client_budget{.blocks_max = 0, .txs_max = 1, .signatures_max = 0,
                                    .sub_messages_max = 8};

enum class Counted : std::uint8_t { Nothing, Block, Tx, Signature };

// The schema as the pre-scan needs it, built once from the generated
// descriptors so that it cannot drift from synod.proto.
struct Shape {
  struct Field {
    std::uint32_t wire_type = 0;
    const Shape* child = nullptr;  // set for message-typed fields
    Counted counted = Counted::Nothing;
  };
  std::vector<std::optional<Field>> fields;  // indexed by field number
};

std::uint32_t wire_type_of(const google::protobuf::FieldDescriptor& f) {
  using FD = google::protobuf::FieldDescriptor;
  switch (f.type()) {
    case FD::TYPE_DOUBLE:
    case FD::TYPE_FIXED64:
    case FD::TYPE_SFIXED64:
      return 1;
    case FD::TYPE_FLOAT:
    case FD::TYPE_FIXED32:
    case FD::TYPE_SFIXED32:
      return 5;
    case FD::TYPE_STRING:
    case FD::TYPE_BYTES:
    case FD::TYPE_MESSAGE:
      return 2;
    case FD::TYPE_GROUP:
      return 3;
    default:
      return 0;  // the varint types
  }
}

Counted counted_as(const google::protobuf::Descriptor* d) {
  if (d == pb::Block::descriptor()) return Counted::Block;
  if (d == pb::Transaction::descriptor()) return Counted::Tx;
  if (d == pb::SignerSig::descriptor() || d == pb::TimeoutSig::descriptor()) return Counted::Signature;
  return Counted::Nothing;
}

// Built once, before first use (a function-local static, so thread-safe), and
// read-only afterwards: decoders on several threads may share it.
class Schema {
 public:
  Schema() {
    build(pb::Message::descriptor());
    build(pb::ClientRequest::descriptor());
    build(pb::ClientResponse::descriptor());
  }
  const Shape& of(const google::protobuf::Descriptor* d) const {
    const auto it = shapes_.find(d);
    SYNOD_ASSERT(it != shapes_.end());
    return *it->second;
  }

 private:
  // The schema is not recursive, so this terminates.
  const Shape* build(const google::protobuf::Descriptor* d) {
    if (auto it = shapes_.find(d); it != shapes_.end()) return it->second.get();
    auto shape = std::make_unique<Shape>();
    for (int i = 0; i < d->field_count(); ++i) {
      const google::protobuf::FieldDescriptor& f = *d->field(i);
      SYNOD_ASSERT(!f.is_packed());
      const auto number = static_cast<std::size_t>(f.number());
      SYNOD_ASSERT(number < 64);
      if (shape->fields.size() <= number) shape->fields.resize(number + 1);
      Shape::Field field;
      field.wire_type = wire_type_of(f);
      if (f.type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
        field.child = build(f.message_type());
        field.counted = counted_as(f.message_type());
      }
      shape->fields[number] = field;
    }
    return shapes_.emplace(d, std::move(shape)).first->second.get();
  }

  std::map<const google::protobuf::Descriptor*, std::unique_ptr<Shape>> shapes_;
};

const Shape& shape_of(const google::protobuf::Descriptor* d) {
  static const Schema schema;
  return schema.of(d);
}

struct FrameCounts {
  std::size_t blocks = 0;
  std::size_t txs = 0;
  std::size_t signatures = 0;
  std::size_t sub_messages = 0;
};

// Walks one message up to the stream's current limit.
std::optional<DecodeError> prescan_message(google::protobuf::io::CodedInputStream& in,
                                           const Shape& shape, const FrameBudget& budget,
                                           FrameCounts& counts) {
  for (;;) {
    const std::uint32_t tag = in.ReadTag();
    if (tag == 0) {
      // The end of this message, or a zero or broken tag before it.
      if (in.BytesUntilLimit() == 0) return std::nullopt;
      return DecodeError::Malformed;
    }
    const std::uint32_t number = tag >> 3;
    const std::uint32_t wire_type = tag & 7;
    if (number >= shape.fields.size() || !shape.fields[number]) return DecodeError::Malformed;
    const Shape::Field& field = *shape.fields[number];
    if (wire_type != field.wire_type) return DecodeError::Malformed;
    switch (wire_type) {
      case 0: {
        std::uint64_t ignored = 0;
        if (!in.ReadVarint64(&ignored)) return DecodeError::Malformed;
        break;
      }
      case 1:
        if (!in.Skip(8)) return DecodeError::Malformed;
        break;
      case 5:
        if (!in.Skip(4)) return DecodeError::Malformed;
        break;
      case 2: {
        std::uint32_t length = 0;
        if (!in.ReadVarint32(&length)) return DecodeError::Malformed;
        if (length > static_cast<std::uint32_t>(std::max(in.BytesUntilLimit(), 0))) {
          return DecodeError::Malformed;
        }
        if (field.child == nullptr) {
          if (!in.Skip(static_cast<int>(length))) return DecodeError::Malformed;
          break;
        }
        if (++counts.sub_messages > budget.sub_messages_max) return DecodeError::Malformed;
        switch (field.counted) {
          case Counted::Block:
            if (++counts.blocks > budget.blocks_max) return DecodeError::TooManyBlocks;
            break;
          case Counted::Tx:
            if (++counts.txs > budget.txs_max) return DecodeError::TooManyTxs;
            break;
          case Counted::Signature:
            if (++counts.signatures > budget.signatures_max) return DecodeError::TooManySignatures;
            break;
          case Counted::Nothing:
            break;
        }
        const auto limit = in.PushLimit(static_cast<int>(length));
        if (auto error = prescan_message(in, *field.child, budget, counts)) return error;
        in.PopLimit(limit);
        break;
      }
      default:
        return DecodeError::Malformed;  // groups: proto3 never writes them
    }
  }
}

std::optional<DecodeError> prescan(const google::protobuf::Descriptor* root, ByteView frame,
                                   const FrameBudget& budget) {
  google::protobuf::io::CodedInputStream in(frame.data(), static_cast<int>(frame.size()));
  in.PushLimit(static_cast<int>(frame.size()));
  FrameCounts counts;
  return prescan_message(in, shape_of(root), budget, counts);
}

// Checks a frame's size and shape, then parses it into an arena-allocated `T`,
// so that a large message's many sub-messages cost one allocation per arena
// block instead of one each.
template <class T>
std::expected<const T*, DecodeError> parse(google::protobuf::Arena& arena, ByteView frame,
                                           const FrameBudget& budget) {
  if (frame.size() > frame_bytes_max) return std::unexpected(DecodeError::FrameTooLarge);
  if (auto e = prescan(T::descriptor(), frame, budget)) return std::unexpected(*e);
  T* out = google::protobuf::Arena::CreateMessage<T>(&arena);
  // frame_bytes_max was checked above, so the size fits an int.
  if (!out->ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return std::unexpected(DecodeError::Malformed);
  }
  return out;
}

static_assert(frame_bytes_max <= static_cast<std::size_t>(std::numeric_limits<int>::max()));

}  // namespace

// ---- public API --------------------------------------------------------------

Bytes encode_safety_record(const SafetyRecord& record) {
  pb::SafetyRecord out;
  out.set_voted_round(record.voted_round.value);
  out.set_highest_qc_round(record.highest_qc_round.value);
  out.set_proposed_round(record.proposed_round.value);
  if (record.last_vote) put(*out.mutable_last_vote(), *record.last_vote);
  if (record.last_timeout) put(*out.mutable_last_timeout(), *record.last_timeout);
  if (record.last_tc) put(*out.mutable_last_tc(), *record.last_tc);
  return serialize(out);
}

std::expected<SafetyRecord, DecodeError> decode_safety_record(ByteView bytes) {
  google::protobuf::Arena arena;
  const auto parsed = parse_durable<pb::SafetyRecord>(arena, bytes);
  if (!parsed) return fail(parsed.error());
  const pb::SafetyRecord& in = **parsed;
  SafetyRecord record;
  record.voted_round = Round(in.voted_round());
  record.highest_qc_round = Round(in.highest_qc_round());
  record.proposed_round = Round(in.proposed_round());
  if (in.has_last_vote()) {
    auto vote = read_vote(in.last_vote());
    if (!vote) return fail(vote.error());
    record.last_vote = std::get<Vote>(*vote);
  }
  if (in.has_last_timeout()) {
    auto timeout = read_timeout(in.last_timeout());
    if (!timeout) return fail(timeout.error());
    record.last_timeout = std::get<Timeout>(std::move(*timeout));
  }
  if (in.has_last_tc()) {
    auto tc = read_tc(in.last_tc());
    if (!tc) return fail(tc.error());
    record.last_tc = std::move(*tc);
  }
  return record;
}

Bytes encode_block(const Block& block) {
  pb::Block out;
  put(out, block);
  return serialize(out);
}

std::expected<BlockPtr, DecodeError> decode_block(Digest digest, const ChainId& chain, const ChainParams& params,
                                                  ByteView bytes) {
  google::protobuf::Arena arena;
  const auto parsed = parse_durable<pb::Block>(arena, bytes);
  if (!parsed) return fail(parsed.error());
  return read_block(digest, chain, params, **parsed);
}

Bytes encode_committed_block(const CommittedBlock& committed) {
  SYNOD_ASSERT(committed.block != nullptr);
  SYNOD_ASSERT(committed.outcome.txs.size() == committed.block->txs.size());
  google::protobuf::Arena arena;
  auto* out = google::protobuf::Arena::CreateMessage<pb::CommittedBlock>(&arena);
  put(*out->mutable_block(), *committed.block);
  put(*out->mutable_qc(), committed.qc);
  out->mutable_outcomes()->Reserve(static_cast<int>(committed.outcome.txs.size()));
  for (const TxOutcome& o : committed.outcome.txs) {
    pb::TxOutcome* t = out->add_outcomes();
    set(t->mutable_hash(), o.hash.view());
    t->set_error(o.error ? static_cast<std::uint32_t>(*o.error) : 0);
  }
  set(out->mutable_state_root(), committed.outcome.state_root.view());
  return serialize(*out);
}

std::expected<CommittedBlock, DecodeError> decode_committed_block(Digest digest, const ChainId& chain,
                                                                  const ChainParams& params,
                                                                  ByteView bytes) {
  google::protobuf::Arena arena;
  const auto parsed = parse_durable<pb::CommittedBlock>(arena, bytes);
  if (!parsed) return fail(parsed.error());
  const pb::CommittedBlock& in = **parsed;
  if (!in.has_block() || !in.has_qc()) return fail(DecodeError::MissingField);
  CommittedBlock out;
  auto block = read_block(digest, chain, params, in.block());
  if (!block) return fail(block.error());
  out.block = std::move(*block);
  auto qc = read_qc(in.qc());
  if (!qc) return fail(qc.error());
  out.qc = std::move(*qc);
  if (static_cast<std::size_t>(in.outcomes_size()) != out.block->txs.size()) {
    return fail(DecodeError::MissingField);  // one outcome per transaction, always
  }
  out.outcome.height = out.block->height();
  out.outcome.txs.reserve(out.block->txs.size());
  for (const pb::TxOutcome& o : in.outcomes()) {
    TxOutcome outcome;
    if (!read_fixed(o.hash(), outcome.hash)) return fail(DecodeError::BadLength);
    if (o.error() != 0) {
      outcome.error = tx_error_from(o.error());
      if (!outcome.error) return fail(DecodeError::BadEnum);
    }
    out.outcome.txs.push_back(outcome);
  }
  if (!read_fixed(in.state_root(), out.outcome.state_root)) return fail(DecodeError::BadLength);
  return out;
}

Bytes encode(const Message& message) {
  google::protobuf::Arena arena;
  auto* out = google::protobuf::Arena::CreateMessage<pb::Message>(&arena);
  std::visit(EncodeMessage{*out}, message);
  return serialize(*out);
}

Bytes encode(const ClientRequest& request) {
  pb::ClientRequest out;
  out.set_id(request.id);
  std::visit(EncodeRequest{out}, request.body);
  return serialize(out);
}

Bytes encode(const ClientResponse& response) {
  pb::ClientResponse out;
  out.set_id(response.id);
  std::visit(EncodeResponse{out}, response.body);
  return serialize(out);
}

std::expected<Message, DecodeError> decode_message(Digest digest, const ChainId& chain, const ChainParams& params,
                                                   ByteView frame) {
  google::protobuf::Arena arena;
  const auto parsed = parse<pb::Message>(arena, frame, message_budget(params));
  if (!parsed) return fail(parsed.error());
  const pb::Message* in = *parsed;
  switch (in->body_case()) {
    case pb::Message::kProposal: return read_proposal(digest, chain, params, in->proposal());
    case pb::Message::kVote: return read_vote(in->vote());
    case pb::Message::kTimeout: return read_timeout(in->timeout());
    case pb::Message::kSyncRequest:
      return SyncRequest{Height(in->sync_request().committed_height())};
    case pb::Message::kSyncResponse: return read_sync_response(digest, chain, params, in->sync_response());
    case pb::Message::kTxBatch: return read_tx_batch(digest, chain, params, in->tx_batch());
    case pb::Message::BODY_NOT_SET: return fail(DecodeError::MissingField);
  }
  return fail(DecodeError::MissingField);
}

std::expected<ClientRequest, DecodeError> decode_client_request(const ChainId& /*chain*/,
                                                                const ChainParams& params,
                                                                ByteView frame) {
  google::protobuf::Arena arena;
  const auto parsed = parse<pb::ClientRequest>(arena, frame, client_budget);
  if (!parsed) return fail(parsed.error());
  const pb::ClientRequest* in = *parsed;
  ClientRequest out;
  out.id = in->id();
  switch (in->body_case()) {
    case pb::ClientRequest::kSubmitTx: {
      if (!in->submit_tx().has_tx()) return fail(DecodeError::MissingField);
      auto tx = read_tx(in->submit_tx().tx(), params);
      if (!tx) return fail(tx.error());
      out.body = SubmitTx{std::move(*tx)};
      return out;
    }
    case pb::ClientRequest::kQueryAccount: {
      QueryAccount q;
      if (!read_fixed(in->query_account().account(), q.account)) return fail(DecodeError::BadLength);
      out.body = q;
      return out;
    }
    case pb::ClientRequest::kQueryTx: {
      QueryTx q;
      if (!read_fixed(in->query_tx().hash(), q.hash)) return fail(DecodeError::BadLength);
      out.body = q;
      return out;
    }
    case pb::ClientRequest::kQueryValue: {
      const pb::QueryValue& v = in->query_value();
      QueryValue q;
      if (!read_fixed(v.owner(), q.owner)) return fail(DecodeError::BadLength);
      if (v.key().size() > params.key_bytes_max) return fail(DecodeError::KeyTooLarge);
      q.key = copy(v.key());
      out.body = std::move(q);
      return out;
    }
    case pb::ClientRequest::BODY_NOT_SET: return fail(DecodeError::MissingField);
  }
  return fail(DecodeError::MissingField);
}

std::expected<ClientResponse, DecodeError> decode_client_response(const ChainId& /*chain*/,
                                                                  const ChainParams& params,
                                                                  ByteView frame) {
  google::protobuf::Arena arena;
  const auto parsed = parse<pb::ClientResponse>(arena, frame, client_budget);
  if (!parsed) return fail(parsed.error());
  const pb::ClientResponse* in = *parsed;
  ClientResponse out;
  out.id = in->id();
  switch (in->body_case()) {
    case pb::ClientResponse::kAccepted: {
      TxAccepted a;
      if (!read_fixed(in->accepted().hash(), a.hash)) return fail(DecodeError::BadLength);
      out.body = a;
      return out;
    }
    case pb::ClientResponse::kRejected: {
      TxRejected r;
      if (!read_fixed(in->rejected().hash(), r.hash)) return fail(DecodeError::BadLength);
      const auto reason = tx_error_from(in->rejected().reason());
      if (!reason) return fail(DecodeError::BadEnum);
      r.reason = *reason;
      out.body = r;
      return out;
    }
    case pb::ClientResponse::kAccount:
      out.body = AccountInfo{in->account().balance(), in->account().nonce()};
      return out;
    case pb::ClientResponse::kTxStatus: {
      const pb::TxStatus& s = in->tx_status();
      TxStatus t;
      const auto state = tx_state_from(s.state());
      if (!state) return fail(DecodeError::BadEnum);
      t.state = *state;
      t.height = Height(s.height());
      t.index = s.index();
      if (s.error() != 0) {
        t.error = tx_error_from(s.error());
        if (!t.error) return fail(DecodeError::BadEnum);
      }
      out.body = t;
      return out;
    }
    case pb::ClientResponse::kValue: {
      const pb::ValueInfo& v = in->value();
      ValueInfo info;
      if (v.found()) {
        if (v.value().size() > params.value_bytes_max) return fail(DecodeError::ValueTooLarge);
        info.value = copy(v.value());
      }
      out.body = std::move(info);
      return out;
    }
    case pb::ClientResponse::BODY_NOT_SET: return fail(DecodeError::MissingField);
  }
  return fail(DecodeError::MissingField);
}

}  // namespace synod
