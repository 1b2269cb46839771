// Replica handler throughput: a replica fed a pre-signed chain of proposals,
// each carrying the QC of the one before, checks the proposer's signature and
// the QC, commits by the two-chain rule and signs a vote.
#include <benchmark/benchmark.h>

#include "core/certs.h"
#include "core/mem_store.h"
#include "core/replica.h"
#include "core/sign_bytes.h"

namespace synod {
namespace {

struct Chain {
  Genesis genesis;
  std::vector<Proposal> proposals;
};

// Rounds 1..rounds, each block certified by validators 0..2 in the next block.
// The measured replica, validator 3, has a tiny weight and leads none of these
// rounds (the chain name is chosen so), so it only checks, commits and votes.
Chain make_chain(std::size_t rounds, std::size_t txs_per_block) {
  Chain c;
  for (std::size_t i = 0; i < 4; ++i) {
    c.genesis.validators.push_back(
        Validator{KeyPair::from_label("validator-" + std::to_string(i)).public_key, Weight(i < 3 ? 1000 : 1), "", ""});
  }
  for (int attempt = 0;; ++attempt) {
    c.genesis.chain_name = "bench-" + std::to_string(attempt);
    const Roster roster(c.genesis.validators);
    bool leads = false;
    for (std::uint64_t r = 1; r <= rounds + 1; ++r) leads = leads || roster.leader(sha256, c.genesis.chain_id(), Round(r)) == NodeId(3);
    if (!leads) break;
  }
  const KeyPair alice = KeyPair::from_label("alice");
  c.genesis.allocations.push_back(Allocation{alice.public_key, 1u << 30});
  const ChainId chain = c.genesis.chain_id();
  const Roster roster(c.genesis.validators);
  const auto& scheme = ed25519_scheme();
  QuorumCert justify = genesis_qc(chain);
  std::uint64_t nonce = 0;
  for (std::uint64_t r = 1; r <= rounds; ++r) {
    std::vector<Transaction> txs;
    for (std::size_t i = 0; i < txs_per_block; ++i) {
      Transaction tx{alice.public_key, nonce++, Transfer{PublicKey{}, 1}, {}};
      tx.sig = scheme.sign(alice, tx_sig_bytes(tx_hash(scheme.digest(), chain, tx)));
      txs.push_back(tx);
    }
    const NodeId proposer = roster.leader(sha256, chain, Round(r));
    BlockPtr b = seal(sha256, chain, Block{Round(r), proposer, justify, std::move(txs), {}});
    const KeyPair key = KeyPair::from_label("validator-" + std::to_string(proposer.value));
    c.proposals.push_back(Proposal{b, std::nullopt, scheme.sign(key, proposal_sign_bytes(chain, b->id))});
    justify = QuorumCert{b->id, b->round, b->height(), {}};
    for (std::uint32_t v = 0; v < 3; ++v) {
      justify.votes.push_back(SignerSig{NodeId(v), scheme.sign(KeyPair::from_label("validator-" + std::to_string(v)),
                                                               vote_sign_bytes(chain, b->id, b->round, b->height()))});
    }
  }
  return c;
}

void BM_ReplicaProposalToVote(benchmark::State& state) {
  const std::size_t rounds = 200;
  const Chain chain = make_chain(rounds, static_cast<std::size_t>(state.range(0)));
  const KeyPair self = KeyPair::from_label("validator-3");
  for (auto _ : state) {
    state.PauseTiming();
    MemStore store;
    Replica replica(chain.genesis, NodeId(3), self, ed25519_scheme(), ReplicaConfig{}, store.load().value(), 0);
    (void)replica.take_outbox();
    state.ResumeTiming();
    for (const Proposal& p : chain.proposals) {
      replica.on_message(p.block->proposer, p);
      benchmark::DoNotOptimize(replica.take_outbox());
    }
    if (replica.committed_height() != Height(rounds - 2)) {
      std::string why = "chain did not commit: height " + std::to_string(replica.committed_height().value);
      for (std::size_t r = 0; r < static_cast<std::size_t>(Reject::kCount); ++r) {
        if (replica.stats().rejected_by_reason[r]) why += std::string(" ") + std::string(to_string(Reject(r)));
      }
      state.SkipWithError(why.c_str());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rounds));
  state.SetLabel("proposals (sigs: 1 proposal + 3 QC + 1 vote + txs)");
}
BENCHMARK(BM_ReplicaProposalToVote)->Arg(0)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace synod
