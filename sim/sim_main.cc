// synod-sim: runs seeded simulations of a synod cluster and checks every
// invariant as they go. One seed, a range (--seeds A..B) or a shard of a range
// (--shard i/n, for spreading a sweep over machines). Exits non-zero if any
// run violates an invariant, and prints the command that replays it. The
// wall clock is read here, for the speed figures only; the runs never see it.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include "sim/report.h"
#include "sim/swarm.h"

using namespace synod;
using namespace synod::sim;

namespace {

// "500ms", "30s", "10m", "1h"; a bare number is seconds.
std::optional<TimeMs> parse_duration(const std::string& text) {
  static const std::regex form(R"((\d+)(ms|s|m|h)?)");
  std::smatch m;
  if (!std::regex_match(text, m, form)) return std::nullopt;
  const TimeMs n = std::stoull(m[1]);
  const std::string unit = m[2];
  if (unit == "ms") return n;
  if (unit == "m") return n * 60'000;
  if (unit == "h") return n * 3'600'000;
  return n * 1000;
}

std::vector<std::uint64_t> parse_weights(const std::string& text) {
  std::vector<std::uint64_t> weights;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || std::stoull(part) == 0) {
      throw CLI::ValidationError("--weights", "expected positive integers separated by commas, got '" + text + "'");
    }
    weights.push_back(std::stoull(part));
  }
  return weights;
}

