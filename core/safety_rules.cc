#include "core/safety_rules.h"

#include "core/assert.h"
#include "core/sign_bytes.h"

namespace synod {

std::string_view to_string(SafetyError e) {
  switch (e) {
    case SafetyError::RoundNotAfterVoted: return "round_not_after_voted";
    case SafetyError::NotExtending: return "not_extending";
    case SafetyError::TimeoutRoundStale: return "timeout_round_stale";
    case SafetyError::TimeoutQcTooLow: return "timeout_qc_too_low";
    case SafetyError::TimeoutNotJustified: return "timeout_not_justified";
    case SafetyError::ProposalRoundStale: return "proposal_round_stale";
    case SafetyError::ProposalNotJustified: return "proposal_not_justified";
  }
  return "unknown";
}

SafetyRules::SafetyRules(const ChainId& chain, NodeId self, const KeyPair& key,
                         const SignatureScheme& scheme, SafetyRecord record)
    : chain_(chain), self_(self), key_(key), scheme_(scheme), record_(std::move(record)) {}

std::expected<Vote, SafetyError> SafetyRules::make_vote(const Block& block,
                                                        const std::optional<TimeoutCert>& tc) {
  const Round r = block.round;
  if (!(r > record_.voted_round)) return std::unexpected(SafetyError::RoundNotAfterVoted);
  const bool follows_qc = block.justify.round.next() == r;
#ifdef SYNOD_MUTANT_VOTE_RULE
  // The test-only mutant (tests/mutant/): the lock clause is gone, so a block
  // after a TC may extend a QC older than the TC's highest one.
  const bool follows_tc = tc && tc->round.next() == r;
#else
  const bool follows_tc = tc && tc->round.next() == r && block.justify.round >= tc->high_qc_round();
#endif
  if (!follows_qc && !follows_tc) return std::unexpected(SafetyError::NotExtending);

  Vote vote{block.id, r, block.height(), self_, {}};
  vote.sig = scheme_.sign(key_, vote_sign_bytes(chain_, block.id, r, block.height()));
  record_.voted_round = r;
  record_.highest_qc_round = std::max(record_.highest_qc_round, block.justify.round);
  record_.last_vote = vote;
  if (!follows_qc) record_.last_tc = tc;
  SYNOD_ASSERT(record_.voted_round == r);
  return vote;
}

std::expected<Timeout, SafetyError> SafetyRules::make_timeout(Round round, const QuorumCert& high_qc,
                                                              const std::optional<TimeoutCert>& tc) {
  if (record_.last_timeout && record_.last_timeout->round == round) return *record_.last_timeout;
  if (round < record_.voted_round) return std::unexpected(SafetyError::TimeoutRoundStale);
  if (record_.last_timeout && round < record_.last_timeout->round) {
    return std::unexpected(SafetyError::TimeoutRoundStale);
  }
  if (high_qc.round < record_.highest_qc_round) return std::unexpected(SafetyError::TimeoutQcTooLow);
  const bool follows_qc = high_qc.round.next() == round;
  const bool follows_tc = tc && tc->round.next() == round;
  if (!follows_qc && !follows_tc) return std::unexpected(SafetyError::TimeoutNotJustified);

  Timeout timeout{round, high_qc, self_, {}, follows_qc ? std::nullopt : tc};
  timeout.sig = scheme_.sign(key_, timeout_sign_bytes(chain_, round, high_qc.round));
  record_.voted_round = round;  // no vote in a round once it timed out
  record_.last_timeout = timeout;
  if (!follows_qc) record_.last_tc = tc;
  SYNOD_ASSERT(record_.voted_round == round);
  return timeout;
}

std::expected<Signature, SafetyError> SafetyRules::sign_proposal(const Block& block,
                                                                const std::optional<TimeoutCert>& tc) {
  if (!(block.round > record_.proposed_round)) return std::unexpected(SafetyError::ProposalRoundStale);
  const bool follows_qc = block.justify.round.next() == block.round;
  const bool follows_tc = tc && tc->round.next() == block.round;
  if (!follows_qc && !follows_tc) return std::unexpected(SafetyError::ProposalNotJustified);
  SYNOD_ASSERT(block.proposer == self_);
  record_.proposed_round = block.round;
  if (!follows_qc) record_.last_tc = tc;
  return scheme_.sign(key_, proposal_sign_bytes(chain_, block.id));
}

}  // namespace synod
