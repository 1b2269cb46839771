// synod-sim: runs seeded simulations of a synod cluster and checks every
// invariant as they go. One seed, a range (--seeds A..B) or a shard of a range
// (--shard i/n, for spreading a sweep over machines). Prints the command that
// replays any run that violates an invariant. The wall clock is read here, for
// the speed figures only; the runs never see it.
//
// With --replay FILE it replays a scenario recorded by the Python module
// (sim/scenario.h) instead, and checks that it makes the recorded trace.
//
// Exit codes: 0 every run kept every invariant; 1 a run violated one, or a
// replay did not make the recorded trace; 2 a usage error (the message says
// which argument) or a recording that does not parse; 3 an output file
// (--json, --trace, --report) could not be written completely.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/swarm.h"

using namespace synod;
using namespace synod::sim;

namespace {

constexpr int exit_violation = 1;
constexpr int exit_usage = 2;
constexpr int exit_output = 3;
// A virtual phase longer than this is a typo, not a test.
constexpr TimeMs duration_ms_max = 365ull * 24 * 3'600'000;

// Digits only, and within 64 bits.
std::optional<std::uint64_t> parse_u64(const std::string& text) {
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (const char c : text) {
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

// "500ms", "30s", "10m", "1h"; a bare number is seconds. At most duration_ms_max.
std::optional<TimeMs> parse_duration(const std::string& text) {
  static const std::regex form(R"((\d+)(ms|s|m|h)?)");
  std::smatch m;
  if (!std::regex_match(text, m, form)) return std::nullopt;
  const auto n = parse_u64(m[1]);
  if (!n) return std::nullopt;
  const std::string unit = m[2];
  const TimeMs scale = unit == "ms" ? 1 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : 1000;
  if (*n > duration_ms_max / scale) return std::nullopt;
  return *n * scale;
}

std::vector<std::uint64_t> parse_weights(const std::string& text) {
  std::vector<std::uint64_t> weights;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    const auto weight = parse_u64(part);
    if (!weight || *weight == 0 || *weight > total_weight_max) {
      throw CLI::ValidationError("--weights", "expected positive integers separated by commas, got '" + text + "'");
    }
    weights.push_back(*weight);
  }
  return weights;
}

// Opens every output file before the first run, so that a bad path fails at
// once and not after a long sweep. An empty path opens nothing.
bool open_output(const std::string& path, std::ofstream& out) {
  if (path.empty()) return true;
  out.open(path);
  if (!out) std::cerr << "error: cannot write " << path << ": " << std::strerror(errno) << "\n";
  return static_cast<bool>(out);
}

// Flushes and closes; false (with the reason) if any write failed, a full
// disk say: a truncated report must not pass for a whole one.
bool close_output(const std::string& path, std::ofstream& out) {
  if (!out.is_open()) return true;
  out.flush();
  const bool written = static_cast<bool>(out);
  const int error = errno;
  out.close();
  if (written && out) return true;
  std::cerr << "error: could not write all of " << path << ": " << std::strerror(error) << "\n";
  return false;
}

// Replays a recorded scenario and says whether it kept every invariant and
// made the recorded trace.
int replay(const std::string& program, const std::string& path, const std::string& trace_path,
           const std::string& report_path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    std::cerr << "error: cannot read " << path << ": " << std::strerror(errno) << "\n";
    return exit_usage;
  }
  std::ofstream trace, report;
  if (!open_output(trace_path, trace) || !open_output(report_path, report)) return exit_output;
  ReplayOutputs outputs;
  if (trace.is_open()) outputs.trace_sink = [&trace](const std::string& line) { trace << line << '\n'; };
  if (report.is_open()) outputs.report_command = program + " --replay " + path;
  const auto replayed = replay_scenario(text.str(), outputs);
  if (!replayed) {
    std::cerr << "error: " << path << ": " << replayed.error() << "\n";
    return exit_usage;
  }
  if (report.is_open()) report << replayed->report_html;
  const bool written = close_output(trace_path, trace) && close_output(report_path, report);
  std::printf("replayed %s: %.1f virtual s, agreed height %llu, trace %016llx\n", path.c_str(),
              static_cast<double>(replayed->virtual_ms) / 1000.0,
              static_cast<unsigned long long>(replayed->height.value),
              static_cast<unsigned long long>(replayed->trace_hash));
  for (const auto& v : replayed->violations) std::printf("  %s\n", v.c_str());
  if (!replayed->same_trace()) {
    std::printf("NOT the recorded trace %016llx: the simulator or the core changed since the recording\n",
                static_cast<unsigned long long>(replayed->recorded_hash));
    return exit_violation;
  }
  if (!replayed->violations.empty()) return exit_violation;
  return written ? 0 : exit_output;
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
  auto* seed_option = app.add_option("--seed", seed, "the seed of a single run");
  auto* seeds_option = app.add_option("--seeds", seeds, "a range of seeds, A..B (inclusive)");
  seed_option->excludes(seeds_option);
  app.add_option("--shard", shard, "run only shard i of n of the range, i/n (0-based)")->needs(seeds_option);
  app.add_option("--nodes", nodes, "validators of equal weight")->check(CLI::Range(1, 64));
  app.add_option("--weights", weights_text, "validator weights, e.g. 1,1,1,2 (overrides --nodes)");
  app.add_option("--duration", duration_text, "virtual length of the safety phase (500ms, 30s, 10m)");
  app.add_option("--liveness", liveness_text, "virtual length of the liveness phase (0 to skip)");
  app.add_option("--load", load, "client transactions per virtual second")->check(CLI::Range(0u, load_tx_per_s_max));
  app.add_option("--profile", profile_text, "faults: " + profile_names());
  app.add_option("--twins", twins, "exactly this many twins (compromised validators), lightest first");
  app.add_flag("--unbounded", unbounded, "faults without limit, and --twins past a third; safety checks only");
  app.add_flag("--real-crypto", real_crypto, "Ed25519 instead of the simulator's keyed hash");
  app.add_flag("--wire", wire, "send every message through the protobuf codec");
  bool buggify = false;
  app.add_flag("--buggify", buggify, "each seed draws the cluster's shape (1-10 validators) and small limits");
  app.add_flag("--check-determinism", determinism, "run each seed twice and compare the traces");
  app.add_option("--json", json_path, "write one JSON object per run to FILE");
  app.add_option("--trace", trace_path, "write every event of the (single) run to FILE");
  app.add_option("--report", report_path, "write an HTML report of the (single) run to FILE");
  app.add_flag("-q,--quiet", quiet, "print failures and the summary only");
  std::string replay_path;
  auto* replay_option = app.add_option("--replay", replay_path, "replay a scenario recorded by the Python module");
  replay_option->excludes(seed_option)->excludes(seeds_option);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes vary by error; ours are documented above.
    return app.exit(e) == 0 ? 0 : exit_usage;
  }
  // The reproduce line names this binary: synod-sim, or the mutant build.
  const std::string program = std::filesystem::path(argv[0]).filename().string();
  if (!replay_path.empty()) return replay(program, replay_path, trace_path, report_path);

