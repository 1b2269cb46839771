// synod: the node's command line (CLI11; `-h` on every verb). Operators'
// verbs: keygen, setup, genesis, server, status, admin-password, check,
// reset-state, backup, backups, restore; clients' verbs: tx (node/tx_client.h);
// the local testnet (testnet, load, demo). Exit codes: 0 success, 1 the
// operation failed (the message says why), 2 a usage error, 3 (tx, status)
// the node could not be reached.
#include <CLI/CLI.hpp>
#include <signal.h>
#include <unistd.h>
#include <sodium.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/daily_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "net/client.h"
#include "net/tls.h"
#include "node/backup.h"
#include "node/config.h"
#include "node/demo.h"
#include "node/load.h"
#include "node/safety_file.h"
#include "node/server.h"
#include "node/testnet.h"
#include "node/tx_client.h"
#include "node/admin_auth.h"

namespace {

using namespace synod;
using namespace synod::node;
namespace fs = std::filesystem;

TimeMs wall_clock_ms() {
  return static_cast<TimeMs>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

int fail(const std::string& message) {
  std::cerr << "synod: " << message << "\n";
  return 1;
}
int usage(const std::string& message) {
  std::cerr << "synod: " << message << "\n";
  return 2;
}

// %* : the message as a JSON string's contents.
class JsonEscaped final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    for (const char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      if (c == '"' || c == '\\') {
        dest.push_back('\\');
        dest.push_back(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        dest.append(buf, buf + 6);
      } else {
        dest.push_back(c);
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonEscaped>(); }
};

// -d 0..5: 0 warnings and errors, 1 info, 2 debug, 3 and above trace.
std::shared_ptr<spdlog::logger> make_logger(const PrivateConfig& c, int debug) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_sink_mt>()};
  const fs::path folder = c.log_folder.empty() ? c.data_dir / "logs" : c.log_folder;
  std::error_code ec;
  fs::create_directories(folder, ec);
  try {
    // A new file each day at midnight, seven kept.
    sinks.push_back(std::make_shared<spdlog::sinks::daily_file_sink_mt>((folder / "synod.log").string(), 0, 0, false, 7));
  } catch (const spdlog::spdlog_ex& e) {
    std::cerr << "synod: no log files in " << folder << ": " << e.what() << "\n";
  }
  auto logger = std::make_shared<spdlog::logger>("synod", sinks.begin(), sinks.end());
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (c.log_json) {
    formatter->add_flag<JsonEscaped>('*').set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%*"})");
  } else {
    formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %L %v");
  }
  logger->set_formatter(std::move(formatter));
  const spdlog::level::level_enum levels[] = {spdlog::level::warn, spdlog::level::info, spdlog::level::debug,
                                              spdlog::level::trace};
  logger->set_level(levels[std::min(debug, 3)]);
  logger->flush_on(spdlog::level::info);
  return logger;
}

std::expected<std::pair<PrivateConfig, Genesis>, std::string> load_node(const std::string& private_file) {
  auto config = load_private(private_file);
  if (!config) return std::unexpected(to_string(config.error()));
  auto genesis = load_genesis(config->genesis);
  if (!genesis) return std::unexpected(to_string(genesis.error()));
  return std::pair{*config, *genesis};
}

// What a restore will do, for the operator to read before it happens.
std::string describe_restore(const RestorePlan& plan, const std::string& file) {
  std::ostringstream out;
  out << "backup:  " << file << ", verified, committed height " << plan.backup.committed_height.value << "\n";
  if (plan.current) {
    out << "ledger:  committed height " << plan.current->committed_height.value;
    if (plan.blocks_discarded > 0) {
      out << ": the " << plan.blocks_discarded << " blocks above the backup's height are dropped here (peers send them again)";
    }
    out << "\n";
  } else if (plan.current_unreadable) {
    out << "ledger:  unreadable (" << to_string(*plan.current_unreadable) << "): it is replaced\n";
  } else {
    out << "ledger:  none here yet\n";
  }
  switch (plan.safety) {
    case RestorePlan::Safety::Valid:
      out << "safety record: kept (signed up to round " << plan.safety_record->voted_round.value
          << "): the node will not sign again in a round it signed in\n";
      break;
    case RestorePlan::Safety::Missing:
      out << "safety record: none: the node starts under the AmnesiaRule and signs only past a fence round\n";
      break;
    case RestorePlan::Safety::Unusable:
      out << "safety record: unusable (" << to_string(*plan.safety_problem)
          << "): the node starts under the AmnesiaRule and signs only past a fence round\n";
      break;
  }
  return out.str();
}

