// The simulator's own guarantees: a seed replays exactly (trace hash and every
// event), sweeps of swarm seeds keep every invariant, and the checkers bite:
// with a third of the weight compromised (two twins among four validators and
// a partition that gives each twin half of the honest nodes), the agreement
// checker reports the fork.
#include <gtest/gtest.h>

#include "sim/swarm.h"

namespace synod::sim {
namespace {

TEST(Swarm, SameSeedReplaysTheSameTrace) {
  RunOptions options;
  options.seed = 11;
  options.duration_ms = 10'000;
  options.liveness_ms = 10'000;
  EXPECT_EQ(check_determinism(options).divergence, std::nullopt);
  const RunResult a = run_simulation(options);
  options.seed = 12;
  const RunResult b = run_simulation(options);
  EXPECT_NE(a.trace_hash, b.trace_hash) << "different seeds must explore different runs";
}

// A sweep means something only if its runs did something: each committed,
// and the faults and adversaries the swarm profile draws ran in many of them.
void expect_the_sweep_did_something(const SweepTally& tally, std::uint64_t runs_min_per_kind) {
  for (const char* kind : {"crash", "crash inside the driver", "partition", "one-way cut", "pause", "clog", "filter",
                           "link faults", "twins", "equivocator", "corrupt safety record"}) {
    EXPECT_GE(tally.runs_with.contains(kind) ? tally.runs_with.at(kind) : 0, runs_min_per_kind)
        << kind << ": " << tally.describe();
  }
}

TEST(Swarm, HundredSeedsKeepEveryInvariant) {
  SweepTally tally;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    RunOptions options;
    options.seed = seed;
    options.duration_ms = 15'000;
    options.liveness_ms = 20'000;
    const RunResult r = run_simulation(options);
    tally.add(r);
    for (const auto& v : r.violations) ADD_FAILURE() << "seed " << seed << ": " << v << "\nreproduce: " << reproduce_command(options);
  }
  EXPECT_EQ(tally.runs_without_commits, 0u) << "every run has a liveness phase";
  expect_the_sweep_did_something(tally, 3);
}

// Safety only, so that many more seeds fit: each run ends after its faulty
// phase, over three cluster shapes in turn. Bugs of one seed in a thousand
// (docs/simulation.md, "sweep wide") need many more seeds than the hundred
// above; this is a floor, not the wide sweep.
TEST(Swarm, FiveHundredSeedsOfThreeShapesKeepEverySafetyInvariant) {
  const std::vector<std::vector<std::uint64_t>> shapes = {{1, 1, 1, 1}, {3, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1}};
  SweepTally tally;
  for (std::uint64_t seed = 101; seed <= 600; ++seed) {
    RunOptions options;
    options.seed = seed;
    options.weights = shapes[seed % shapes.size()];
    options.duration_ms = 20'000;
    options.liveness_ms = 0;
    const RunResult r = run_simulation(options);
    tally.add(r);
    for (const auto& v : r.violations) {
      ADD_FAILURE() << "seed " << seed << ": " << v << "\nreproduce: " << reproduce_command(options);
    }
  }
  // Without a liveness phase a run may end in a long outage; nearly all commit.
  EXPECT_LE(tally.runs_without_commits, 10u) << tally.describe();
  expect_the_sweep_did_something(tally, 20);
}

// The runs in which wide sweeps found bugs, with the options that found them
// (docs/simulation.md): a record above every stored QC (319), a restart below
// the replica's own proposed round (1148), a rebuilt block inserted twice
// (243 of 3,1,1,1,1), an amnesiac leader swallowing QCs (1516). They replay
// the failing schedules only while the simulator's behaviour is unchanged;
// after that they are four more seeds.
TEST(Swarm, SeedsThatFoundBugsKeepEveryInvariant) {
  const std::vector<std::pair<std::uint64_t, std::vector<std::uint64_t>>> runs = {
      {319, {1, 1, 1, 1}}, {1148, {1, 1, 1, 1}}, {243, {3, 1, 1, 1, 1}}, {1516, {1, 1, 1, 1}}};
  for (const auto& [seed, weights] : runs) {
    RunOptions options;
    options.seed = seed;
    options.weights = weights;
    const RunResult r = run_simulation(options);
    for (const auto& v : r.violations) {
      ADD_FAILURE() << "seed " << seed << ": " << v << "\nreproduce: " << reproduce_command(options);
    }
  }
}

// Small clusters, where one validator can be a quorum alone (5; 5,1) or where
// every validator is needed (1,1; 2,1; 1,1,1): every profile keeps every
// invariant, and each run commits. A validator that certifies alone used to
// recurse without end inside one input (its own vote formed the QC, the next
// round began, it proposed and voted again).
TEST(Swarm, ClustersOfOneTwoAndThreeValidatorsCommitUnderEveryProfile) {
  const std::vector<std::vector<std::uint64_t>> shapes = {{5}, {5, 1}, {1, 1}, {2, 1}, {1, 1, 1}};
  const std::vector<Profile> profiles = {Profile::Calm,   Profile::Network, Profile::Partitions,
                                         Profile::Crashes, Profile::Disk,   Profile::Clocks,
                                         Profile::Byzantine, Profile::Swarm};
  std::uint64_t seed = 1;
  for (const auto& weights : shapes) {
    for (const Profile profile : profiles) {
      RunOptions options;
      options.seed = seed++;
      options.weights = weights;
      options.profile = profile;
      options.duration_ms = 10'000;
      options.liveness_ms = 10'000;
      const RunResult r = run_simulation(options);
      for (const auto& v : r.violations) {
        ADD_FAILURE() << "seed " << options.seed << ": " << v << "\nreproduce: " << reproduce_command(options);
      }
      EXPECT_GT(r.height, 0u) << "reproduce: " << reproduce_command(options);
    }
  }
}

TEST(Swarm, TwoTwinsInFourNodesForkAndTheCheckerSaysSo) {
  ClusterOptions options;
  options.seed = 5;
  options.twins = {NodeId(0), NodeId(1)};  // instances 4 and 5
  Cluster c(options);
  // Each side holds three of the four keys: a quorum on both sides.
  c.partition({{NodeId(0), NodeId(1), NodeId(2)}, {NodeId(4), NodeId(5), NodeId(3)}});
  c.set_load(50);
  c.run_for(20'000);
  const auto violations = c.violations();
  ASSERT_FALSE(violations.empty()) << "honest n2 and n3 should have committed different blocks";
  bool agreement = false;
  for (const auto& v : violations) agreement = agreement || v.find("agreement") != std::string::npos;
  EXPECT_TRUE(agreement) << violations.front();
}

}  // namespace
}  // namespace synod::sim
