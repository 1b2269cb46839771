#include "node/demo.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "node/config.h"
#include "node/lmdb_store.h"
#include "node/status_view.h"

namespace synod::node {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string format_report(const LoadReport& r) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << "submitted " << r.submitted << ", accepted " << r.accepted << ", committed " << r.committed << " in "
      << r.seconds << " s: " << r.committed_per_s << " transfers/s; commit latency p50 " << r.latency_ms_p50
      << " ms, p99 " << r.latency_ms_p99 << " ms (" << r.latency_samples << " samples)";
  for (const auto& [reason, count] : r.rejected) {
    if (count > 0) out << "; " << reason << " " << count;
  }
  if (r.held_back > 0) out << "; every account's window full " << r.held_back << " times (offered rate not met)";
  if (r.resynced > 0) out << "; accounts restarted from their ledger nonce " << r.resynced;
  return out.str();
}

std::string format_limit(const VerifyLimit& limit, const LoadReport& r) {
  char line[256];
  std::snprintf(line, sizeof line,
                "limit: %u cores x %.0f Ed25519 verifications/s / %zu nodes = %.0f transfers/s; committed %.0f/s = %.0f%% of it",
                limit.cores, limit.verifications_per_s, limit.nodes, limit.transfers_per_s(), r.committed_per_s,
                100.0 * r.committed_per_s / limit.transfers_per_s());
  return line;
}

namespace {

// SIGINT and SIGTERM go to a thread that stops the testnet's processes, so
// that Ctrl-C never leaves servers behind.
// The simulated sweep's process, if one runs: a signal stops it too.
std::atomic<pid_t> sim_pid = 0;

class StopOnSignal {
 public:
  explicit StopOnSignal(Testnet& net) : net_(net) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([this, set] {
      int sig = 0;
      sigwait(&set, &sig);
      if (done_) return;
      std::fprintf(stderr, "\nsynod: stopping the testnet\n");
      if (const pid_t sim = sim_pid.load(); sim > 0) ::kill(sim, SIGTERM);
      net_.stop_all();
      std::_Exit(130);
    });
  }
  ~StopOnSignal() {
    done_ = true;
    ::kill(::getpid(), SIGTERM);  // wakes the waiting thread, which sees done_
    thread_.join();
  }

 private:
  Testnet& net_;
  std::atomic<bool> done_ = false;
  std::thread thread_;
};

std::string status_table(const Testnet& net) {
  std::vector<std::optional<nlohmann::json>> statuses;
  std::vector<bool> running;
  for (std::size_t i = 0; i < net.size(); ++i) {
    statuses.push_back(net.status_json(i));
    running.push_back(net.running(i));
  }
  return format_nodes(statuses, running);
}

bool wait_for(const std::function<bool()>& done, int ms) {
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

std::uint64_t height_of(const Testnet& net, std::size_t i) {
  const auto s = net.status(i);
  return s ? s->height : 0;
}

}  // namespace

int run_testnet_until_interrupted(const TestnetOptions& options) {
  auto net = Testnet::prepare(options);
  if (!net) {
    std::cerr << "synod: " << net.error() << "\n";
    return 1;
  }
  // Blocked before any server starts, so that no signal can end this process
  // between a start and the loop that stops them all.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  for (std::size_t i = 0; i < net->size(); ++i) {
    if (!net->start(i)) {
      std::cerr << "synod: cannot start " << options.synod << "\n";
      return 1;
    }
  }
  std::cout << "testnet of " << net->size() << " in " << options.dir.string() << ", genesis "
            << (options.dir / "genesis.toml").string() << "; Ctrl-C stops it\n";
  // On a terminal the table is redrawn in place every second; elsewhere
  // (a log, a pipe) it is printed every ten seconds.
  const bool terminal = ::isatty(STDOUT_FILENO) != 0;
  const timespec second{1, 0};
  std::size_t drawn_lines = 0;
  for (std::uint64_t tick = 0; sigtimedwait(&set, nullptr, &second) < 0; ++tick) {
    if (terminal || tick % 10 == 0) {
      const std::string table = status_table(*net);
      if (terminal && drawn_lines > 0) std::cout << "\x1b[" << drawn_lines << "F\x1b[J";
      std::cout << table << std::flush;
      drawn_lines = static_cast<std::size_t>(std::count(table.begin(), table.end(), '\n'));
    }
    for (std::size_t i = 0; i < net->size(); ++i) {
      if (net->running(i) && net->exited(i)) {
        std::cout << "n" << i << " exited; see " << net->log_file(i).string() << "\n";
        drawn_lines = 0;
      }
    }
  }
  std::cout << "stopping\n";
  net->stop_all();
  return 0;
}