  RunOptions base;
  try {
    base.weights = weights_text.empty() ? std::vector<std::uint64_t>(nodes, 1) : parse_weights(weights_text);
  } catch (const CLI::ValidationError& e) {
    app.exit(e);
    return exit_usage;
  }
  const auto duration = parse_duration(duration_text);
  const auto liveness = parse_duration(liveness_text);
  const auto profile = parse_profile(profile_text);
  if (!duration || !liveness) {
    std::cerr << "error: durations look like 500ms, 30s or 10m, and are at most a year\n";
    return exit_usage;
  }
  if (!profile) {
    std::cerr << "error: unknown profile '" << profile_text << "'; one of " << profile_names() << "\n";
    return exit_usage;
  }
  base.duration_ms = *duration;
  base.liveness_ms = *liveness;
  base.load_tx_per_s = load;
  base.profile = *profile;
  if (twins && buggify) {
    std::cerr << "error: --twins needs a fixed cluster; --buggify draws its shape per seed\n";
    return exit_usage;
  }
  if (twins) {
    if (const auto why = check_twins(base.weights, *twins, unbounded)) {
      std::cerr << "error: " << *why << "\n";
      return exit_usage;
    }
  }
  base.twins = twins;
  base.unbounded = unbounded;
  base.real_crypto = real_crypto;
  base.wire = wire;
  base.buggify = buggify;
  base.timeline = !report_path.empty();

  std::uint64_t first = seed, last = seed;
  if (!seeds.empty()) {
    std::smatch m;
    static const std::regex range(R"((\d+)\.\.(\d+))");
    const auto a = std::regex_match(seeds, m, range) ? parse_u64(m[1]) : std::nullopt;
    const auto b = a ? parse_u64(m[2]) : std::nullopt;
    if (!a || !b || *a > *b) {
      std::cerr << "error: --seeds wants A..B with A <= B, both below 2^64\n";
      return exit_usage;
    }
    first = *a;
    last = *b;
  }
  std::uint64_t shard_index = 0, shard_count = 1;
  if (!shard.empty()) {
    std::smatch m;
    static const std::regex form(R"((\d+)/(\d+))");
    const auto i = std::regex_match(shard, m, form) ? parse_u64(m[1]) : std::nullopt;
    const auto n = i ? parse_u64(m[2]) : std::nullopt;
    if (!i || !n || *n == 0 || *i >= *n) {
      std::cerr << "error: --shard wants i/n with 0 <= i < n\n";
      return exit_usage;
    }
    shard_index = *i;
    shard_count = *n;
    if (shard_index > last - first) {
      std::cerr << "error: --shard " << shard << " holds no seed of " << seeds << "\n";
      return exit_usage;
    }
  }
  const bool single = first == last;
  if (!single && (!trace_path.empty() || !report_path.empty())) {
    std::cerr << "error: --trace and --report need a single --seed\n";
    return exit_usage;
  }

  std::ofstream json, trace, report;
  if (!open_output(json_path, json) || !open_output(trace_path, trace) || !open_output(report_path, report)) {
    return exit_output;
  }
  if (trace.is_open()) base.trace_sink = [&trace](const std::string& line) { trace << line << '\n'; };

  const auto started = std::chrono::steady_clock::now();
  std::uint64_t runs = 0, failed = 0, events = 0, virtual_ms = 0;
  SweepTally tally;
  const std::uint64_t total = (last - first - shard_index) / shard_count + 1;
  // Counted from the shard's first seed, so that a range ending at 2^64 - 1 ends.
  for (std::uint64_t k = 0; k < total; ++k) {
    const std::uint64_t s = first + shard_index + k * shard_count;
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
    if (const auto warning = bound_warning(result.weights, result.plan); warning && (single || k == 0)) {
      std::printf("WARNING: %s\n", warning->c_str());
    }
    tally.add(result);
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
  if (!determinism && runs > 1) {
    // A sweep that tested nothing must show it.
    std::printf("runs with each fault and adversary: %s; runs that committed nothing: %llu\n",
                tally.describe().c_str(), static_cast<unsigned long long>(tally.runs_without_commits));
  }
  const bool outputs_written =
      close_output(json_path, json) && close_output(trace_path, trace) && close_output(report_path, report);
  if (failed > 0) return exit_violation;
  return outputs_written ? 0 : exit_output;
}
