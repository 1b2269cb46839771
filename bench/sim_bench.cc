// The simulator's speed (issue 3's target): four nodes, 10-50 ms simulated
// latency (the SimNetwork default), 200 client transactions per simulated
// second, no faults. Reports simulated seconds per wall second and events per
// wall second, with the simulator's keyed-hash signatures and digest (arg 0)
// and with real Ed25519 and SHA-256 (arg 1). The target is 1,000 simulated s
// per wall s with arg 0.
#include <benchmark/benchmark.h>

#include "sim/cluster.h"

namespace synod::sim {
namespace {

void BM_SimulatedSecond(benchmark::State& state) {
  ClusterOptions options;
  options.seed = 1;
  options.real_crypto = state.range(0) == 1;
  Cluster cluster(options);
  cluster.set_load(200);
  cluster.run_for(5'000);  // past start-up: the measured seconds carry full load
  const std::uint64_t events_before = cluster.events_count();
  const Height height_before = cluster.min_committed_height();
  for (auto _ : state) cluster.run_for(1'000);
  if (!cluster.violations().empty()) state.SkipWithError(cluster.violations().front().c_str());
  if (cluster.min_committed_height() <= height_before) state.SkipWithError("the cluster did not commit");
  const auto events = static_cast<double>(cluster.events_count() - events_before);
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.SetLabel(options.real_crypto ? "Ed25519, SHA-256" : "keyed hash");
}
// A fixed number of simulated seconds, not a minimum time: the ledgers grow as
// the cluster runs, so a faster build given more seconds would do more work
// per second, and two builds would not compare.
BENCHMARK(BM_SimulatedSecond)->Arg(0)->Iterations(300)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SimulatedSecond)->Arg(1)->Iterations(20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace synod::sim