std::string ask(const std::string& question, const std::string& fallback) {
  std::cout << question << " [" << fallback << "]: " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer) || answer.empty()) return fallback;
  return answer;
}

int run(int argc, char** argv) {
  if (sodium_init() < 0) return fail("libsodium failed to initialise");
  CLI::App app{"synod: a Byzantine-fault-tolerant replicated ledger node"};
  app.require_subcommand(1);
  const std::string default_private = (default_config_dir() / "private.toml").string();

  // ---- keygen
  auto* keygen = app.add_subcommand("keygen", "print a new Ed25519 key pair (public, then secret)");

  // ---- setup
  auto* setup = app.add_subcommand("setup", "write private.toml and public.toml for a new validator");
  bool non_interactive = false;
  std::string setup_dir = default_config_dir().string(), setup_address = "127.0.0.1:" + std::to_string(peer_port_default), setup_description = "synod node",
              setup_data = default_data_dir().string(), setup_genesis = "genesis.toml", setup_url, setup_secret_file;
  std::uint64_t setup_weight = 1;
  setup->add_flag("--non-interactive", non_interactive, "take every answer from the flags");
  setup->add_option("--config-dir", setup_dir, "where private.toml and public.toml go");
  setup->add_option("--address", setup_address, "host:port where peers reach this node (port P; client P+1, admin P+2)");
  setup->add_option("--description", setup_description, "a line that says who runs it");
  setup->add_option("--data-dir", setup_data, "the data folder (ledger, safety record, backups, logs)");
  setup->add_option("--genesis", setup_genesis, "the genesis file, relative to the config folder");
  setup->add_option("--url", setup_url, "the client URL, when a reverse proxy fronts port P+1");
  setup->add_option("--weight", setup_weight, "the weight proposed for the genesis");
  setup->add_option("--secret-file", setup_secret_file, "encrypt the secret key with a key derived from this file");

  // ---- genesis
  auto* genesis_cmd = app.add_subcommand("genesis", "write genesis.toml from a roster and allocations");
  std::string roster_file, genesis_out = "genesis.toml", chain_name = "synod";
  std::vector<std::string> allocations;
  genesis_cmd->add_option("--roster", roster_file, "roster.toml: the validators' public.toml files, concatenated")->required();
  genesis_cmd->add_option("--chain-name", chain_name, "the chain's name");
  genesis_cmd->add_option("--allocate", allocations, "KEY=BALANCE, repeated: accounts funded at genesis");
  genesis_cmd->add_option("-o,--output", genesis_out, "the file to write (refused if it exists)");

  // ---- server
  auto* server = app.add_subcommand("server", "run a validator until SIGINT or SIGTERM");
  std::string private_file = default_private;
  int debug = 1;
  server->add_option("-c,--config", private_file, "private.toml");
  server->add_option("-d,--debug", debug, "log detail, 0 (warnings) to 5")->check(CLI::Range(0, 5));

  // ---- check
  auto* check = app.add_subcommand("check", "reach every server of a roster and verify key, chain and version");
  std::string check_roster, check_genesis;
  int check_timeout_ms = 3000;
  check->add_option("ROSTER", check_roster, "roster.toml")->required();
  check->add_option("--genesis", check_genesis, "genesis.toml: the chain every server must be on (default: the one beside the roster)");
  check->add_option("--timeout-ms", check_timeout_ms, "per server")->check(CLI::Range(1, 600000));

  // ---- reset-state
  auto* reset = app.add_subcommand("reset-state", "delete the ledger; keep the key and the safety record (node stopped)");
  reset->add_option("-c,--config", private_file, "private.toml");

  // ---- backups
  std::string folder;
  auto* backup = app.add_subcommand("backup", "online, compacted copy of the ledger (safe while the node runs)");
  backup->add_option("-c,--config", private_file, "private.toml");
  backup->add_option("--folder", folder, "backup folder (default: the configured one)");
  auto* backups = app.add_subcommand("backups", "list backups with their times and sizes");
  backups->add_option("-c,--config", private_file, "private.toml");
  backups->add_option("--folder", folder, "backup folder (default: the configured one)");
  std::string restore_file;
  auto* restore = app.add_subcommand("restore", "replace the ledger by a verified backup (node stopped)");
  restore->add_option("FILE", restore_file, "the backup file")->required();
  restore->add_option("-c,--config", private_file, "private.toml");
  bool restore_dry_run = false;
  restore->add_flag("--dry-run", restore_dry_run, "check the backup and show what would change; change nothing");

  // ---- testnet, load, demo
  TestnetOptions testnet_options;
  testnet_options.dir = "testnet";
  std::string weights_text;
  auto* testnet = app.add_subcommand("testnet", "run a local testnet of N synod server processes on 127.0.0.1");
  testnet->add_option("-n,--nodes", testnet_options.nodes, "validators")->check(CLI::Range(1, 64));
  testnet->add_option("-d,--dir", testnet_options.dir, "its folder: created, or restarted from its files");
  testnet->add_option("--weights", weights_text, "validator weights, e.g. 2,1,1,1");
  testnet->add_option("--base-port", testnet_options.base_port, "node i uses base+10i (default: a free range)");
  testnet->add_option("--debug", testnet_options.debug, "the servers' -d")->check(CLI::Range(0, 5));
  bool testnet_init = false;
  testnet->add_flag("--init", testnet_init,
                    "write the folder's keys, configs and genesis, then exit (start each node with synod server -c)");

  LoadOptions load_options;
  std::string load_genesis_file;
  double load_seconds = 10;
  auto* load = app.add_subcommand("load", "submit signed transfers from the testnet's funded accounts");
  load->add_option("--genesis", load_genesis_file, "genesis.toml of the chain")->required();
  load->add_option("--rate", load_options.tx_per_s, "transfers per second")->check(CLI::Range(1.0, 1e6));
  load->add_option("--seconds", load_seconds, "how long")->check(CLI::Range(0.1, 86400.0));
  load->add_option("--accounts", load_options.accounts, "funded accounts used")->check(CLI::Range(1, 100000));

  // ---- clients: tx, status; admin-password
  TxClientOptions tx_options;
  tx_options.public_file = default_config_dir() / "public.toml";
  tx_options.key_file = default_config_dir() / "client.key";
  auto* tx = app.add_subcommand("tx", "sign and submit transactions, read accounts, values and fates (a client)");
  tx->require_subcommand(1);
  tx->fallthrough();  // `synod tx keygen --key-file F` as well as `synod tx --key-file F keygen`
  tx->add_option("--url", tx_options.url, "the node's client URL (default: from public.toml: url, else address port + 1)");
  tx->add_option("--public", tx_options.public_file, "public.toml giving the node's URL or address");
  tx->add_option("--key-file", tx_options.key_file, "the client key file");
  tx->add_option("--testnet-account", tx_options.testnet_account, "sign with testnet account N (funded in testnet genesis)");
  tx->add_option("--ca", tx_options.ca_file, "CA file for an https:// URL (default: the system's CAs)");
  tx->add_option("--timeout-ms", tx_options.timeout_ms, "deadline of each request and of --wait")->check(CLI::Range(1, 3'600'000));
  std::string tx_to, tx_key, tx_value, tx_owner, tx_hash_text;
  std::uint64_t tx_amount = 0;
  auto* tx_keygen_cmd = tx->add_subcommand("keygen", "write a new client key file (mode 0600) and print its public key");
  auto* tx_transfer_cmd = tx->add_subcommand("transfer", "transfer AMOUNT to the account TO");
  tx_transfer_cmd->add_option("TO", tx_to, "the receiver's public key (64 hex digits)")->required();
  tx_transfer_cmd->add_option("AMOUNT", tx_amount, "whole units")->required();
  auto* tx_store_cmd = tx->add_subcommand("store", "store VALUE under KEY in your own namespace");
  tx_store_cmd->add_option("KEY", tx_key, "the key (text, or hex with --hex)")->required();
  tx_store_cmd->add_option("VALUE", tx_value, "the value (text, or hex with --hex)")->required();
  for (auto* c : {tx_transfer_cmd, tx_store_cmd}) {
    c->add_flag("--wait", tx_options.wait, "wait until the transaction's fate is final, and print it");
    c->add_option("--nonce", tx_options.nonce, "the nonce (default: the account's next, from the node)");
  }
  tx_store_cmd->add_flag("--hex", tx_options.hex, "KEY and VALUE are hex");
  auto* tx_get_cmd = tx->add_subcommand("get", "read the value OWNER stored under KEY");
  tx_get_cmd->add_option("OWNER", tx_owner, "the owner's public key")->required();
  tx_get_cmd->add_option("KEY", tx_key, "the key (text, or hex with --hex)")->required();
  tx_get_cmd->add_flag("--hex", tx_options.hex, "KEY is hex");
  auto* tx_account_cmd = tx->add_subcommand("account", "balance and next nonce of KEY (default: your own)");
  tx_account_cmd->add_option("KEY", tx_key, "the account's public key");
  auto* tx_status_cmd = tx->add_subcommand("status", "the fate of the transaction HASH");
  tx_status_cmd->add_option("HASH", tx_hash_text, "the transaction's hash")->required();
  tx_status_cmd->add_flag("--wait", tx_options.wait, "wait until it is final");
  auto* tx_watch_cmd = tx->add_subcommand("watch", "print each commit as a JSON line");
  tx_watch_cmd->add_option("--count", tx_options.count, "stop after this many commits (default: never)");

  std::string status_url;
  std::uint64_t status_timeout_ms = 5000;
  auto* status_cmd = app.add_subcommand("status", "a node's /status as a table");
  status_cmd->add_option("--url", status_url, "the admin URL (default: from private.toml, port P+2)");
  status_cmd->add_option("-c,--config", private_file, "private.toml");
  status_cmd->add_option("--timeout-ms", status_timeout_ms, "deadline")->check(CLI::Range(1, 600'000));

  std::string password_file;
  auto* admin_password = app.add_subcommand("admin-password", "print the [admin] password_hash line for a password");
  admin_password->add_option("--password-file", password_file, "read the password from this file (default: standard input)");

  DemoOptions demo_options;
  auto* demo = app.add_subcommand("demo", "a four-node testnet with load and a SIGKILL, then a summary");
  demo->add_option("--seconds", demo_options.load_seconds, "seconds of load")->check(CLI::Range(2.0, 3600.0));
  demo->add_option("--rate", demo_options.tx_per_s, "transfers per second")->check(CLI::Range(1.0, 1e6));
  demo->add_option("--dir", demo_options.dir, "its folder (default: a new temporary one)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version print and succeed; every other parse error is a usage error.
    return app.exit(e) == 0 ? 0 : 2;
  }
  const fs::path self_binary = fs::read_symlink("/proc/self/exe");

  if (*tx) {
    if (*tx_keygen_cmd) return tx_keygen(tx_options);
    if (*tx_transfer_cmd) return tx_transfer(tx_options, tx_to, tx_amount);
    if (*tx_store_cmd) return tx_store(tx_options, tx_key, tx_value);
    if (*tx_get_cmd) return tx_get(tx_options, tx_owner, tx_key);
    if (*tx_account_cmd) return tx_account(tx_options, tx_key);
    if (*tx_status_cmd) return tx_status(tx_options, tx_hash_text);
    if (*tx_watch_cmd) return tx_watch(tx_options);
  }
  if (*status_cmd) return print_status(status_url, private_file, status_timeout_ms);
  if (*admin_password) {
    std::string password;
    if (password_file.empty()) {
      if (::isatty(0)) std::cerr << "admin password: " << std::flush;
      std::getline(std::cin, password);
    } else {
      std::ifstream in(password_file);
      if (!in) return usage("cannot read " + password_file);
      std::getline(in, password);
    }
    if (password.size() < 12) return usage("the admin password must have at least 12 characters");
    std::cout << "[admin]\npassword_hash = \"" << hash_admin_password(password) << "\"\n";
    return 0;
  }
  if (*keygen) {
    const KeyPair key = random_key();
    std::cout << "public " << hex(key.public_key.view()) << "\nsecret " << hex(key.seed) << "\n";
    return 0;
  }
  if (*setup) {
    if (!non_interactive) {
      setup_address = ask("Address where peers reach this node (host:port; client port +1, admin +2)", setup_address);
      setup_description = ask("Description", setup_description);
      setup_data = ask("Data folder", setup_data);
      setup_dir = ask("Configuration folder", setup_dir);
      setup_genesis = ask("Genesis file (relative to the configuration folder)", setup_genesis);
    }
    if (!valid_address(setup_address)) return usage("--address must be host:port, not \"" + setup_address + "\"");
    PrivateConfig c;
    c.file = fs::path(setup_dir) / "private.toml";
    c.key = random_key();
    c.address = setup_address;
    c.description = setup_description;
    c.url = setup_url;
    c.data_dir = setup_data;
    c.genesis = setup_genesis;
    if (!setup_secret_file.empty()) c.secret_file = fs::absolute(setup_secret_file);
    if (auto written = write_private(c); !written) return fail(to_string(written.error()));
    const fs::path public_file = fs::path(setup_dir) / "public.toml";
    std::ofstream(public_file) << public_toml(PublicConfig{c.key.public_key, c.address, c.url, c.description, setup_weight});
    std::cout << "wrote " << c.file.string() << " (secret, mode 0600) and " << public_file.string()
              << "\nsend public.toml to whoever assembles roster.toml and the genesis\n";
    return 0;
  }
  if (*genesis_cmd) {
    auto roster = load_roster(roster_file);
    if (!roster) return fail(to_string(roster.error()));
    Genesis g;
    g.chain_name = chain_name;
    for (const PublicConfig& p : *roster) g.validators.push_back(Validator{p.key, Weight(p.weight), p.address, p.description});
    for (const std::string& a : allocations) {
      const auto eq = a.find('=');
      PublicKey account;
      std::uint64_t balance = 0;
      if (eq == std::string::npos || !parse_hex(a.substr(0, eq), account)) return usage("--allocate wants KEY=BALANCE, KEY 64 hex digits: " + a);
      try {
        std::size_t used = 0;
        balance = std::stoull(a.substr(eq + 1), &used);
        if (used != a.size() - eq - 1 || a[eq + 1] == '-') throw std::invalid_argument("junk");
      } catch (const std::exception&) {
        return usage("--allocate: BALANCE must be a non-negative integer: " + a);
      }
      g.allocations.push_back(Allocation{account, balance});
    }
    if (fs::exists(genesis_out)) return fail(genesis_out + " exists already: refusing to overwrite a genesis");
    std::ofstream(genesis_out) << genesis_toml(g);
    std::cout << "wrote " << genesis_out << ", chain id " << hex(g.chain_id().view()) << "\n";
    return 0;
  }
  if (*server) {
    auto node = load_node(private_file);
    if (!node) return fail(node.error());
    auto logger = make_logger(node->first, debug);
    ServerOptions options{node->first, node->second, [logger](int level, const std::string& line) {
                            static constexpr spdlog::level::level_enum levels[] = {
                                spdlog::level::err, spdlog::level::warn, spdlog::level::info, spdlog::level::debug,
                                spdlog::level::trace};
                            logger->log(levels[std::clamp(level, 0, 4)], line);
                          },
                          [logger](int level) {
                            static constexpr spdlog::level::level_enum levels[] = {
                                spdlog::level::err, spdlog::level::warn, spdlog::level::info, spdlog::level::debug,
                                spdlog::level::trace};
                            logger->set_level(levels[std::clamp(level, 0, 4)]);
                          }};
    return run_server(options);
  }
  if (*check) {
    auto roster = load_roster(check_roster);
    if (!roster) return fail(to_string(roster.error()));
    std::optional<ChainId> chain;
    // The Hello names a chain: the genesis beside the roster unless one is given.
    if (check_genesis.empty()) check_genesis = (fs::path(check_roster).parent_path() / "genesis.toml").string();
    if (!fs::exists(check_genesis)) return usage("no genesis.toml beside the roster: pass --genesis");
    {
      auto g = load_genesis(check_genesis);
      if (!g) return fail(to_string(g.error()));
      chain = g->chain_id();
    }
    const KeyPair me = random_key();
    auto tls = net::make_tls_context(me);
    boost::asio::io_context io;
    int failures = 0;
    for (const PublicConfig& p : *roster) {
      net::Client client(io, tls, net::Hello{net::protocol_version, *chain, me.public_key});
      std::optional<std::string> error;
      const auto started = std::chrono::steady_clock::now();
      client.connect(p.address, p.key, [&](const std::string& e) { error = e; });
      const auto until = started + std::chrono::milliseconds(check_timeout_ms);
      while (!error && std::chrono::steady_clock::now() < until) {
        io.restart();  // a loop that ran out of work stays stopped until restarted
        io.run_for(std::chrono::milliseconds(5));
      }
      std::string verdict;
      if (!error) {
        verdict = "no answer within " + std::to_string(check_timeout_ms) + " ms";
      } else if (!error->empty()) {
        verdict = *error;
      } else if (client.node_hello()->version != net::protocol_version) {
        verdict = "protocol version " + std::to_string(client.node_hello()->version) + ", ours " + std::to_string(net::protocol_version);
      } else if (client.node_hello()->chain != *chain) {
        verdict = "on chain " + hex(client.node_hello()->chain.view()).substr(0, 16) + ", expected " + hex(chain->view()).substr(0, 16);
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      if (verdict.empty()) {
        std::printf("ok    %-24s %s  %.1f ms\n", p.address.c_str(), p.description.c_str(), ms);
      } else {
        ++failures;
        std::printf("FAIL  %-24s %s  %s\n", p.address.c_str(), p.description.c_str(), verdict.c_str());
      }
      client.close();
      io.restart();
      io.run_for(std::chrono::milliseconds(20));
    }
    return failures == 0 ? 0 : 1;
  }
  if (*reset) {
    auto node = load_node(private_file);
    if (!node) return fail(node.error());
    const NodeFiles files = node_files(node->first.data_dir, node->first.key.public_key);
    auto lock = FileLock::acquire(files.lock);
    if (!lock) return fail("the node is running (" + to_string(lock.error()) + "): stop it first");
    // Without its ledger and its record a node starts as new and may sign
    // again in rounds it signed in: the ledger goes only while a sound record
    // stays, which keeps the node from signing below it.
    auto record = read_safety_file(files.safety);
    if (!record) {
      return fail("the safety record " + files.safety.string() + " cannot be read (" + to_string(record.error()) +
                  "): refusing to delete the ledger, which is all that still tells the AmnesiaRule how far this node signed");
    }
    if (!*record && fs::exists(files.ledger)) {
      return fail("no safety record at " + files.safety.string() +
                  ": refusing to delete the ledger, which is all that still tells the AmnesiaRule how far this node signed");
    }
    std::error_code ec;
    fs::remove(files.ledger, ec);
    if (ec) return fail("cannot remove " + files.ledger.string() + ": " + ec.message());
    fs::remove(fs::path(files.ledger.string() + "-lock"), ec);
    std::cout << "removed " << files.ledger.string() << "; kept the key and the safety record "
              << files.safety.string() << "\n";
    return 0;
  }
  if (*backup || *backups || *restore) {
    auto node = load_node(private_file);
    if (!node) return fail(node.error());
    const NodeFiles files = node_files(node->first.data_dir, node->first.key.public_key);
    const fs::path backup_folder = !folder.empty() ? fs::path(folder)
                                   : !node->first.backup_folder.empty() ? node->first.backup_folder
                                                                        : files.backups;
    if (*backup) {
      auto taken = take_backup(files, backup_folder, wall_clock_ms());
      if (!taken) return fail(to_string(taken.error()));
      std::cout << taken->file.string() << " " << taken->size_bytes << " bytes\n";
      return 0;
    }
    if (*backups) {
      const auto listed = list_backups(backup_folder, files);
      if (!listed) return fail(to_string(listed.error()));
      if (listed->empty()) std::cout << "no backups of this node in " << backup_folder.string() << "\n";
      for (const BackupInfo& b : *listed) {
        std::cout << format_utc(b.time_ms) << "  " << b.size_bytes << " bytes  " << b.file.string() << "\n";
      }
      return 0;
    }
    const auto& [config, genesis] = *node;
    auto plan = plan_restore(restore_file, config.data_dir, genesis.chain_id(), config.key.public_key, &genesis);
    if (!plan) return fail(to_string(plan.error()));
    std::cout << describe_restore(*plan, restore_file);
    if (restore_dry_run) {
      std::cout << "dry run: nothing changed\n";
      return 0;
    }
    auto restored = restore_backup(restore_file, config.data_dir, genesis.chain_id(), config.key.public_key,
                                   wall_clock_ms(), &genesis);
    if (!restored) return fail(to_string(restored.error()));
    std::cout << "restored height " << restored->plan.backup.committed_height.value << " from " << restore_file << "\n";
    if (!restored->replaced_kept_as.empty()) {
      std::cout << "the replaced ledger is kept as " << restored->replaced_kept_as.string()
                << "; delete it once the node runs again\n";
    }
    return 0;
  }
  if (*testnet) {
    if (!weights_text.empty()) {
      std::stringstream in(weights_text);
      for (std::string w; std::getline(in, w, ',');) {
        try {
          testnet_options.weights.push_back(std::stoull(w));
        } catch (const std::exception&) {
          return usage("--weights wants positive integers separated by commas: " + weights_text);
        }
        if (testnet_options.weights.back() == 0) return usage("--weights: a weight must be at least 1");
      }
      testnet_options.nodes = testnet_options.weights.size();
    }
    testnet_options.synod = self_binary;
    if (testnet_init) {
      const auto net = Testnet::prepare(testnet_options);
      if (!net) return fail(net.error());
      std::cout << "testnet of " << net->size() << " in " << testnet_options.dir.string()
                << "; start node i with: synod server -c " << (testnet_options.dir / "nodeI" / "private.toml").string()
                << "\n";
      return 0;
    }
    return run_testnet_until_interrupted(testnet_options);
  }
  if (*load) {
    auto g = load_genesis(load_genesis_file);
    if (!g) return fail(to_string(g.error()));
    load_options.genesis = *g;
    load_options.duration_ms = static_cast<TimeMs>(load_seconds * 1000);
    const VerifyLimit limit = measure_verify_limit(g->validators.size());
    const LoadReport r = run_load(load_options);
    if (!r.error.empty()) return fail(r.error);
    std::cout << format_report(r) << "\n" << format_limit(limit, r) << "\n";
    return 0;
  }
  demo_options.synod = self_binary;
  return run_demo(demo_options);
}

}  // namespace

int main(int argc, char** argv) {
  // Every expected failure returns a typed error; an exception reaching here
  // is a missed case, still reported as a message and exit 1, never an abort.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "synod: " << e.what() << "\n";
    return 1;
  }
}
