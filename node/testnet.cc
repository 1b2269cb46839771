#include "node/testnet.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/assert.h"
#include "net/http_client.h"
#include "node/admin_auth.h"
#include "node/config.h"
#include "node/load.h"

extern char** environ;

namespace synod::node {

namespace fs = std::filesystem;

namespace {

bool port_free(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Each node takes P, P+1 (client) and P+2 (admin); nodes 10 ports apart.
constexpr std::uint16_t ports_per_node = 10;

std::uint16_t pick_base_port(std::size_t nodes) {
  for (std::uint32_t attempt = 0; attempt < 200; ++attempt) {
    const std::uint32_t span = static_cast<std::uint32_t>(nodes) * ports_per_node;
    const std::uint32_t base = 20000 + ((static_cast<std::uint32_t>(::getpid()) * 97 + attempt * 1013) % (40000 - span));
    bool ok = true;
    for (std::uint32_t i = 0; i < nodes && ok; ++i) {
      for (std::uint32_t k = 0; k < 3 && ok; ++k) ok = port_free(static_cast<std::uint16_t>(base + i * ports_per_node + k));
    }
    if (ok) return static_cast<std::uint16_t>(base);
  }
  return 0;
}

bool write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

std::uint16_t net_port(const std::string& address) {
  const auto colon = address.rfind(':');
  return static_cast<std::uint16_t>(std::stoul(address.substr(colon + 1)));
}

}  // namespace

std::expected<Testnet, std::string> Testnet::prepare(const TestnetOptions& options) {
  Testnet t;
  t.options_ = options;
  std::error_code ec;
  const fs::path genesis_file = options.dir / "genesis.toml";
  if (fs::exists(genesis_file, ec)) {
    auto genesis = load_genesis(genesis_file);
    if (!genesis) return std::unexpected(to_string(genesis.error()));
    t.genesis_ = *genesis;
    for (std::size_t i = 0; i < t.genesis_.validators.size(); ++i) {
      const fs::path file = options.dir / ("node" + std::to_string(i)) / "private.toml";
      auto config = load_private(file);
      if (!config) return std::unexpected(to_string(config.error()));
      t.private_files_.push_back(file);
      t.ports_.push_back(net_port(config->address));
    }
  } else {
    if (options.nodes == 0 || options.nodes > 64) return std::unexpected("--nodes must be 1 to 64");
    if (!options.weights.empty() && options.weights.size() != options.nodes) {
      return std::unexpected("--weights must give one weight per node");
    }
    const std::uint16_t base = options.base_port != 0 ? options.base_port : pick_base_port(options.nodes);
    if (base == 0) return std::unexpected("no free range of ports on 127.0.0.1");
    fs::create_directories(options.dir, ec);
    if (ec) return std::unexpected("cannot create " + options.dir.string() + ": " + ec.message());
    t.genesis_.chain_name = "synod-testnet";
    std::string roster;
    // One admin password for the testnet's nodes, in a file beside them.
    const KeyPair password_source = random_key();
    const std::string admin_password = hex(password_source.seed).substr(0, 32);
    if (auto written = write_secret_file(options.dir / "admin-password", admin_password + "\n"); !written) {
      return std::unexpected(to_string(written.error()));
    }
    const std::string admin_hash = hash_admin_password(admin_password);
    for (std::size_t i = 0; i < options.nodes; ++i) {
      const fs::path node_dir = options.dir / ("node" + std::to_string(i));
      fs::create_directories(node_dir, ec);
      PrivateConfig c;
      c.file = node_dir / "private.toml";
      c.key = random_key();
      const std::uint16_t port = static_cast<std::uint16_t>(base + i * ports_per_node);
      c.address = "127.0.0.1:" + std::to_string(port);
      c.description = "testnet node " + std::to_string(i);
      c.data_dir = "data";
      c.genesis = "../genesis.toml";
      // Loopback rounds take milliseconds: shorter rounds than a wide-area
      // chain's keep the testnet committing while a node is down.
      c.round_timeout_ms = 500;
      c.idle_block_interval_ms = 200;
      c.admin_password_hash = admin_hash;
      if (auto written = write_private(c); !written) return std::unexpected(to_string(written.error()));
      PublicConfig p{c.key.public_key, c.address, "http://127.0.0.1:" + std::to_string(port + 1), c.description,
                     options.weights.empty() ? 1 : options.weights[i]};
      const std::string pub = public_toml(p);
      write_text(node_dir / "public.toml", pub);
      roster += pub + "\n";
      t.genesis_.validators.push_back(Validator{p.key, Weight(p.weight), p.address, p.description});
      t.private_files_.push_back(c.file);
      t.ports_.push_back(port);
    }
    for (std::size_t a = 0; a < options.accounts; ++a) {
      t.genesis_.allocations.push_back(Allocation{testnet_account(a).public_key, testnet_account_balance});
    }
    if (!write_text(options.dir / "roster.toml", roster) || !write_text(genesis_file, genesis_toml(t.genesis_))) {
      return std::unexpected("cannot write the roster or genesis in " + options.dir.string());
    }
  }
  t.pids_.assign(t.genesis_.validators.size(), 0);
  return t;
}

Testnet::~Testnet() { stop_all(); }

fs::path Testnet::log_file(std::size_t i) const { return private_files_.at(i).parent_path() / "server.log"; }

pid_t spawn_child(const std::vector<std::string>& argv, const fs::path& log) {
  SYNOD_ASSERT(!argv.empty());
  // Everything the child needs is made before fork: after it, only calls
  // that are safe in a child of a threaded process.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;  // the parent, or -1
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  if (!log_path.empty()) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) ::_exit(127);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ::execv(args[0], args.data());
  ::_exit(127);
}

bool Testnet::start(std::size_t i) {
  std::lock_guard guard(*lock_);
  SYNOD_ASSERT(i < pids_.size());
  if (stopping_) return false;
  if (pids_[i] > 0) return true;
  const pid_t pid = spawn_child({options_.synod.string(), "server", "-c", private_files_[i].string(), "-d",
                                 std::to_string(options_.debug)},
                                log_file(i));
  if (pid <= 0) return false;
  pids_[i] = pid;
  return true;
}

void Testnet::signal(std::size_t i, int sig) {
  std::lock_guard guard(*lock_);
  if (pids_.at(i) > 0) ::kill(pids_[i], sig);
}

bool Testnet::wait(std::size_t i, int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    {
      std::lock_guard guard(*lock_);
      if (pids_.at(i) <= 0) return true;
      if (::waitpid(pids_[i], nullptr, WNOHANG) == pids_[i]) {
        pids_[i] = 0;
        return true;
      }
      if (std::chrono::steady_clock::now() >= until) {
        ::kill(pids_[i], SIGKILL);
        ::waitpid(pids_[i], nullptr, 0);
        pids_[i] = 0;
        return false;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Testnet::exited(std::size_t i) {
  std::lock_guard guard(*lock_);
  if (pids_.at(i) <= 0) return true;
  if (::waitpid(pids_[i], nullptr, WNOHANG) != pids_[i]) return false;
  pids_[i] = 0;
  return true;
}

void Testnet::stop_all() {
  if (!lock_) return;  // moved from
  {
    std::lock_guard guard(*lock_);
    stopping_ = true;
  }
  for (std::size_t i = 0; i < pids_.size(); ++i) signal(i, SIGTERM);
  for (std::size_t i = 0; i < pids_.size(); ++i) wait(i, 10'000);
}

std::optional<nlohmann::json> Testnet::status_json(std::size_t i) const {
  const net::Url admin{false, "127.0.0.1", static_cast<std::uint16_t>(ports_.at(i) + 2), ""};
  const auto r = net::http_call(admin, "GET", "/status", "", std::chrono::milliseconds(1000));
  if (!r || r->status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<NodeStatus> Testnet::status(std::size_t i) const {
  const auto status = status_json(i);
  if (!status) return std::nullopt;
  const nlohmann::json& j = *status;
  NodeStatus s;
  s.height = j.value("height", 0ull);
  s.round = j.value("round", 0ull);
  s.peers = j.value("peers_connected", std::size_t{0});
  s.catching_up = j.value("catching_up", false);
  return s;
}

}  // namespace synod::node
