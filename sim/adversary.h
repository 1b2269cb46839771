// Equivocator: an active Byzantine validator whose key is compromised. Its
// instance runs the honest replica, but on the way out every message it signed
// is paired with a conflicting one signed with the same key, and each peer gets
// one of them, the other, or both in a seeded order:
//   - a proposal: a second block for the same round, with another payload, or,
//     when the proposal carries a TC, extending the QC just below the honest
//     one (an attack on the lock, which goes alone to every peer, however its
//     other proposals are withheld); and in some rounds its proposals reach
//     only a random part of the peers;
//   - a vote: a second vote in the same round, for its own conflicting
//     proposal of that round if it made one (alone, if that was an attack on
//     the lock), else for a made-up block;
//   - a timeout: a second timeout for the same round carrying an older high QC.
// Honest replicas must refuse to be led into a fork by any of these
// (docs/protocol.md: EquivocationRule, VoteRule, TimeoutRule).
#pragma once

#include <cstdint>
#include <map>

#include "core/replica.h"
#include "sim/scheduler.h"

namespace synod::sim {

struct EquivocatorStats {
  std::uint64_t proposals = 0;  // conflicting proposals signed
  std::uint64_t votes = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t withheld = 0;  // proposals not sent to a peer
};

class Equivocator final : public Network {
 public:
  Equivocator(Network& out, const Genesis& genesis, NodeId self, const KeyPair& key, const SignatureScheme& scheme,
              std::uint64_t seed);

  void send(NodeId to, const MessagePtr& message) override;
  // What the instance receives: blocks and QCs to build conflicts from.
  void observe(const Message& message);
  const EquivocatorStats& stats() const { return stats_; }
  // What it holds, each bounded (remembered_*_max in adversary.cc): QCs by
  // round, its conflicting messages by (round, kind), and which rounds'
  // proposals it withholds.
  std::size_t remembered_qcs() const { return qcs_.size(); }
  std::size_t remembered_conflicts() const { return twins_.size(); }
  std::size_t remembered_withholding() const { return withholding_.size(); }

 private:
  // A conflicting message, and whether it goes alone to every peer instead of
  // the honest one (an attack on the lock, and its vote).
  struct Conflict {
    MessagePtr message;
    bool alone = false;
  };

  bool withholds(const MessagePtr& message);
  Conflict conflicting(const MessagePtr& message);
  Conflict conflicting_proposal(const Proposal& p);
  Conflict conflicting_vote(const Vote& v);
  MessagePtr conflicting_timeout(const Timeout& t);
  void remember_qc(const QuorumCert& qc);

  Network& out_;
  ChainId chain_;
  NodeId self_;
  KeyPair key_;
  const SignatureScheme& scheme_;
  Rng rng_;
  std::map<std::pair<Round, std::size_t>, Conflict> twins_;  // (round, kind) -> its conflicting message
  std::map<Round, QuorumCert> qcs_;  // recent QCs seen, by round
  std::map<Round, bool> withholding_;  // rounds whose proposals reach only some peers
  EquivocatorStats stats_;
};

}  // namespace synod::sim
