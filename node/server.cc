#include "node/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/assert.h"
#include "core/driver.h"
#include "net/admin_server.h"
#include "net/clock.h"
#include "net/log_limiter.h"
#include "net/peer_network.h"
#include "node/backup.h"
#include "node/lmdb_store.h"

namespace synod::node {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

enum Level { Error = 0, Warn = 1, Info = 2, Debug = 3 };

// How often the backup schedule is consulted, and the status line logged.
constexpr auto backup_check_interval = std::chrono::minutes(10);
constexpr auto status_log_interval = std::chrono::seconds(10);
// Client requests in flight through the replica, all connections together.
constexpr std::size_t client_requests_in_flight_max = 65536;

TimeMs wall_clock_ms() {
  return static_cast<TimeMs>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
}

class Server final : public Subscriber {
 public:
  Server(const ServerOptions& options, std::unique_ptr<LmdbStore> store, Recovery recovery, NodeId self)
      : options_(options),
        store_(std::move(store)),
        self_(self),
        network_(io_, options.genesis, self, options.config.key, net::PeerLimits{},
                 net::PeerNetwork::Handlers{
                     [this](NodeId from, MessagePtr m) { on_message(from, m); },
                     [this](net::ClientId client, ClientRequest r) { on_client_request(client, std::move(r)); },
                     [this](const std::string& line) { log(Info, line); },
                 }),
        replica_(options.genesis, self, options.config.key, ed25519_scheme(), replica_config(options.config), recovery,
                 clock_.now()),
        driver_(replica_, clock_, network_, *store_, this),
        tick_timer_(io_),
        backup_timer_(io_),
        status_timer_(io_),
        signals_(io_, SIGINT, SIGTERM) {}

