// Signed consensus traffic from the other validators of test_genesis(), for
// tests that drive one replica by hand across restarts (the AmnesiaRule,
// restore of a backup). Header-only; never included outside tests/.
#pragma once

#include <memory>
#include <string>

#include "core/replica.h"
#include "core/sign_bytes.h"
#include "tests/test_util.h"

namespace synod {

class SignedRounds {
 public:
  static constexpr std::size_t n = 4;

  // `self` is the light validator (weight 1 of 10; the other three form every
  // QC), on a chain where it leads none of rounds 1..rounds_max + 1, so it
  // only votes there. The schedule gives every validator a turn in each epoch
  // of n rounds but the light one only in some (docs/protocol.md section 2),
  // so a few chain names are tried.
  explicit SignedRounds(std::uint64_t rounds_max) {
    for (int attempt = 0;; ++attempt) {
      genesis.chain_name = "signed-rounds-" + std::to_string(attempt);
      chain = genesis.chain_id();
      bool leads = false;
      for (std::uint64_t r = 1; r <= rounds_max + 1; ++r) leads = leads || leader(r) == self;
      if (!leads) return;
      SYNOD_ASSERT(attempt < 1000);
    }
  }

  NodeId leader(std::uint64_t round) const { return roster.leader(sha256, chain, Round(round)); }

  BlockPtr block(std::uint64_t round, const QuorumCert& justify) const {
    return seal(sha256, chain, Block{Round(round), leader(round), justify, {}, {}});
  }

  Proposal proposal(const BlockPtr& b) const {
    return Proposal{b, std::nullopt,
                    ed25519_scheme().sign(test_validator_key(b->proposer.value), proposal_sign_bytes(chain, b->id))};
  }

  Vote vote(const BlockPtr& b, NodeId voter) const {
    return Vote{b->id, b->round, b->height(), voter,
                ed25519_scheme().sign(test_validator_key(voter.value),
                                      vote_sign_bytes(chain, b->id, b->round, b->height()))};
  }

  // Signed by three validators other than `self`.
  QuorumCert qc(const BlockPtr& b) const {
    QuorumCert c{b->id, b->round, b->height(), {}};
    for (std::uint32_t v = 0; v < n && c.votes.size() < 3; ++v) {
      if (NodeId(v) != self) c.votes.push_back(SignerSig{NodeId(v), vote(b, NodeId(v)).sig});
    }
    return c;
  }

  Timeout timeout(std::uint64_t round, const QuorumCert& high_qc, NodeId sender) const {
    return Timeout{Round(round), high_qc, sender,
                   ed25519_scheme().sign(test_validator_key(sender.value),
                                         timeout_sign_bytes(chain, Round(round), high_qc.round)),
                   std::nullopt};
  }

  std::unique_ptr<Replica> boot(const ReplicaConfig& config, const Recovery& recovery, TimeMs now) const {
    return std::make_unique<Replica>(genesis, self, test_validator_key(self.value), ed25519_scheme(), config, recovery,
                                     now);
  }

  static std::vector<Vote> votes(const Outbox& out) {
    std::vector<Vote> found;
    for (const Envelope& e : out.messages) {
      if (const auto* v = std::get_if<Vote>(e.message.get())) found.push_back(*v);
    }
    return found;
  }

  static std::size_t timeouts(const Outbox& out) {
    std::size_t found = 0;
    for (const Envelope& e : out.messages) found += std::holds_alternative<Timeout>(*e.message) ? 1 : 0;
    return found;
  }

  // Persists an outbox as the driver would, in its order, and returns it.
  static Outbox persist(Replica& replica, Store& store) {
    Outbox out = replica.take_outbox();
    if (!out.blocks.empty()) store.save_blocks(out.blocks);
    if (out.safety) store.save_safety(*out.safety);
    if (!out.commits.empty()) store.save_commits(out.commits);
    return out;
  }

  Genesis genesis = test_genesis(n, {3, 3, 3, 1}, {test_allocation(alice(), 1000)});
  ChainId chain = genesis.chain_id();
  Roster roster{genesis.validators};
  NodeId self{3};
};

}  // namespace synod
