// Scenarios (sim/scenario.h): operations are checked before they run, a
// recording replays to the same trace, and key compromise below, at and past
// a third of the weight is safe, safe, and a fork the checker reports.
#include <gtest/gtest.h>

#include "sim/scenario.h"

namespace synod::sim {
namespace {

ScenarioOptions options(std::vector<std::uint64_t> weights, std::uint64_t seed = 1) {
  ScenarioOptions o;
  o.weights = std::move(weights);
  o.seed = seed;
  return o;
}

bool has_violation(const std::vector<std::string>& violations, std::string_view kind) {
  return std::ranges::any_of(violations, [&](const std::string& v) { return v.find(kind) != std::string::npos; });
}

TEST(Scenario, ARecordingReplaysToTheSameTraceAndHeight) {
  Scenario s(options({1, 1, 1, 1}, 11));
  s.load(100);
  s.run_for(3'000);
  s.partition({{NodeId(0), NodeId(1), NodeId(2)}, {NodeId(3)}});
  s.run_for(2'000);
  s.crash(NodeId(1));
  EXPECT_TRUE(s.submit(NodeId(0), 0, 1, 5).accepted);
  s.set_latency(5, 80);
  s.set_loss(0.125);
  s.skew_clock(NodeId(2), -700);
  s.run_for(1'500);
  s.restart(NodeId(1));
  s.heal();
  s.pause(NodeId(3));
  s.run_for(1'000);
  s.resume(NodeId(3));
  s.isolate(NodeId(0));
  s.run_for(2'500);
  const std::size_t backup = s.backup(NodeId(1));
  s.run_for(1'000);
  s.crash(NodeId(1));
  s.restore(NodeId(1), backup);
  s.restart(NodeId(1));
  s.crash_before(NodeId(2), "send");
  s.run_for(1'000);
  EXPECT_EQ(s.cluster().state(NodeId(2)), NodeState::Down);
  s.restart(NodeId(2));
  s.heal();
  s.run_for(4'000);
  s.crash(NodeId(3));
  s.upgrade(NodeId(3));  // alone on the next version: the other three go on
  s.restart(NodeId(3));
  s.run_for(2'000);
  EXPECT_GT(s.cluster().refused_version(), 0u);
  ASSERT_TRUE(s.cluster().violations().empty());
  ASSERT_GT(s.cluster().checker().canonical_height().value, 5u);

  const std::string recording = s.recording();
  const auto replayed = replay_scenario(recording);
  ASSERT_TRUE(replayed.has_value()) << replayed.error();
  EXPECT_TRUE(replayed->same_trace()) << recording;
  EXPECT_EQ(replayed->trace_hash, s.cluster().trace_hash());
  EXPECT_EQ(replayed->virtual_ms, s.now());
  EXPECT_EQ(replayed->height, s.cluster().checker().canonical_height());
  EXPECT_TRUE(replayed->violations.empty());
}

// Operations at one virtual instant replay with nothing run between them,
// even when a packet sent with no latency is due at that instant.
TEST(Scenario, OperationsAtOneInstantReplayWithNothingBetweenThem) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Scenario s(options({1, 1, 1, 1}, seed));
    s.set_latency(0, 1);
    s.run_for(500);
    s.submit(NodeId(2), 0, 1, 1);
    s.submit(NodeId(2), 1, 2, 1);
    s.crash(NodeId(3));
    s.run_for(500);
    const auto replayed = replay_scenario(s.recording());
    ASSERT_TRUE(replayed.has_value()) << replayed.error();
    EXPECT_TRUE(replayed->same_trace()) << "seed " << seed << "\n" << s.recording();
  }
}

// The replay checks the trace: a recording whose seed was changed replays,
// but not to the recorded trace.
TEST(Scenario, AReplayOfAnEditedRecordingIsNotTheRecordedTrace) {
  Scenario s(options({1, 1, 1, 1}, 3));
  s.load(50);
  s.run_for(2'000);
  std::string recording = s.recording();
  const std::size_t at = recording.find("seed=3");
  ASSERT_NE(at, std::string::npos);
  recording.replace(at, 6, "seed=4");
  const auto replayed = replay_scenario(recording);
  ASSERT_TRUE(replayed.has_value()) << replayed.error();
  EXPECT_FALSE(replayed->same_trace());
}

TEST(Scenario, BadOperationsAreErrorsThatChangeNothing) {
  Scenario s(options({1, 1, 1}));
  s.run_for(500);
  const std::string before = s.recording();
  EXPECT_THROW(s.crash(NodeId(3)), ScenarioError);
  EXPECT_THROW(s.restart(NodeId(0)), ScenarioError);  // it is up
  EXPECT_THROW(s.resume(NodeId(0)), ScenarioError);   // it is not paused
  EXPECT_THROW(s.partition({{NodeId(0)}, {NodeId(0), NodeId(1)}}), ScenarioError);
  EXPECT_THROW(s.partition({{NodeId(0)}, {}}), ScenarioError);
  EXPECT_THROW(s.set_loss(1.5), ScenarioError);
  EXPECT_THROW(s.set_latency(50, 10), ScenarioError);
  EXPECT_THROW(s.set_latency(0, 0), ScenarioError);  // virtual time would stand still
  EXPECT_THROW(s.submit(NodeId(0), 0, 99, 1), ScenarioError);
  EXPECT_THROW(s.compromise(NodeId(7)), ScenarioError);
  EXPECT_THROW(s.skew_clock(NodeId(0), 7'200'000), ScenarioError);
  EXPECT_THROW(s.load(load_tx_per_s_max + 1), ScenarioError);
  EXPECT_THROW(s.crash_before(NodeId(0), "lunch"), ScenarioError);
  EXPECT_THROW(s.restore(NodeId(0), 0), ScenarioError);  // no backup yet
  EXPECT_EQ(s.backup(NodeId(0)), 0u);
  EXPECT_THROW(s.restore(NodeId(0), 0), ScenarioError);  // it is up
  const std::string with_backup = s.recording();
  EXPECT_EQ(s.recording(), with_backup);
  EXPECT_NE(with_backup, before);
  s.crash(NodeId(2));
  EXPECT_THROW(s.crash(NodeId(2)), ScenarioError);
  EXPECT_THROW(s.submit(NodeId(2), 0, 1, 1), ScenarioError);
  const NodeId twin = s.compromise(NodeId(0));
  EXPECT_EQ(twin, NodeId(3));
  EXPECT_THROW(s.compromise(NodeId(0)), ScenarioError);  // one twin a validator
  EXPECT_THROW(s.compromise(twin), ScenarioError);
  EXPECT_THROW(Scenario(options({})), ScenarioError);
  EXPECT_THROW(Scenario(options({1, 0})), ScenarioError);
  ScenarioOptions one_account = options({1});
  one_account.accounts = 1;
  EXPECT_THROW(Scenario{one_account}, ScenarioError);
}

TEST(Scenario, ARecordingThatDoesNotParseNamesItsLine) {
  const std::string header = "cluster weights=1,1,1,1 seed=1 latency=10-50 loss=0 accounts=8\n";
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "no cluster line"},
      {header, "no end line"},
      {header + "@10 crash 9\n@20 end trace=0\n", "line 2: no node 9"},
      {header + "@10 fly 1\n", "line 2: unknown operation 'fly'"},
      {header + "@10 crash\n", "line 2: crash takes 1 arguments, not 0"},
      {header + "@20 heal\n@10 heal\n", "line 3: bad time '@10'"},
      {header + "@20 end trace=0\n@30 heal\n", "line 3: nothing may follow the end line"},
      {"cluster weights=1,x\n", "line 1: bad weights '1,x'"},
      {"cluster colour=blue\n", "line 1: unknown cluster option 'colour'"},
      {"cluster loss=3\n", "line 1: a cluster wants a loss probability from 0 to 1"},
  };
  for (const Case& c : cases) {
    const auto replayed = replay_scenario(c.text);
    ASSERT_FALSE(replayed.has_value()) << c.text;
    EXPECT_NE(replayed.error().find(c.error), std::string::npos) << replayed.error() << "\nwanted: " << c.error;
  }
}

// Twins as in the Twins paper: the compromised validators' two instances sit
// on different sides of a partition, and each side holds a quorum if and only
// if the compromised weight is past the bound.
struct TwinsCase {
  std::vector<std::uint64_t> weights;
  std::vector<std::uint32_t> compromised;
  std::vector<std::uint32_t> left;   // validators whose own instances go left
  std::vector<std::uint32_t> right;  // validators whose own instances go right
  bool fork;
};

std::vector<std::string> run_twins(const TwinsCase& c, std::uint64_t seed) {
  Scenario s(options(c.weights, seed));
  s.load(100);
  s.run_for(1'000);
  std::vector<NodeId> left, right;
  for (std::uint32_t v : c.left) left.push_back(NodeId(v));
  for (std::uint32_t v : c.right) right.push_back(NodeId(v));
  for (std::uint32_t v : c.compromised) {
    const NodeId twin = s.compromise(NodeId(v));
    // The validator's own instance is on the left; its twin goes right.
    right.push_back(twin);
  }
  s.partition({left, right});
  s.run_for(20'000);
  s.heal();
  s.run_for(10'000);
  EXPECT_GT(s.cluster().checker().canonical_height().value, 0u);
  return s.cluster().violations();
}

TEST(Scenario, TwinsBelowAtAndPastAThirdOfTheWeight) {
  const std::vector<TwinsCase> cases = {
      // A quarter compromised: the right side (one twin, one honest) has no quorum.
      {{1, 1, 1, 1}, {0}, {0, 1, 2}, {3}, false},
      // Exactly a third, W = 6, quorum 5: the left side (2+1+1+1) commits, the
      // right (2+1) cannot, and any two quorums share an honest validator.
      {{2, 1, 1, 1, 1}, {0}, {0, 1, 2, 3}, {4}, false},
      // Exactly a third, W = 3: no side reaches the quorum of 3 at all.
      {{1, 1, 1}, {0}, {0, 1}, {2}, false},
      // Half compromised: each side holds 3 of 4 and commits its own chain.
      {{1, 1, 1, 1}, {0, 1}, {0, 1, 2}, {3}, true},
  };
  for (const TwinsCase& c : cases) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const auto violations = run_twins(c, seed);
      if (c.fork) {
        EXPECT_TRUE(has_violation(violations, "agreement")) << "seed " << seed << ": past a third must fork";
      } else {
        EXPECT_TRUE(violations.empty()) << "seed " << seed << ": " << (violations.empty() ? "" : violations[0]);
      }
    }
  }
}

TEST(Scenario, CompromisedWeightCountsEveryCompromisedValidatorOnce) {
  Scenario s(options({2, 1, 1, 1, 1}));
  EXPECT_EQ(s.cluster().compromised_weight(), 0u);
  EXPECT_EQ(s.cluster().total_weight(), 6u);
  s.compromise(NodeId(0));
  EXPECT_EQ(s.cluster().compromised_weight(), 2u);
  s.equivocate(NodeId(0));  // the same validator: still 2
  EXPECT_EQ(s.cluster().compromised_weight(), 2u);
  s.equivocate(NodeId(3));
  EXPECT_EQ(s.cluster().compromised_weight(), 3u);
  EXPECT_FALSE(s.cluster().honest(NodeId(5)));  // the twin
  EXPECT_TRUE(s.cluster().honest(NodeId(1)));
}

}  // namespace
}  // namespace synod::sim