  int run() {
    const auto listen = net::split_address(options_.config.listen);
    SYNOD_ASSERT(listen.has_value());
    try {
      tcp::resolver resolver(io_);
      const auto endpoints = resolver.resolve(listen->first, std::to_string(listen->second));
      const tcp::endpoint peer = *endpoints.begin();
      network_.start(peer);
      // The admin port, P+2, answers on loopback only.
      admin_.emplace(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(peer.port() + 2)),
                     [this](const std::string& method, const std::string& target) { return admin(method, target); });
    } catch (const std::exception& e) {
      log(Error, "cannot listen on " + options_.config.listen + ": " + e.what());
      return 1;
    }
    log(Info, "synod server n" + std::to_string(self_.value) + " listening on " + options_.config.listen +
                  ", chain " + hex(options_.genesis.chain_id().view()).substr(0, 16) + ", committed height " +
                  std::to_string(replica_.committed_height().value) + (replica_.amnesiac() ? " (AmnesiaRule: not signing yet)" : ""));
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      log(Info, std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
      stop();
    });
    schedule_tick();
    check_backups();
    log_status();
    io_.run();
    log(Info, "stopped at committed height " + std::to_string(replica_.committed_height().value));
    return 0;
  }

  // ---- Subscriber: what the driver made durable
  void on_commits(const std::vector<CommittedBlock>& commits) override {
    for (const CommittedBlock& c : commits) {
      committed_txs_ += c.block->txs.size();
      log(Debug, "commit " + std::to_string(c.block->height().value) + " round " + std::to_string(c.block->round.value) +
                     " txs " + std::to_string(c.block->txs.size()));
    }
  }
  void on_replies(const std::vector<ClientResponse>& replies) override {
    for (const ClientResponse& r : replies) {
      const auto it = in_flight_.find(r.id);
      if (it == in_flight_.end()) continue;
      ClientResponse response = r;
      response.id = it->second.second;
      network_.respond(it->second.first, response);
      in_flight_.erase(it);
    }
  }

 private:
  static ReplicaConfig replica_config(const PrivateConfig& c) {
    ReplicaConfig r;
    r.round_timeout_ms = c.round_timeout_ms;
    r.idle_block_interval_ms = c.idle_block_interval_ms;
    r.committed_blocks_kept_max = c.committed_blocks_kept_max;
    return r;
  }

  void log(int level, const std::string& line) const { options_.log(level, line); }

  void on_message(NodeId from, const MessagePtr& message) {
    if (stopping_) return;
    const auto rejected_before = replica_.stats().rejected_by_reason;
    driver_.deliver(from, *message);
    // What the replica refused is counted there; here it is logged, once per
    // peer and reason a minute.
    const auto& rejected = replica_.stats().rejected_by_reason;
    for (std::size_t r = 0; r < rejected.size(); ++r) {
      if (rejected[r] == rejected_before[r]) continue;
      const std::string reason(to_string(static_cast<Reject>(r)));
      const std::string who = "n" + std::to_string(from.value);
      if (rejected_log_.allow(who, reason)) {
        log(Warn, "refused a " + std::string(message_kind(*message)) + " from " + who + ": " + reason + " (" +
                      std::to_string(rejected[r]) + " " + reason + " so far; logged once a minute per peer and reason)");
      }
    }
    schedule_tick();
  }

  void on_client_request(net::ClientId client, ClientRequest request) {
    if (stopping_) return;
    if (in_flight_.size() >= client_requests_in_flight_max) return;  // the client's deadline answers it
    // The node numbers requests itself: clients' ids may collide.
    const std::uint64_t id = next_request_id_++;
    in_flight_.emplace(id, std::pair{client, request.id});
    request.id = id;
    driver_.request(request);
    schedule_tick();
  }

  void schedule_tick() {
    const TimeMs deadline = driver_.next_deadline();
    if (tick_armed_ && deadline == tick_at_) return;
    tick_armed_ = true;
    tick_at_ = deadline;
    tick_timer_.expires_at(clock_.at(deadline));
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      tick_armed_ = false;
      driver_.tick();
      schedule_tick();
    });
  }

  void check_backups() {
    const BackupPolicy policy{options_.config.backup_folder.empty() ? store_->files().backups
                                                                     : options_.config.backup_folder,
                              options_.config.backup_interval_ms, options_.config.backups_kept};
    auto taken = run_backup_schedule(*store_, policy, wall_clock_ms());
    if (!taken) {
      log(Warn, "backup failed: " + to_string(taken.error()));
    } else if (*taken) {
      log(Info, "backup " + (*taken)->file.string() + " (" + std::to_string((*taken)->size_bytes) + " bytes)");
    }
    backup_timer_.expires_after(backup_check_interval);
    backup_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) check_backups();
    });
  }

  void log_status() {
    log(Info, "height " + std::to_string(replica_.committed_height().value) + " round " +
                  std::to_string(replica_.round().value) + " peers " + std::to_string(network_.validators_connected()) +
                  "/" + std::to_string(replica_.roster().size() - 1) + " txs " + std::to_string(committed_txs_) +
                  " mempool " + std::to_string(replica_.mempool().size()) +
                  (replica_.catching_up() ? " catching-up" : ""));
    status_timer_.expires_after(status_log_interval);
    status_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) log_status();
    });
  }

  net::HttpReply admin(const std::string& method, const std::string& target) {
    if (method != "GET") return {405, "application/json", R"({"error":"BAD_REQUEST","detail":"GET only"})"};
    if (target != "/status") return {404, "application/json", R"({"error":"NOT_FOUND"})"};
    nlohmann::json j;
    j["version"] = "synod " + std::to_string(net::protocol_version);
    j["protocol_version"] = net::protocol_version;
    j["node"] = self_.value;
    j["public_key"] = hex(options_.config.key.public_key.view());
    j["chain_id"] = hex(options_.genesis.chain_id().view());
    j["launched_ms"] = launched_ms_;
    j["height"] = replica_.committed_height().value;
    j["round"] = replica_.round().value;
    j["catching_up"] = replica_.catching_up();
    j["amnesiac"] = replica_.amnesiac();
    j["peers_connected"] = network_.validators_connected();
    j["validators"] = replica_.roster().size();
    j["committed_txs"] = committed_txs_;
    j["mempool_txs"] = replica_.mempool().size();
    j["state_root"] = hex(replica_.ledger().state_root().view());
    j["block_id"] = hex(replica_.committed_block()->id.view());
    // Counters of bad input and backpressure, by reason: what /metrics will export.
    const net::PeerStats& peers = network_.stats();
    nlohmann::json counters;
    for (const auto& [reason, count] : peers.links.refused) counters["peer_refused"][reason] = count;
    for (const auto& [error, count] : peers.decode_errors) counters["decode_errors"][std::string(to_string(error))] = count;
    const ReplicaStats& stats = replica_.stats();
    for (std::size_t r = 0; r < static_cast<std::size_t>(Reject::kCount); ++r) {
      counters["replica_rejected"][std::string(to_string(static_cast<Reject>(r)))] = stats.rejected_by_reason[r];
    }
    counters["sync_requests_from_store"] = stats.sync_requests_from_store;
    counters["store_syncs_served"] = driver_.stats().store_syncs_served;
    counters["store_syncs_refused"] = driver_.stats().store_syncs_refused;
    counters["messages_from_non_validators"] = peers.messages_from_non_validators;
    counters["dropped_backpressure"] = peers.links.dropped_backpressure;
    counters["dropped_unconnected"] = peers.dropped_unconnected;
    counters["client_requests"] = peers.client_requests;
    counters["frames_received"] = peers.links.frames_received;
    counters["bytes_received"] = peers.links.bytes_received;
    counters["connections_accepted"] = peers.accepted;
    j["counters"] = counters;
    return {200, "application/json", j.dump()};
  }

  void stop() {
    if (stopping_) return;
    stopping_ = true;
    if (admin_) admin_->stop();
    tick_timer_.cancel();
    backup_timer_.cancel();
    status_timer_.cancel();
    signals_.cancel();
    network_.stop();  // goodbye frames; the loop ends when they are written or time out
  }

  const ServerOptions& options_;
  std::unique_ptr<LmdbStore> store_;
  NodeId self_;
  asio::io_context io_;
  net::SteadyClock clock_;
  net::PeerNetwork network_;
  Replica replica_;
  Driver driver_;
  asio::steady_timer tick_timer_;
  asio::steady_timer backup_timer_;
  asio::steady_timer status_timer_;
  asio::signal_set signals_;
  std::optional<net::AdminServer> admin_;
  net::LogLimiter rejected_log_;
  TimeMs launched_ms_ = wall_clock_ms();
  bool tick_armed_ = false;
  TimeMs tick_at_ = 0;
  bool stopping_ = false;
  std::uint64_t committed_txs_ = 0;
  std::uint64_t next_request_id_ = 1;
  std::map<std::uint64_t, std::pair<net::ClientId, std::uint64_t>> in_flight_;
};

}  // namespace

int run_server(const ServerOptions& options) {
  const PrivateConfig& c = options.config;
  if (auto e = check_membership(c, options.genesis)) {
    options.log(Error, to_string(*e));
    return 1;
  }
  const Roster roster(options.genesis.validators);
  const NodeId self = *roster.find(c.key.public_key);
  auto store = LmdbStore::open(c.data_dir, options.genesis, c.key.public_key);
  if (!store) {
    options.log(Error, "cannot open the store in " + c.data_dir.string() + ": " + to_string(store.error()) +
                           (store.error().kind == StoreErrorKind::Locked ? " (is another synod server running on it?)" : ""));
    return 1;
  }
  auto recovery = (*store)->load();
  if (!recovery) {
    options.log(Error, "cannot read the store: " + to_string(recovery.error()));
    return 1;
  }
  if (recovery->safety_lost) {
    options.log(Warn, "safety record lost (" + to_string(*recovery->safety_lost) +
                          "): the AmnesiaRule holds signing back until the network has moved past every round this node could have signed in");
  }
  Server server(options, std::move(*store), std::move(*recovery), self);
  return server.run();
}

}  // namespace synod::node
