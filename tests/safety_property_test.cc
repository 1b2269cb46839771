// Properties of the laws the protocol rests on: quorum arithmetic for random
// weights, and SafetyRules never signing two different votes, timeouts or
// proposals for one round, whatever inputs it gets and however often the
// process restarts from its persisted record.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstring>
#include <map>

#include "core/certs.h"
#include "core/roster.h"
#include "core/safety_rules.h"
#include "core/sign_bytes.h"
#include "tests/test_util.h"

namespace synod {
namespace {

std::vector<Validator> validators_with(const std::vector<std::uint64_t>& weights) {
  std::vector<Validator> v;
  for (std::size_t i = 0; i < weights.size(); ++i) v.push_back(Validator{test_validator_key(i).public_key, Weight(weights[i]), "", ""});
  return v;
}

std::uint64_t weight_of(const Roster& roster, const std::vector<bool>& members) {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < members.size(); ++i) w += members[i] ? roster.weight(NodeId(static_cast<std::uint32_t>(i))).value : 0;
  return w;
}

RC_GTEST_PROP(QuorumProperty, AnyTwoQuorumsShareMoreThanAThird, ()) {
  const auto weights = *rc::gen::resize(10, rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint64_t>>(
                           rc::gen::inRange<std::uint64_t>(1, std::uint64_t{1} << 40))));
  const Roster roster(validators_with(weights));
  const auto a = *rc::gen::container<std::vector<bool>>(weights.size(), rc::gen::arbitrary<bool>());
  const auto b = *rc::gen::container<std::vector<bool>>(weights.size(), rc::gen::arbitrary<bool>());
  std::vector<bool> both(weights.size());
  std::vector<bool> rest(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    both[i] = a[i] && b[i];
    rest[i] = !a[i];
  }
  const Weight wa(weight_of(roster, a)), wb(weight_of(roster, b));
  if (roster.is_quorum(wa) && roster.is_quorum(wb)) {
    // More than W/3 in common: an honest validator while Byzantine weight < W/3.
    RC_ASSERT(roster.exceeds_one_third(Weight(weight_of(roster, both))));
  }
  if (roster.is_quorum(wa)) RC_ASSERT(!roster.exceeds_one_third(Weight(weight_of(roster, rest))));
  // The full roster is always a quorum; the empty set never.
  RC_ASSERT(roster.is_quorum(roster.total()));
  RC_ASSERT(!roster.is_quorum(Weight(0)));
}

RC_GTEST_PROP(QuorumProperty, LeaderIsAlwaysAValidator, (std::uint64_t round)) {
  const auto weights = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint64_t>>(rc::gen::inRange<std::uint64_t>(1, 100)));
  const Roster roster(validators_with(weights));
  RC_ASSERT(roster.contains(roster.leader(sha256, ChainId{}, Round(round))));
}

TEST(LeaderSchedule, LeadsInProportionToWeight) {
  const Roster roster(validators_with({1, 1, 1, 2}));
  std::map<std::uint32_t, int> led;
  for (std::uint64_t r = 1; r <= 20000; ++r) ++led[roster.leader(sha256, ChainId{}, Round(r)).value];
  EXPECT_NEAR(led[3] / 20000.0, 0.4, 0.02);
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_NEAR(led[i] / 20000.0, 0.2, 0.02);
}

// The schedule spreads turns (docs/protocol.md section 2): within an epoch of
// n rounds a validator of weight w leads floor(n w / W) or ceil(n w / W) of
// them, so one with at most W / n of several never leads three rounds in a
// row. A draw per round fails both within a few hundred epochs.
RC_GTEST_PROP(LeaderSchedule, EachEpochGivesTurnsInProportionToWeight, ()) {
  const auto weights = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint64_t>>(rc::gen::inRange<std::uint64_t>(1, 20)));
  const Roster roster(validators_with(weights));
  const std::uint64_t n = weights.size();
  const std::uint64_t total = roster.total().value;
  ChainId chain;
  const auto salt = *rc::gen::arbitrary<std::uint64_t>();
  std::memcpy(chain.bytes.data(), &salt, sizeof salt);
  std::vector<NodeId> led;
  for (std::uint64_t epoch = 0; epoch < 300; ++epoch) {
    std::vector<std::uint64_t> turns(n, 0);
    for (std::uint64_t r = epoch * n; r < (epoch + 1) * n; ++r) {
      led.push_back(roster.leader(sha256, chain, Round(r)));
      ++turns[led.back().value];
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      RC_ASSERT(turns[i] * total >= n * weights[i] - (n * weights[i]) % total);   // at least the floor
      RC_ASSERT(turns[i] * total <= n * weights[i] + total - 1);                   // at most the ceiling
    }
  }
  for (std::size_t r = 2; r < led.size(); ++r) {
    const bool light = n > 1 && n * weights[led[r].value] <= total;
    RC_ASSERT(!(light && led[r] == led[r - 1] && led[r] == led[r - 2]));
  }
}

