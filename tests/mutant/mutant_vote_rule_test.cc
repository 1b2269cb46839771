// The checkers must bite (issue 3, point 9): this binary links the simulator
// against synod_core_mutant, whose VoteRule has lost its lock clause
// (SYNOD_MUTANT_VOTE_RULE in core/safety_rules.cc), and sweeps swarm seeds
// until a run breaks an invariant. What makes the fork: an aimed cut of the
// first replica to commit a height, then an equivocator leading after the TC
// with a block on an older QC (docs/simulation.md, "The mutant build").
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "sim/swarm.h"

namespace synod::sim {
namespace {

constexpr std::uint64_t seeds_max = 200;
constexpr std::size_t violations_shown = 4;

TEST(MutantVoteRule, ASwarmSweepCatchesItWithin200Seeds) {
  std::optional<RunOptions> caught;
  RunResult result;
  for (std::uint64_t seed = 1; seed <= seeds_max && !caught; ++seed) {
    RunOptions options;
    options.seed = seed;
    options.profile = Profile::Swarm;
    options.duration_ms = 30'000;
    options.liveness_ms = 0;  // safety only: the mutation breaks agreement, not progress
    result = run_simulation(options);
    if (!result.ok()) caught = options;
  }
  ASSERT_TRUE(caught) << "no seed of 1.." << seeds_max << " caught the broken VoteRule";
  // The broken rule forks the chain: the agreement checker is the one that must see it first.
  EXPECT_NE(result.violations.front().find("agreement:"), std::string::npos) << result.violations.front();
  std::printf("the mutant VoteRule is caught at seed %llu: %s\n", static_cast<unsigned long long>(caught->seed),
              reproduce_command(*caught, "synod-sim-mutant").c_str());
  for (std::size_t i = 0; i < std::min(violations_shown, result.violations.size()); ++i) {
    std::printf("  %s\n", result.violations[i].c_str());
  }
}

}  // namespace
}  // namespace synod::sim
