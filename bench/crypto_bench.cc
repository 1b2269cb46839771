// Micro-benchmarks of the per-transaction and per-message costs that bound a
// node's throughput: Ed25519 sign and verify through both implementations
// (libsodium is expected near twice OpenSSL 3.0's verify rate; this run is the
// evidence), SHA-256 of a transaction-sized message, and the protobuf codec on
// a full proposal. Items/s is printed for each, so rates compare directly.
#include <benchmark/benchmark.h>

#include <string>

#include "core/crypto.h"
#include "core/sign_bytes.h"
#include "core/wire.h"

namespace synod {
namespace {

const ChainId& bench_chain() {
  static const ChainId chain = sha256(as_bytes("synod/bench"));
  return chain;
}

// A vote's sign-bytes: what every replica signs and verifies most often.
Bytes vote_message() {
  BlockId block;
  block.bytes = sha256(as_bytes("block")).bytes;
  const VoteSignBytes message = vote_sign_bytes(bench_chain(), block, Round(1'000'000), Height(999'999));
  return Bytes(message.begin(), message.end());
}

using SchemeFn = const SignatureScheme& (*)();

void BM_Ed25519Sign(benchmark::State& state, SchemeFn scheme_fn) {
  const SignatureScheme& scheme = scheme_fn();
  const KeyPair key = KeyPair::from_label("bench-signer");
  const Bytes message = vote_message();
  for (auto _ : state) {
    benchmark::DoNotOptimize(scheme.sign(key, message));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(message.size()) + "-byte vote sign-bytes");
}
BENCHMARK_CAPTURE(BM_Ed25519Sign, libsodium, &ed25519_scheme);
BENCHMARK_CAPTURE(BM_Ed25519Sign, openssl, &ed25519_openssl_scheme);

void BM_Ed25519Verify(benchmark::State& state, SchemeFn scheme_fn) {
  const SignatureScheme& scheme = scheme_fn();
  const KeyPair key = KeyPair::from_label("bench-signer");
  const Bytes message = vote_message();
  const Signature sig = scheme.sign(key, message);
  if (!scheme.verify(key.public_key, message, sig)) {
    state.SkipWithError("a valid signature did not verify");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(scheme.verify(key.public_key, message, sig));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(message.size()) + "-byte vote sign-bytes");
}
BENCHMARK_CAPTURE(BM_Ed25519Verify, libsodium, &ed25519_scheme);
BENCHMARK_CAPTURE(BM_Ed25519Verify, openssl, &ed25519_openssl_scheme);

void BM_Sha256(benchmark::State& state) {
  const Bytes message(static_cast<std::size_t>(state.range(0)), 0x5a);
  for (auto _ : state) {
    benchmark::DoNotOptimize(sha256(message));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(200);

constexpr std::size_t proposal_txs_count = 1000;

// A proposal as a leader sends it under load: a full block of transfers from
// distinct senders, carrying a QC of four votes.
Proposal full_proposal() {
  Block block;
  block.round = Round(1'000);
  block.proposer = NodeId(1);
  block.justify.block.bytes = sha256(as_bytes("parent")).bytes;
  block.justify.round = Round(999);
  block.justify.height = Height(900);
  for (std::uint32_t i = 0; i < 4; ++i) {
    block.justify.votes.push_back(SignerSig{NodeId(i), Signature{}});
  }
  const KeyPair recipient = KeyPair::from_label("bench-recipient");
  for (std::size_t i = 0; i < proposal_txs_count; ++i) {
    Transaction tx;
    tx.sender.bytes = sha256(as_bytes("sender-" + std::to_string(i))).bytes;
    tx.nonce = i;
    tx.op = Transfer{recipient.public_key, 1 + i};
    tx.sig.bytes.fill(static_cast<std::uint8_t>(i));
    block.txs.push_back(tx);
  }
  return Proposal{seal(sha256, bench_chain(), std::move(block)), std::nullopt, Signature{}};
}

void BM_EncodeProposal1000Transfers(benchmark::State& state) {
  const Message message = full_proposal();
  std::size_t frame_bytes = 0;
  for (auto _ : state) {
    const Bytes frame = encode(message);
    frame_bytes = frame.size();
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(proposal_txs_count));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame_bytes));
  state.SetLabel("items = transactions");
}
BENCHMARK(BM_EncodeProposal1000Transfers);

// Includes sealing: the decoder recomputes the block id, which hashes every
// transaction (1000 SHA-256 of about 150 bytes).
void BM_DecodeProposal1000Transfers(benchmark::State& state) {
  const Bytes frame = encode(full_proposal());
  const ChainParams params;
  for (auto _ : state) {
    auto decoded = decode_message(sha256, bench_chain(), params, frame);
    if (!decoded) {
      state.SkipWithError(std::string(to_string(decoded.error())).c_str());
      return;
    }
    benchmark::DoNotOptimize(decoded);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(proposal_txs_count));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(frame.size()));
  state.SetLabel("items = transactions");
}
BENCHMARK(BM_DecodeProposal1000Transfers);

}  // namespace
}  // namespace synod