// A heavy validator's turns are shuffled within each epoch: with a third of the
// weight among 67 light ones it leads 22 or 23 rounds of every 68, and taken
// in order those would be one run; shuffled, its longest run over 300 epochs
// stays short (a run of 14 has odds near 3^-14 per round).
TEST(LeaderSchedule, AHeavyValidatorsTurnsDoNotFollowOneAnother) {
  std::vector<std::uint64_t> weights(68, 1);
  weights[0] = 33;
  const Roster roster(validators_with(weights));
  std::uint64_t run = 0;
  std::uint64_t longest = 0;
  for (std::uint64_t r = 0; r < 300 * weights.size(); ++r) {
    run = roster.leader(sha256, ChainId{}, Round(r)) == NodeId(0) ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_GE(longest, 3u);
  EXPECT_LT(longest, 14u);
}

// One input to SafetyRules, drawn at random.
struct SafetyInput {
  enum Kind { VoteFor, TimeoutIn, Propose, Restart } kind;
  std::uint64_t round;
  std::uint64_t qc_round;
  std::optional<std::uint64_t> tc_round;
  std::uint64_t tc_high_qc_round;
  std::uint8_t payload;  // makes blocks of one round differ
};

rc::Gen<SafetyInput> safety_input() {
  return rc::gen::exec([] {
    SafetyInput in{};
    in.kind = *rc::gen::element(SafetyInput::VoteFor, SafetyInput::TimeoutIn, SafetyInput::Propose, SafetyInput::Restart);
    in.round = *rc::gen::inRange<std::uint64_t>(1, 12);
    in.qc_round = *rc::gen::inRange<std::uint64_t>(0, in.round);
    if (*rc::gen::arbitrary<bool>()) in.tc_round = *rc::gen::inRange<std::uint64_t>(1, 12);
    in.tc_high_qc_round = *rc::gen::inRange<std::uint64_t>(0, 12);
    in.payload = *rc::gen::inRange<std::uint8_t>(0, 3);
    return in;
  });
}

RC_GTEST_PROP(SafetyRulesProperty, NeverSignsTwoDifferentMessagesForOneRound, ()) {
  const auto inputs = *rc::gen::container<std::vector<SafetyInput>>(safety_input());
  const KeyPair key = test_validator_key(0);
  const ChainId chain{};
  const SignatureScheme& scheme = ed25519_scheme();
  SafetyRecord persisted;
  auto rules = std::make_unique<SafetyRules>(chain, NodeId(0), key, scheme, persisted);
  std::map<std::uint64_t, BlockId> voted;
  std::map<std::uint64_t, Round> timed_out;  // round -> high QC round signed
  std::map<std::uint64_t, BlockId> proposed;

  for (const SafetyInput& in : inputs) {
    std::optional<TimeoutCert> tc;
    if (in.tc_round) {
      tc = TimeoutCert{Round(*in.tc_round), {TimeoutSig{NodeId(1), Round(std::min(in.tc_high_qc_round, *in.tc_round - 1)), {}}}};
    }
    const QuorumCert justify{BlockId{}, Round(in.qc_round), Height(in.qc_round), {}};
    Block block{Round(in.round), NodeId(0), justify, {}, {}};
    block.id.bytes[0] = in.payload;
    block.id.bytes[1] = static_cast<std::uint8_t>(in.round);
    switch (in.kind) {
      case SafetyInput::VoteFor:
        if (auto v = rules->make_vote(block, tc)) {
          RC_ASSERT(!voted.contains(in.round));
          RC_ASSERT(!timed_out.contains(in.round));  // never vote in a round timed out
          voted[in.round] = v->block;
          RC_ASSERT(scheme.verify(key.public_key, vote_sign_bytes(chain, v->block, v->round, v->height), v->sig));
        }
        break;
      case SafetyInput::TimeoutIn:
        if (auto t = rules->make_timeout(Round(in.round), justify, tc)) {
          if (timed_out.contains(in.round)) RC_ASSERT(timed_out[in.round] == t->high_qc.round);
          timed_out[in.round] = t->high_qc.round;
        }
        break;
      case SafetyInput::Propose:
        if (auto s = rules->sign_proposal(block, tc)) {
          RC_ASSERT(!proposed.contains(in.round));
          proposed[in.round] = block.id;
          // A restart must resume in this round: QC(r-1) is in the stored
          // block, else the record holds TC(r-1).
          const bool follows_qc = block.justify.round.next() == block.round;
          RC_ASSERT(follows_qc || (rules->record().last_tc && rules->record().last_tc->round.next() == block.round));
        }
        break;
      case SafetyInput::Restart:
        // What the driver persisted before anything left: restart from it.
        rules = std::make_unique<SafetyRules>(chain, NodeId(0), key, scheme, persisted);
        break;
    }
    persisted = rules->record();
  }
}

}  // namespace
}  // namespace synod
