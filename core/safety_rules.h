// SafetyRules: the only code that signs votes and timeouts, and the record
// that makes signing safe across crashes. It never signs two different votes
// or two different timeouts or proposals for one round, and never votes in a
// round it timed out. The caller must persist record() (atomically, fsynced) before any
// message it returned leaves the node: Outbox::safety carries it, and the
// driver writes it before it sends anything (core/driver.h).
#pragma once

#include <expected>
#include <optional>

#include "core/crypto.h"
#include "core/messages.h"

namespace synod {

// What a validator has signed. Stored apart from the ledger so that restoring
// a ledger backup never rolls it back.
struct SafetyRecord {
  Round voted_round;       // highest round with a signed vote or timeout
  Round highest_qc_round;  // highest QC round among blocks voted for
  Round proposed_round;    // highest round with a signed proposal
  std::optional<Vote> last_vote;        // resent as is, never re-signed
  std::optional<Timeout> last_timeout;  // resent as is, never re-signed
  std::optional<TimeoutCert> last_tc;   // the TC that justified the latest round signed in (vote, timeout or proposal)
};

enum class SafetyError : std::uint8_t {
  RoundNotAfterVoted = 1,  // vote: round <= voted_round
  NotExtending,            // vote: neither QC(r-1) nor TC(r-1) with a QC not below it
  TimeoutRoundStale,       // timeout: round < voted_round, or below the last timeout
  TimeoutQcTooLow,         // timeout: high QC below one already voted on
  TimeoutNotJustified,     // timeout: round is neither QC round + 1 nor TC round + 1
  ProposalRoundStale,      // proposal: round <= proposed_round
  ProposalNotJustified,    // proposal: neither on QC(r-1) nor with TC(r-1)
};
std::string_view to_string(SafetyError e);

class SafetyRules {
 public:
  SafetyRules(const ChainId& chain, NodeId self, const KeyPair& key, const SignatureScheme& scheme,
              SafetyRecord record);

  // Vote rule (docs/protocol.md "VoteRule"): vote for block B in round r only if
  // r > voted_round, and either B.justify.round == r - 1, or tc.round == r - 1
  // and B.justify.round >= tc.high_qc_round().
  std::expected<Vote, SafetyError> make_vote(const Block& block, const std::optional<TimeoutCert>& tc);

  // Timeout rule (docs/protocol.md "TimeoutRule"): time out round r only if
  // r >= voted_round, high_qc.round >= highest_qc_round, and r == high_qc.round + 1
  // or r == tc.round + 1. A second request for the same round returns the
  // timeout already signed.
  std::expected<Timeout, SafetyError> make_timeout(Round round, const QuorumCert& high_qc,
                                                   const std::optional<TimeoutCert>& tc);

  // ProposalSignRule: sign at most one proposal per round, even across
  // restarts; the TC that justified it is recorded, so that a restart resumes
  // in its round.
  std::expected<Signature, SafetyError> sign_proposal(const Block& block, const std::optional<TimeoutCert>& tc);

  const SafetyRecord& record() const { return record_; }

 private:
  ChainId chain_;
  NodeId self_;
  KeyPair key_;
  const SignatureScheme& scheme_;
  SafetyRecord record_;
};

}  // namespace synod
