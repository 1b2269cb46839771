// What the simulator's adversary and checker keep is bounded: the Equivocator
// remembers at most remembered_qcs_max QCs, and remembered_entries_max
// conflicting messages and withholding decisions (sim/adversary.cc),
// forgetting the lowest rounds; the Checker keeps its first violations_max()
// findings and drops the rest. Each test fills a bound past its limit and checks what is dropped.
#include <gtest/gtest.h>

#include "core/certs.h"
#include "core/sign_bytes.h"
#include "sim/adversary.h"
#include "sim/checker.h"
#include "sim/sim_crypto.h"
#include "tests/test_util.h"

namespace synod::sim {
namespace {

// The limits in sim/adversary.cc, restated: the tests show each is reached.
constexpr std::size_t remembered_qcs_max = 16;
constexpr std::size_t remembered_entries_max = 64;

class EquivocatorLimits : public ::testing::Test {
 protected:
  EquivocatorLimits() : key_(scheme_.key("equivocator")), equivocator_(out_, genesis_, self_, key_, scheme_, 7) {}

  // A block of `round` whose justify certifies a block of round - 1.
  BlockPtr block(std::uint64_t round, NodeId proposer) const {
    QuorumCert justify{BlockId{}, Round(round - 1), Height(round - 1), {}};
    justify.block.bytes[0] = static_cast<std::uint8_t>(round);
    justify.block.bytes[1] = static_cast<std::uint8_t>(round >> 8);
    return seal(sha256, genesis_.chain_id(), Block{Round(round), proposer, justify, {}, {}});
  }
  // Another validator's proposal, as the equivocator's instance receives it.
  void observe_proposal(std::uint64_t round) {
    equivocator_.observe(Message{Proposal{block(round, NodeId(1)), std::nullopt, {}}});
  }
  void send_own(const Message& message) { equivocator_.send(NodeId(1), std::make_shared<const Message>(message)); }
  Vote own_vote(std::uint64_t round) const { return Vote{BlockId{}, Round(round), Height(round), self_, {}}; }
  Timeout own_timeout(std::uint64_t round, const QuorumCert& high_qc) const {
    return Timeout{Round(round), high_qc, self_, {}};
  }

  const Genesis genesis_ = test_genesis(4);
  const NodeId self_ = NodeId(0);
  SimSignatureScheme scheme_;
  KeyPair key_;
  RecordingNetwork out_;
  Equivocator equivocator_;
};

TEST_F(EquivocatorLimits, RemembersAtMostRememberedRoundsMaxWithholdingDecisions) {
  // Its own empty proposals without a TC have no conflict: each goes to the
  // peer unless that round's proposals are withheld from it.
  const std::uint64_t rounds = remembered_entries_max + 10;
  for (std::uint64_t round = 1; round <= rounds; ++round) {
    send_own(Proposal{seal(sha256, genesis_.chain_id(), Block{Round(round), self_, genesis_qc(genesis_.chain_id()), {}, {}}),
                      std::nullopt, {}});
    EXPECT_LE(equivocator_.remembered_withholding(), remembered_entries_max);
  }
  EXPECT_EQ(equivocator_.remembered_withholding(), remembered_entries_max);
  EXPECT_GT(equivocator_.stats().withheld, 0u);
  EXPECT_EQ(out_.sent.size() + equivocator_.stats().withheld, rounds);
}

TEST_F(EquivocatorLimits, RemembersAtMostRememberedQcsMaxForgettingTheLowestRound) {
  // Before the bound, the genesis QC (round 0) is the older QC for a conflicting timeout.
  observe_proposal(2);  // its justify is a QC of round 1
  send_own(own_timeout(2, block(2, NodeId(1))->justify));
  EXPECT_EQ(equivocator_.stats().timeouts, 1u);

  const std::uint64_t last = remembered_qcs_max + 20;
  for (std::uint64_t round = 3; round <= last + 1; ++round) observe_proposal(round);
  EXPECT_EQ(equivocator_.remembered_qcs(), remembered_qcs_max);

  // The lowest rounds are gone: a timeout whose high QC is the lowest kept has
  // no older QC to conflict with; one above it still has.
  const std::uint64_t lowest_kept = last + 1 - remembered_qcs_max;
  send_own(own_timeout(lowest_kept + 1, block(lowest_kept + 1, NodeId(1))->justify));
  EXPECT_EQ(equivocator_.stats().timeouts, 1u);
  send_own(own_timeout(lowest_kept + 2, block(lowest_kept + 2, NodeId(1))->justify));
  EXPECT_EQ(equivocator_.stats().timeouts, 2u);
}

TEST_F(EquivocatorLimits, RemembersAtMostRememberedRoundsMaxConflictsForgettingTheLowestRounds) {
  for (std::uint64_t round = 1; round <= remembered_entries_max; ++round) send_own(own_vote(round));
  EXPECT_EQ(equivocator_.remembered_conflicts(), remembered_entries_max);
  EXPECT_EQ(equivocator_.stats().votes, remembered_entries_max);

  // A vote resent in a remembered round gets the conflict already signed.
  send_own(own_vote(1));
  EXPECT_EQ(equivocator_.stats().votes, remembered_entries_max);

  for (std::uint64_t round = remembered_entries_max + 1; round <= remembered_entries_max + 5; ++round) {
    send_own(own_vote(round));
  }
  EXPECT_EQ(equivocator_.remembered_conflicts(), remembered_entries_max);
  // Round 1 was forgotten: resending its vote signs a new conflict, which,
  // being the lowest round, is the one forgotten next.
  send_own(own_vote(1));
  EXPECT_EQ(equivocator_.stats().votes, remembered_entries_max + 6);
  EXPECT_EQ(equivocator_.remembered_conflicts(), remembered_entries_max);
}

TEST(CheckerLimits, KeepsTheFirstViolationsMaxAndDropsTheRest) {
  const Genesis genesis = test_genesis(4, {}, {test_allocation(alice(), 100)});
  SimSignatureScheme scheme;
  Checker checker(genesis, scheme, {true, true, true, true});
  // Each report of a changed total balance is one conservation violation.
  const std::size_t reported = checker.violations_max() + 25;
  for (std::size_t i = 0; i < reported; ++i) checker.on_commits(0, TimeMs(i), {}, BalanceSum(99));
  ASSERT_EQ(checker.violations().size(), checker.violations_max());
  EXPECT_EQ(checker.violations().front().at, TimeMs(0));
  EXPECT_EQ(checker.violations().back().at, TimeMs(checker.violations_max() - 1)) << "the latest are dropped";
}

}  // namespace
}  // namespace synod::sim