// Opens every output file before the first run, so that a bad path fails at
// once and not after a long sweep. An empty path opens nothing.
bool open_output(const std::string& path, std::ofstream& out) {
  if (path.empty()) return true;
  out.open(path);
  if (!out) std::cerr << "error: cannot write " << path << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"synod-sim: deterministic simulation of a synod cluster under faults"};
  std::uint64_t seed = 1;
  std::string seeds, shard, weights_text, duration_text = "30s", liveness_text = "30s", profile_text = "swarm";
  std::string json_path, trace_path, report_path;
  std::size_t nodes = 4;
  std::uint32_t load = 100;
  std::optional<std::size_t> twins;
  bool unbounded = false, real_crypto = false, wire = false, determinism = false, quiet = false;
  app.add_option("--seed", seed, "the seed of a single run");
  app.add_option("--seeds", seeds, "a range of seeds, A..B (inclusive)");
  app.add_option("--shard", shard, "run only shard i of n of the range, i/n (0-based)");
  app.add_option("--nodes", nodes, "validators of equal weight")->check(CLI::Range(1, 64));
  app.add_option("--weights", weights_text, "validator weights, e.g. 1,1,1,2 (overrides --nodes)");
  app.add_option("--duration", duration_text, "virtual length of the safety phase (500ms, 30s, 10m)");
  app.add_option("--liveness", liveness_text, "virtual length of the liveness phase (0 to skip)");
  app.add_option("--load", load, "client transactions per virtual second");
  app.add_option("--profile", profile_text, "faults: " + profile_names());
  app.add_option("--twins", twins, "exactly this many twins (compromised validators), within the bound");
  app.add_flag("--unbounded", unbounded, "faults without limit; safety checks only");
  app.add_flag("--real-crypto", real_crypto, "Ed25519 instead of the simulator's keyed hash");
  app.add_flag("--wire", wire, "send every message through the protobuf codec");
  app.add_flag("--check-determinism", determinism, "run each seed twice and compare the traces");
  app.add_option("--json", json_path, "write one JSON object per run to FILE");
  app.add_option("--trace", trace_path, "write every event of the (single) run to FILE");
  app.add_option("--report", report_path, "write an HTML report of the (single) run to FILE");
  app.add_flag("-q,--quiet", quiet, "print failures and the summary only");
  CLI11_PARSE(app, argc, argv);
  // The reproduce line names this binary: synod-sim, or the mutant build.
  const std::string program = std::filesystem::path(argv[0]).filename().string();

  RunOptions base;
  try {
    base.weights = weights_text.empty() ? std::vector<std::uint64_t>(nodes, 1) : parse_weights(weights_text);
  } catch (const CLI::ValidationError& e) {
    return app.exit(e);
  }
  const auto duration = parse_duration(duration_text);
  const auto liveness = parse_duration(liveness_text);
  const auto profile = parse_profile(profile_text);
  if (!duration || !liveness) {
    std::cerr << "error: durations look like 500ms, 30s or 10m\n";
    return 2;
  }
  if (!profile) {
    std::cerr << "error: unknown profile '" << profile_text << "'; one of " << profile_names() << "\n";
    return 2;
  }
  base.duration_ms = *duration;
  base.liveness_ms = *liveness;
  base.load_tx_per_s = load;
  base.profile = *profile;
  base.twins = twins;
  base.unbounded = unbounded;
  base.real_crypto = real_crypto;
  base.wire = wire;
  base.timeline = !report_path.empty();

  std::uint64_t first = seed, last = seed;
  if (!seeds.empty()) {
    std::smatch m;
    static const std::regex range(R"((\d+)\.\.(\d+))");
    if (!std::regex_match(seeds, m, range) || std::stoull(m[1]) > std::stoull(m[2])) {
      std::cerr << "error: --seeds wants A..B with A <= B\n";
      return 2;
    }
    first = std::stoull(m[1]);
    last = std::stoull(m[2]);
  }
  std::uint64_t shard_index = 0, shard_count = 1;
  if (!shard.empty()) {
    std::smatch m;
    static const std::regex form(R"((\d+)/(\d+))");
    if (!std::regex_match(shard, m, form) || std::stoull(m[2]) == 0 || std::stoull(m[1]) >= std::stoull(m[2])) {
      std::cerr << "error: --shard wants i/n with 0 <= i < n\n";
      return 2;
    }
    shard_index = std::stoull(m[1]);
    shard_count = std::stoull(m[2]);
  }
  const bool single = first == last;
  if (!single && (!trace_path.empty() || !report_path.empty())) {
    std::cerr << "error: --trace and --report need a single --seed\n";
    return 2;
  }

  std::ofstream json, trace, report;
  if (!open_output(json_path, json) || !open_output(trace_path, trace) || !open_output(report_path, report)) {
    return 2;
  }
  if (trace.is_open()) base.trace_sink = [&trace](const std::string& line) { trace << line << '\n'; };

  const auto started = std::chrono::steady_clock::now();
  std::uint64_t runs = 0, failed = 0, events = 0, virtual_ms = 0;
  const std::uint64_t total = (last - first) / shard_count + 1;
  for (std::uint64_t s = first; s <= last; ++s) {
    if ((s - first) % shard_count != shard_index) continue;
    RunOptions options = base;
    options.seed = s;
    ++runs;
    if (determinism) {
      const DeterminismCheck check = check_determinism(options);
      events += 2 * check.run.events;  // it ran twice
      virtual_ms += 2 * check.run.virtual_ms;
      if (check.divergence) {
        ++failed;
        std::printf("seed %llu: NOT DETERMINISTIC: %s\nreproduce: %s --check-determinism\n",
                    static_cast<unsigned long long>(s), check.divergence->c_str(),
                    reproduce_command(options, program).c_str());
      } else if (!quiet) {
        std::printf("seed %llu: deterministic\n", static_cast<unsigned long long>(s));
      }
      continue;
    }
    const RunResult result = run_simulation(options);
    events += result.events;
    virtual_ms += result.virtual_ms;
    if (json) json << json_result(options, result) << '\n';
    if (report.is_open()) report << html_report(options, result);
    if (!result.ok()) {
      ++failed;
      std::printf("seed %llu: FAILED (%s)\n", static_cast<unsigned long long>(s), result.plan.describe().c_str());
      for (const auto& v : result.violations) std::printf("  %s\n", v.c_str());
      std::printf("reproduce: %s\n", reproduce_command(options, program).c_str());
    } else if (!quiet && single) {
      std::printf("seed %llu: ok, height %llu, %llu txs, %llu events, %llu faults, trace %016llx\n  plan: %s\n",
                  static_cast<unsigned long long>(s), static_cast<unsigned long long>(result.height),
                  static_cast<unsigned long long>(result.committed_txs), static_cast<unsigned long long>(result.events),
                  static_cast<unsigned long long>(result.faults), static_cast<unsigned long long>(result.trace_hash),
                  result.plan.describe().c_str());
    }
    if (!single && !quiet && (runs % 10 == 0 || runs == total)) {
      std::fprintf(stderr, "\r%llu/%llu seeds, %llu failed", static_cast<unsigned long long>(runs),
                   static_cast<unsigned long long>(total), static_cast<unsigned long long>(failed));
      std::fflush(stderr);
    }
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!single && !quiet) std::fprintf(stderr, "\n");
  std::printf("%llu runs, %llu failed; %.1f virtual s in %.2f wall s (%.0f sim-s/wall-s, %.0f events/s)\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(failed),
              static_cast<double>(virtual_ms) / 1000.0, wall_s,
              wall_s > 0 ? static_cast<double>(virtual_ms) / 1000.0 / wall_s : 0.0,
              wall_s > 0 ? static_cast<double>(events) / wall_s : 0.0);
  return failed == 0 ? 0 : 1;
}