int run_demo(const DemoOptions& options) {
  fs::path dir = options.dir;
  if (dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "synod-demo-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return 1;
    dir = pattern;
  }
  TestnetOptions t;
  t.dir = dir;
  t.nodes = 4;
  t.synod = options.synod;
  auto prepared = Testnet::prepare(t);
  if (!prepared) {
    std::cerr << "synod: " << prepared.error() << "\n";
    return 1;
  }
  Testnet& net = *prepared;
  StopOnSignal stop_on_signal(net);
  std::cout << "== synod demo: four validators as real processes on 127.0.0.1, in " << dir.string() << "\n";
  const VerifyLimit limit = measure_verify_limit(4);
  for (std::size_t i = 0; i < net.size(); ++i) net.start(i);
  const bool up = wait_for([&] {
    for (std::size_t i = 0; i < net.size(); ++i) {
      const auto s = net.status(i);
      if (!s || s->peers + 1 < net.size() || s->height < 1) return false;
    }
    return true;
  }, 30'000);
  if (!up) {
    std::cerr << "synod: the testnet did not start committing within 30 s; logs in " << dir.string() << "\n";
    return 1;
  }
  std::cout << "up:\n" << status_table(net);

  // The fault: node 3 is killed with SIGKILL a third into the load and
  // restarted at two thirds; the load goes to nodes 0-2.
  const std::size_t victim = 3;
  const auto load_ms = static_cast<long>(options.load_seconds * 1000);
  double catch_up_s = -1;
  std::uint64_t height_at_restart = 0;
  std::uint64_t height_at_kill = 0;
  // The fault thread restarts n3, and a child started from a thread gets its
  // parent-death signal when that thread ends (PR_SET_PDEATHSIG is per
  // thread): it waits for `stopping` before it returns.
  std::atomic<bool> stopping = false;
  std::atomic<bool> catch_up_done = false;
  std::thread fault([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(load_ms / 3));
    height_at_kill = height_of(net, victim);
    net.signal(victim, SIGKILL);
    net.wait(victim, 5000);
    std::cout << "fault: n3 killed with SIGKILL at height " << height_of(net, 0) << "\n" << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(load_ms / 3));
    height_at_restart = height_of(net, 0);
    const auto restarted = Clock::now();
    net.start(victim);
    if (wait_for([&] { return height_of(net, victim) >= height_at_restart; }, 60'000)) {
      catch_up_s = std::chrono::duration<double>(Clock::now() - restarted).count();
    }
    catch_up_done = true;
    std::cout << "fault: n3 restarted at height " << height_at_restart << ", caught up in " << catch_up_s << " s\n"
              << std::flush;
    while (!stopping) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  // Every way out of here, early ones included, lets the thread end first.
  struct JoinOnExit {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinOnExit() {
      stop = true;
      thread.join();
    }
  } join_fault{stopping, fault};
  LoadOptions load;
  load.genesis = net.genesis();
  load.nodes = {0, 1, 2};
  load.tx_per_s = options.tx_per_s;
  load.duration_ms = static_cast<TimeMs>(load_ms);
  std::cout << "load: " << options.tx_per_s << " signed transfers/s for " << options.load_seconds << " s from "
            << load.accounts << " accounts\n" << std::flush;
  const LoadReport report = run_load(load);
  // The fault has run its course when n3 was restarted and caught up (or gave up).
  wait_for([&] { return catch_up_done.load(); }, 120'000);
  if (!report.error.empty()) {
    std::cerr << "synod: load: " << report.error << "\n";
    return 1;
  }
  // Let n3 reach the others, then stop everyone cleanly and compare ledgers.
  wait_for([&] {
    const std::uint64_t h = height_of(net, 0);
    for (std::size_t i = 1; i < net.size(); ++i) {
      if (height_of(net, i) + 2 < h) return false;
    }
    return true;
  }, 30'000);
  std::cout << "end:\n" << status_table(net);
  net.stop_all();

  std::vector<std::unique_ptr<LmdbStore>> stores;
  Height common{UINT64_MAX};
  for (std::size_t i = 0; i < net.size(); ++i) {
    auto config = load_private(dir / ("node" + std::to_string(i)) / "private.toml");
    if (!config) return 1;
    // Every byte of each ledger checked against its chain, as a server start does.
    LmdbOptions checked;
    checked.verify_at_open = true;
    auto store = LmdbStore::open(config->data_dir, net.genesis(), config->key.public_key, checked);
    if (!store) {
      std::cerr << "synod: n" << i << ": " << to_string(store.error()) << "\n";
      return 1;
    }
    common = std::min(common, (*store)->committed_height());
    stores.push_back(std::move(*store));
  }
  bool equal = true;
  std::string root;
  for (std::size_t i = 0; i < stores.size(); ++i) {
    auto block = stores[i]->committed_block(common);
    if (!block) return 1;
    const std::string r = hex(block->outcome.state_root.view());
    if (i == 0) root = r;
    equal = equal && r == root;
  }
  std::cout << "\n== summary\n";
  std::cout << "committed: " << format_report(report) << "\n";
  std::cout << format_limit(limit, report) << " (offered " << options.tx_per_s << "/s, not the most it takes)\n";
  std::cout << "fault: n3 SIGKILLed at height " << height_at_kill << ", restarted "
            << height_at_restart - std::min(height_at_restart, height_at_kill) << " blocks behind, caught up in "
            << catch_up_s << " s\n";
  std::cout << "ledgers after a clean stop: every node at height >= " << common.value << ", state root at "
            << common.value << " " << root.substr(0, 16) << (equal ? " on all four: equal" : ": DIFFERENT") << "\n";

  // The simulated half: a seed sweep of the same consensus code under faults.
  const fs::path sim = options.synod.parent_path().parent_path() / "sim" / "synod-sim";
  int sim_status = 0;
  if (fs::exists(sim)) {
    std::cout << "simulated: synod-sim --seeds 1..100 -q (swarm faults, 5 validators)\n" << std::flush;
    const pid_t pid = spawn_child({sim.string(), "--seeds", "1..100", "--nodes", "5", "-q"}, {});
    sim_pid = pid;
    if (pid > 0) ::waitpid(pid, &sim_status, 0);
    sim_pid = 0;
  }
  const bool ok = equal && catch_up_s >= 0 && report.committed > 0 && sim_status == 0;
  std::cout << (ok ? "demo ok" : "demo FAILED") << "; files and logs in " << dir.string() << "\n";
  return ok ? 0 : 1;
}

}  // namespace synod::node
