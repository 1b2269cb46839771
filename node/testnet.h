// The local multi-process testnet (`synod testnet`, as a conode's run_nodes):
// writes keys, configs, roster and genesis (with funded testnet accounts) for
// N validators on 127.0.0.1 (one admin password for all, in the folder's
// admin-password file), or reads them back from an existing folder, and
// starts, signals and watches `synod server` processes. Every process it
// starts it also stops.
#pragma once

#include <sys/types.h>

#include <expected>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/roster.h"

namespace synod::node {

struct TestnetOptions {
  std::filesystem::path dir;
  std::size_t nodes = 4;
  std::vector<std::uint64_t> weights;  // empty: equal
  std::uint16_t base_port = 0;         // 0: a free range derived from the process id
  std::size_t accounts = 64;
  std::filesystem::path synod;         // the synod binary to start
  int debug = 1;
};

struct NodeStatus {
  std::uint64_t height = 0;
  std::uint64_t round = 0;
  std::size_t peers = 0;
  bool catching_up = false;
};

class Testnet {
 public:
  // Creates the files in options.dir, or reads them if it holds a testnet.
  static std::expected<Testnet, std::string> prepare(const TestnetOptions& options);
  ~Testnet();
  Testnet(Testnet&&) = default;

  std::size_t size() const { return genesis_.validators.size(); }
  const Genesis& genesis() const { return genesis_; }

  bool start(std::size_t i);
  void signal(std::size_t i, int sig);
  // Waits for the process to exit, up to `ms`; kills it past that. True if it exited by itself.
  bool wait(std::size_t i, int ms);
  // True (and reaped) if the process has exited; never waits.
  bool exited(std::size_t i);
  void stop_all();  // SIGTERM, then SIGKILL for any that did not stop in time
  bool running(std::size_t i) const {
    std::lock_guard guard(*lock_);
    return pids_.at(i) > 0;
  }
  std::optional<NodeStatus> status(std::size_t i) const;
  // The node's whole /status (its admin port), nullopt if it does not answer.
  std::optional<nlohmann::json> status_json(std::size_t i) const;
  std::filesystem::path log_file(std::size_t i) const;

 private:
  Testnet() = default;
  TestnetOptions options_;
  Genesis genesis_;
  std::vector<std::filesystem::path> private_files_;
  std::vector<std::uint16_t> ports_;
  // Started, signalled and reaped from the caller's thread and from a
  // signal-watching thread (synod demo): one lock for both.
  std::unique_ptr<std::mutex> lock_ = std::make_unique<std::mutex>();
  bool stopping_ = false;  // once stop_all began, nothing starts again
  std::vector<pid_t> pids_;
};

// Starts `argv[0]` with `argv`, output appended to `log` (or inherited when
// empty), no signal blocked, default dispositions, and SIGTERM when this
// process dies (even by SIGKILL): a child never outlives its parent. -1 if it
// could not start.
pid_t spawn_child(const std::vector<std::string>& argv, const std::filesystem::path& log);

}  // namespace synod::node
