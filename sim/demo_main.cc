// synod-demo: the in-process run `make demo` shows until the node and the
// simulator exist. Four replicas commit transfers; one crashes, its rounds are
// passed over by timeout certificates, it restarts from its store, catches up,
// and every node ends with the same chain and state root.
#include <cstdio>
#include <cstdlib>

#include "sim/cluster.h"

using namespace synod;

int main() {
  sim::ClusterOptions options;
  options.seed = 2026;
  options.replica.round_timeout_ms = 300;
  sim::Cluster c(options);
  c.set_load(100);
  auto height = [&](std::uint32_t i) { return static_cast<unsigned long long>(c.committed_height(NodeId(i)).value); };
  auto line = [&](const char* what) {
    std::printf("t=%6.1fs  %-34s heights: %llu %llu %llu %llu\n", static_cast<double>(c.now()) / 1000.0, what,
                height(0), height(1), height(2), height(3));
  };
  line("start, 4 validators, 100 tx/s");
  c.run_for(20'000);
  line("after 20 s");
  c.crash(NodeId(2));
  line("crash n2");
  c.run_for(30'000);
  line("30 s without n2");
  c.restart(NodeId(2));
  line("restart n2 from its store");
  c.run_for(20'000);
  c.set_load(0);
  c.run_for(5'000);
  line("20 s later, load stopped");

  const auto violations = c.violations();
  std::uint64_t executed = 0, tcs = 0;
  for (const CommittedBlock& b : c.store(NodeId(0)).committed()) {
    for (const TxOutcome& o : b.outcome.txs) executed += o.error ? 0 : 1;
  }
  for (std::uint32_t i = 0; i < 4; ++i) tcs += c.replica(NodeId(i))->stats().tcs_formed;
  std::printf("\nsummary\n");
  std::printf("  committed blocks     %llu on n0\n", height(0));
  std::printf("  executed transfers   %llu\n", static_cast<unsigned long long>(executed));
  std::printf("  timeout certificates %llu (rounds led by the crashed node, passed over)\n",
              static_cast<unsigned long long>(tcs));
  // Compare at the height every node has reached: blocks keep committing.
  const Height common = c.min_committed_height();
  const StateRoot root = c.store(NodeId(0)).committed().at(common.value - 1).outcome.state_root;
  bool same = true;
  for (std::uint32_t i = 1; i < 4; ++i) {
    same = same && c.store(NodeId(i)).committed().at(common.value - 1).outcome.state_root == root;
  }
  std::printf("  state root at h%llu   %s (%s on every node)\n", static_cast<unsigned long long>(common.value),
              hex(root.view()).c_str(), same ? "equal" : "NOT EQUAL");
  std::printf("  safety violations    %zu\n", violations.size());
  for (const auto& v : violations) std::printf("    %s\n", v.c_str());
  return violations.empty() && same ? EXIT_SUCCESS : EXIT_FAILURE;
}
