#include "core/sign_bytes.h"

#include <array>
#include <cstring>
#include <string_view>
#include <variant>

#include "core/assert.h"
#include "core/crypto.h"

namespace synod {

namespace {
constexpr std::uint8_t op_transfer = 1;
constexpr std::uint8_t op_store = 2;
constexpr std::string_view tx_domain = "synod/tx/v1";

template <class Out>
void put_header(Out& out, std::string_view domain, const ChainId& chain) {
  put_var(out, as_bytes(domain));
  put_bytes(out, chain.view());
}

Bytes header(std::string_view domain, const ChainId& chain) {
  Bytes out;
  out.reserve(128);
  put_header(out, domain, chain);
  return out;
}

// What tx_hash digests.
template <class Out>
void put_tx_sign_bytes(Out& out, const ChainId& chain, const Transaction& tx) {
  put_header(out, tx_domain, chain);
  put_bytes(out, tx.sender.view());
  put_u64(out, tx.nonce);
  if (const auto* t = std::get_if<Transfer>(&tx.op)) {
    put_u8(out, op_transfer);
    put_bytes(out, t->to.view());
    put_u64(out, t->amount);
  } else {
    const auto& s = std::get<StoreValue>(tx.op);
    put_u8(out, op_store);
    put_var(out, s.key);
    put_var(out, s.value);
  }
}

// Fixed-size sign-bytes, built on the stack: no buffer to grow or zero-fill
// on the hot paths. finish() checks that the layout filled them exactly.
template <std::size_t N>
struct ArrayOut {
  std::array<std::uint8_t, N> bytes;
  std::size_t size = 0;
  const std::array<std::uint8_t, N>& finish() const {
    SYNOD_ASSERT(size == N);
    return bytes;
  }
};
template <std::size_t N>
void append(ArrayOut<N>& out, const std::uint8_t* data, std::size_t n) {
  SYNOD_ASSERT(n <= N - out.size);
  std::memcpy(out.bytes.data() + out.size, data, n);
  out.size += n;
}

// A transfer's sign-bytes have a fixed size.
constexpr std::size_t transfer_sign_bytes_size =
    4 + tx_domain.size() + ChainId::size + PublicKey::size + 8 + 1 + PublicKey::size + 8;

}  // namespace

TxHash tx_hash(Digest digest, const ChainId& chain, const Transaction& tx, Bytes& scratch) {
  TxHash h;
  if (std::holds_alternative<Transfer>(tx.op)) {
    ArrayOut<transfer_sign_bytes_size> out;
    put_tx_sign_bytes(out, chain, tx);
    h.bytes = digest(out.finish()).bytes;
  } else {
    scratch.clear();
    {
      // tx_size_bytes bounds it: the header is shorter than the signature, which is not signed.
      Writer out(scratch, tx_size_bytes(tx));
      put_tx_sign_bytes(out, chain, tx);
    }
    h.bytes = digest(scratch).bytes;
  }
  return h;
}

TxHash tx_hash(Digest digest, const ChainId& chain, const Transaction& tx) {
  Bytes scratch;
  return tx_hash(digest, chain, tx, scratch);
}

TxSigBytes tx_sig_bytes(const TxHash& hash) {
  // The domain's length prefix, as put_var writes it, built once.
  static const Bytes prefix = [] {
    Bytes p;
    put_var(p, as_bytes(tx_sig_domain));
    return p;
  }();
  TxSigBytes out;
  SYNOD_ASSERT(prefix.size() + TxHash::size == out.size());
  std::memcpy(out.data(), prefix.data(), prefix.size());
  std::memcpy(out.data() + prefix.size(), hash.bytes.data(), TxHash::size);
  return out;
}

TxHash sign_tx(const SignatureScheme& scheme, const ChainId& chain, const KeyPair& key, Transaction& tx, Bytes& scratch) {
  SYNOD_ASSERT(tx.sender == key.public_key);
  const TxHash hash = tx_hash(scheme.digest(), chain, tx, scratch);
  tx.sig = scheme.sign(key, tx_sig_bytes(hash));
  return hash;
}

TxHash sign_tx(const SignatureScheme& scheme, const ChainId& chain, const KeyPair& key, Transaction& tx) {
  Bytes scratch;
  return sign_tx(scheme, chain, key, tx, scratch);
}

std::size_t tx_size_bytes(const Transaction& tx) {
  std::size_t op_bytes = 0;
  if (const auto* s = std::get_if<StoreValue>(&tx.op)) {
    op_bytes = 8 + s->key.size() + s->value.size();
  } else {
    op_bytes = PublicKey::size + 8;
  }
  return PublicKey::size + 8 + 1 + op_bytes + Signature::size;
}

std::vector<TxHash> tx_hashes(Digest digest, const ChainId& chain, const std::vector<Transaction>& txs) {
  std::vector<TxHash> hashes;
  hashes.reserve(txs.size());
  Bytes scratch;
  for (const Transaction& tx : txs) hashes.push_back(tx_hash(digest, chain, tx, scratch));
  return hashes;
}

namespace {

Hash32 payload_hash(Digest digest, const ChainId& chain, const std::vector<Transaction>& txs,
                    const std::vector<TxHash>& hashes) {
  Bytes bytes;
  {
    Writer out(bytes, 64 + txs.size() * (TxHash::size + Signature::size));
    put_header(out, "synod/payload/v1", chain);
    put_u32(out, static_cast<std::uint32_t>(txs.size()));
    for (std::size_t i = 0; i < txs.size(); ++i) {
      put_bytes(out, hashes[i].view());
      put_bytes(out, txs[i].sig.view());
    }
  }
  return digest(bytes);
}

BlockId block_id_with(Digest digest, const ChainId& chain, const Block& block, const std::vector<TxHash>& hashes) {
  Bytes out = header("synod/block/v1", chain);
  put_u64(out, block.round.value);
  put_u64(out, block.height().value);
  put_bytes(out, block.parent().view());
  put_u64(out, block.justify.round.value);
  put_u32(out, block.proposer.value);
  put_bytes(out, payload_hash(digest, chain, block.txs, hashes).view());
  BlockId id;
  id.bytes = digest(out).bytes;
  return id;
}

}  // namespace

BlockId block_id(Digest digest, const ChainId& chain, const Block& block) {
  return block_id_with(digest, chain, block, tx_hashes(digest, chain, block.txs));
}

BlockId genesis_block_id(const ChainId& chain) {
  BlockId id;
  id.bytes = sha256(header("synod/genesis/v1", chain)).bytes;
  return id;
}

BlockPtr seal(Digest digest, const ChainId& chain, Block block) {
  std::vector<TxHash> hashes = tx_hashes(digest, chain, block.txs);
  return seal(digest, chain, std::move(block), std::move(hashes));
}

BlockPtr seal(Digest digest, const ChainId& chain, Block block, std::vector<TxHash> hashes) {
  SYNOD_ASSERT(hashes.size() == block.txs.size());
  block.tx_hashes = std::move(hashes);
  block.id = block_id_with(digest, chain, block, block.tx_hashes);
  return std::make_shared<const Block>(std::move(block));
}

ProposalSignBytes proposal_sign_bytes(const ChainId& chain, const BlockId& block) {
  ArrayOut<ProposalSignBytes{}.size()> out;
  put_header(out, proposal_domain, chain);
  put_bytes(out, block.view());
  return out.finish();
}

VoteSignBytes vote_sign_bytes(const ChainId& chain, const BlockId& block, Round round, Height height) {
  ArrayOut<VoteSignBytes{}.size()> out;
  put_header(out, vote_domain, chain);
  put_u64(out, round.value);
  put_u64(out, height.value);
  put_bytes(out, block.view());
  return out.finish();
}

TimeoutSignBytes timeout_sign_bytes(const ChainId& chain, Round round, Round high_qc_round) {
  ArrayOut<TimeoutSignBytes{}.size()> out;
  put_header(out, timeout_domain, chain);
  put_u64(out, round.value);
  put_u64(out, high_qc_round.value);
  return out.finish();
}

}  // namespace synod
