#include "sim/adversary.h"

#include "core/certs.h"
#include "core/sign_bytes.h"

namespace synod::sim {

namespace {
constexpr std::size_t remembered_qcs_max = 16;
constexpr std::size_t remembered_entries_max = 64;
}  // namespace

Equivocator::Equivocator(Network& out, const Genesis& genesis, NodeId self, const KeyPair& key,
                         const SignatureScheme& scheme, std::uint64_t seed)
    : out_(out), chain_(genesis.chain_id()), self_(self), key_(key), scheme_(scheme), rng_(seed) {
  qcs_.emplace(Round(0), genesis_qc(chain_));
}

void Equivocator::remember_qc(const QuorumCert& qc) {
  qcs_.emplace(qc.round, qc);
  while (qcs_.size() > remembered_qcs_max) qcs_.erase(qcs_.begin());
}

void Equivocator::observe(const Message& message) {
  if (const auto* p = std::get_if<Proposal>(&message)) remember_qc(p->block->justify);
}

// Some of its proposals reach only a random part of the peers: the QC such a
// proposal carries then commits a block at some honest replicas and not at
// the others, which is the split a conflicting proposal after the round's TC
// needs to become a fork under a broken VoteRule.
bool Equivocator::withholds(const MessagePtr& message) {
  const auto* p = std::get_if<Proposal>(message.get());
  if (!p || p->block->proposer != self_) return false;
  auto [it, fresh] = withholding_.emplace(p->block->round, false);
  if (fresh) it->second = rng_.chance(0.3);
  while (withholding_.size() > remembered_entries_max) withholding_.erase(withholding_.begin());
  return it->second && rng_.chance(0.5);
}

void Equivocator::send(NodeId to, const MessagePtr& message) {
  const auto [other, alone] = conflicting(message);
  if (alone) return out_.send(to, other);
  if (withholds(message)) {
    ++stats_.withheld;
    return;
  }
  if (!other) return out_.send(to, message);
  switch (rng_.below(4)) {
    case 0: return out_.send(to, message);
    case 1: return out_.send(to, other);
    case 2:
      out_.send(to, message);
      return out_.send(to, other);
    default:
      out_.send(to, other);
      return out_.send(to, message);
  }
}

Equivocator::Conflict Equivocator::conflicting(const MessagePtr& message) {
  Round round;
  if (const auto* p = std::get_if<Proposal>(message.get()); p && p->block->proposer == self_) {
    round = p->block->round;
  } else if (const auto* v = std::get_if<Vote>(message.get()); v && v->voter == self_) {
    round = v->round;
  } else if (const auto* t = std::get_if<Timeout>(message.get()); t && t->sender == self_) {
    round = t->round;
  } else {
    return {};
  }
  // One conflicting message per round and kind, whichever peer it goes to;
  // the oldest rounds are forgotten first.
  const auto key = std::pair(round, message->index());
  if (auto it = twins_.find(key); it != twins_.end()) return it->second;
  Conflict other;
  if (const auto* p = std::get_if<Proposal>(message.get())) other = conflicting_proposal(*p);
  if (const auto* v = std::get_if<Vote>(message.get())) other = conflicting_vote(*v);
  if (const auto* t = std::get_if<Timeout>(message.get())) other = {conflicting_timeout(*t), false};
  twins_.emplace(key, other);
  while (twins_.size() > remembered_entries_max) twins_.erase(twins_.begin());
  return other;
}

Equivocator::Conflict Equivocator::conflicting_proposal(const Proposal& p) {
  remember_qc(p.block->justify);
  Block block{p.block->round, self_, p.block->justify, p.block->txs, {}};
  auto older = qcs_.lower_bound(p.block->justify.round);
  // After a TC it attacks the lock whenever it knows an older QC: it extends
  // the QC just below the honest one. Only a broken VoteRule accepts that
  // block, and it conflicts with the honest block, which an honest replica cut
  // off from the rest may have committed. It goes alone to every peer: an
  // honest replica that saw both would vote for the first it saw, and the
  // attack needs a quorum.
  const bool attack = p.tc && older != qcs_.begin();
  if (attack) {
    --older;
    block.justify = older->second;
  } else if (!block.txs.empty()) {
    block.txs.pop_back();
  } else {
    return {};  // an empty block on the only QC allowed: nothing else to sign
  }
  BlockPtr sealed = seal(scheme_.digest(), chain_, std::move(block));
  ++stats_.proposals;
  const Signature sig = scheme_.sign(key_, proposal_sign_bytes(chain_, sealed->id));
  return {std::make_shared<const Message>(Proposal{sealed, p.tc, sig}), attack};
}

Equivocator::Conflict Equivocator::conflicting_vote(const Vote& v) {
  Vote other = v;
  // It votes for its own conflicting proposal of the round when it made one:
  // with honest votes misled by that proposal, this can complete its QC. A
  // vote for an attack on the lock goes alone too, since a leader counts
  // only the first vote it gets from each voter.
  const auto own = twins_.find(std::pair(v.round, Message(std::in_place_type<Proposal>).index()));
  const Conflict fork = own != twins_.end() ? own->second : Conflict{};
  const auto* proposal = fork.message ? std::get_if<Proposal>(fork.message.get()) : nullptr;
  const bool ours = proposal && proposal->block->id != v.block;
  if (ours) {
    other.block = proposal->block->id;
    other.height = proposal->block->height();
  } else {
    for (auto& byte : other.block.bytes) byte = static_cast<std::uint8_t>(rng_.next());
  }
  other.sig = scheme_.sign(key_, vote_sign_bytes(chain_, other.block, other.round, other.height));
  ++stats_.votes;
  return {std::make_shared<const Message>(other), ours && fork.alone};
}

MessagePtr Equivocator::conflicting_timeout(const Timeout& t) {
  auto older = qcs_.lower_bound(t.high_qc.round);
  if (older == qcs_.begin()) return nullptr;
  --older;
  Timeout other{t.round, older->second, self_, {}, t.tc};
  other.sig = scheme_.sign(key_, timeout_sign_bytes(chain_, other.round, other.high_qc.round));
  ++stats_.timeouts;
  return std::make_shared<const Message>(other);
}

}  // namespace synod::sim
