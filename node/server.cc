#include "node/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/assert.h"
#include "core/driver.h"
#include "net/clock.h"
#include "net/frame.h"
#include "net/http_server.h"
#include "net/log_limiter.h"
#include "net/peer_network.h"
#include "node/admin_auth.h"
#include "node/backup.h"
#include "node/client_api.h"
#include "node/lmdb_store.h"
#include "node/metrics.h"
#include "node/status_page.h"
#include "node/version.h"

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

// Limits of the client port (docs/client_api.md) and of the admin port.
net::HttpLimits client_http_limits(const PrivateConfig& c) {
  return net::HttpLimits{.request_bytes_max = 64 * 1024,
                         .connections_max = c.client_connections_max,
                         .request_ms_max = 10'000,
                         .requests_per_second = c.client_requests_per_second,
                         .requests_burst = 2 * c.client_requests_per_second};
}
constexpr net::HttpLimits admin_http_limits{.request_bytes_max = 8192, .connections_max = 64, .request_ms_max = 5000};

// The node is out of consensus when it committed nothing for this many round timeouts.
constexpr std::uint64_t consensus_stale_rounds = 10;

double seconds_since(std::chrono::steady_clock::time_point then, std::chrono::steady_clock::time_point now) {
  return std::chrono::duration<double>(now - then).count();
}

// The store, with every durable write (each ends in an fsync) timed for /metrics.
class TimedStore final : public Store {
 public:
  explicit TimedStore(LmdbStore& inner) : inner_(inner) {}
  void save_safety(const SafetyRecord& record) override { timed(safety, [&] { inner_.save_safety(record); }); }
  void save_blocks(const std::vector<BlockPtr>& blocks) override { timed(blocks_, [&] { inner_.save_blocks(blocks); }); }
  void save_commits(const std::vector<CommittedBlock>& commits) override {
    timed(commits_, [&] { inner_.save_commits(commits); });
  }
  std::expected<Recovery, StoreError> load() const override { return inner_.load(); }
  Height committed_height() const override { return inner_.committed_height(); }
  std::expected<CommittedBlock, StoreError> committed_block(Height height) const override {
    return inner_.committed_block(height);
  }
  Histogram safety{Histogram::fsync_bounds()};
  Histogram blocks_{Histogram::fsync_bounds()};
  Histogram commits_{Histogram::fsync_bounds()};

 private:
  template <class F>
  static void timed(Histogram& h, F&& write) {
    const auto start = std::chrono::steady_clock::now();
    write();
    h.observe(seconds_since(start, std::chrono::steady_clock::now()));
  }
  LmdbStore& inner_;
};

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
        timed_store_(*store_),
        self_(self),
        network_(io_, options.genesis, self, options.config.key, net::PeerLimits{},
                 net::PeerNetwork::Handlers{
                     [this](NodeId from, MessagePtr m) { on_message(from, m); },
                     [this](net::ClientId client, ClientRequest r) { on_client_request(client, std::move(r)); },
                     [this](const std::string& line) { log(Info, line); },
                 }),
        replica_(options.genesis, self, options.config.key, ed25519_scheme(), replica_config(options.config), recovery,
                 clock_.now()),
        driver_(replica_, clock_, network_, timed_store_, this),
        client_api_(ClientApiSources{
            options.genesis.chain_id(), self,
            [this](const ClientRequest& r) { return ask(r); },
            [this](Height h) -> std::optional<CommittedBlock> {
              auto b = store_->committed_block(h);
              return b ? std::optional(std::move(*b)) : std::nullopt;
            },
            [this] { return replica_.committed_height(); }, [this] { return replica_.round(); },
            [this] { return catching_up(); }}),
        admin_auth_(options.config.admin_password_hash),
        tick_timer_(io_),
        backup_timer_(io_),
        status_timer_(io_),
        signals_(io_, SIGINT, SIGTERM) {}

  int run() {
    driver_.start();  // now that the server it reports to is whole
    const auto listen = net::split_address(options_.config.listen);
    SYNOD_ASSERT(listen.has_value());
    try {
      tcp::resolver resolver(io_);
      const auto endpoints = resolver.resolve(listen->first, std::to_string(listen->second));
      const tcp::endpoint peer = *endpoints.begin();
      const Roster roster(options_.genesis.validators);
      for (const auto& [key, address] : options_.config.dial) {
        const auto to = roster.find(key);
        SYNOD_ASSERT(to.has_value());  // check_membership refused any other key
        network_.set_dial_address(*to, address);
      }
      network_.start(peer);
      const auto client_port = static_cast<std::uint16_t>(network_.port() + 1);
      const auto& client_host = options_.config.client_listen_host;
      const auto client_address = client_host.empty() ? peer.address() : asio::ip::make_address(client_host);
      client_http_.emplace(io_, tcp::endpoint(client_address, client_port), client_http_limits(options_.config),
                           [this](const net::HttpRequest& r) { return client_api_.handle(r); }, &client_api_,
                           client_tls());
      client_api_.attach(&*client_http_);
      // The admin port, P+2: loopback unless [admin] listen_host says otherwise.
      admin_http_.emplace(io_,
                          tcp::endpoint(asio::ip::make_address(options_.config.admin_listen_host),
                                        static_cast<std::uint16_t>(network_.port() + 2)),
                          admin_http_limits, [this](const net::HttpRequest& r) { return admin(r); });
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
    const auto now = std::chrono::steady_clock::now();
    for (const CommittedBlock& c : commits) {
      committed_txs_ += c.block->txs.size();
      ++committed_blocks_;
      if (last_commit_) block_interval_.observe(seconds_since(*last_commit_, now));
      last_commit_ = now;
      log(Debug, "commit " + std::to_string(c.block->height().value) + " round " + std::to_string(c.block->round.value) +
                     " txs " + std::to_string(c.block->txs.size()));
    }
    client_api_.on_commits(commits);
  }
  void on_replies(const std::vector<ClientResponse>& replies) override {
    for (const ClientResponse& r : replies) {
      if (asking_ && r.id == asked_id_) {
        answer_ = r;
        continue;
      }
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
    note_peer_height(from, *message);
    driver_.deliver(from, *message);
    note_round();
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

  // A client API request, answered by the replica through the driver at once.
  ClientResponse ask(ClientRequest request) {
    SYNOD_ASSERT(!asking_);
    const std::uint64_t client_id = request.id;
    request.id = asked_id_ = next_request_id_++;
    asking_ = true;
    answer_.reset();
    driver_.request(request);
    asking_ = false;
    SYNOD_ASSERT(answer_.has_value());
    ClientResponse r = std::move(*answer_);
    r.id = client_id;
    schedule_tick();
    return r;
  }

  // docs/client_api.md, NETWORK: not in consensus since launch, for
  // consensus_stale_rounds round timeouts, or while fetching blocks.
  bool catching_up() const {
    if (replica_.catching_up() || !last_commit_) return true;
    const auto stale = std::chrono::milliseconds(consensus_stale_rounds * options_.config.round_timeout_ms);
    return std::chrono::steady_clock::now() - *last_commit_ > stale;
  }

  void note_round() {
    if (replica_.round() == last_round_) return;
    const auto now = std::chrono::steady_clock::now();
    round_duration_.observe(seconds_since(round_started_, now));
    round_started_ = now;
    last_round_ = replica_.round();
  }

  // The highest height a peer's messages showed: its view, for /status.
  void note_peer_height(NodeId from, const Message& message) {
    if (from == self_ || from.value >= peer_heights_.size()) return;
    Height h;
    if (const auto* p = std::get_if<Proposal>(&message)) {
      h = p->block->justify.height;
    } else if (const auto* v = std::get_if<Vote>(&message)) {
      h = v->height;
    } else if (const auto* t = std::get_if<Timeout>(&message)) {
      h = t->high_qc.height;
    } else if (const auto* q = std::get_if<SyncRequest>(&message)) {
      h = q->committed_height;
    } else if (const auto* r = std::get_if<SyncResponse>(&message)) {
      h = r->committed_height;
    }
    peer_heights_[from.value] = std::max(peer_heights_[from.value], h);
  }

  std::shared_ptr<asio::ssl::context> client_tls() const {
    const PrivateConfig& c = options_.config;
    if (c.client_tls_certificate.empty()) return nullptr;
    auto tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    tls->use_certificate_chain_file(c.client_tls_certificate.string());
    tls->use_private_key_file(c.client_tls_key.string(), asio::ssl::context::pem);
    return tls;
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
      note_round();
      schedule_tick();
    });
  }

  void check_backups() {
    const BackupPolicy policy = backup_policy();
    auto taken = run_backup_schedule(*store_, policy, wall_clock_ms());
    const auto existing = list_backups(policy.folder, store_->files());
    if (existing && !existing->empty()) latest_backup_ms_ = existing->back().time_ms;
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

  net::HttpReply admin(const net::HttpRequest& r) {
    const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
    const std::string_view query =
        r.target.find('?') == std::string::npos ? std::string_view() : std::string_view(r.target).substr(r.target.find('?') + 1);
    if (r.method == "GET" && path == "/") return {200, "text/html; charset=utf-8", std::string(status_page_html())};
    if (r.method == "GET" && path == "/status") return {200, "application/json", status().dump()};
    if (r.method == "GET" && path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics()};
    const bool protected_route = (r.method == "GET" && path == "/backups") || (r.method == "POST" && path == "/backup") ||
                                 (r.method == "POST" && path == "/log-level");
    if (!protected_route) {
      return net::error_reply(404, "NOT_FOUND",
                              "GET /, /status, /metrics, /backups; POST /backup, /log-level?level=LEVEL");
    }
    const AdminAuth::Verdict verdict = admin_auth_.check(r.authorization, std::chrono::steady_clock::now());
    switch (verdict) {
      case AdminAuth::Verdict::Allowed: break;
      case AdminAuth::Verdict::NoPasswordSet:
        return net::error_reply(403, "FORBIDDEN", "no admin password is set: run synod admin-password and add it to private.toml");
      case AdminAuth::Verdict::Missing:
        return net::error_reply(401, "UNAUTHORIZED", "send the admin password with HTTP Basic authentication");
      case AdminAuth::Verdict::Wrong:
        log(Warn, "admin: wrong password from " + r.remote);
        return net::error_reply(401, "UNAUTHORIZED", "wrong admin password; the next attempt must wait");
      case AdminAuth::Verdict::LockedOut:
        return net::error_reply(429, "RATE_LIMITED", "locked after a wrong password; wait and try again");
    }
    if (path == "/backups") {
      nlohmann::json list = nlohmann::json::array();
      const auto listed = list_backups(backup_policy().folder, store_->files());
      if (!listed) return net::error_reply(404, "NOT_FOUND", to_string(listed.error()));
      for (const BackupInfo& b : *listed) {
        list.push_back({{"file", b.file.string()}, {"time", format_utc(b.time_ms)}, {"bytes", b.size_bytes}});
      }
      return {200, "application/json", nlohmann::json{{"backups", list}}.dump()};
    }
    if (path == "/backup") {
      auto taken = take_backup(*store_, backup_policy().folder, wall_clock_ms());
      if (!taken) return net::error_reply(500, "BACKUP_FAILED", to_string(taken.error()));
      latest_backup_ms_ = taken->time_ms;
      log(Info, "backup " + taken->file.string() + " taken on request");
      return {200, "application/json",
              nlohmann::json{{"file", taken->file.string()}, {"time", format_utc(taken->time_ms)}, {"bytes", taken->size_bytes}}
                  .dump()};
    }
    constexpr std::string_view levels[] = {"error", "warn", "info", "debug", "trace"};
    const std::string_view level = query.starts_with("level=") ? query.substr(6) : std::string_view();
    const auto it = std::find(std::begin(levels), std::end(levels), level);
    if (it == std::end(levels)) {
      return net::error_reply(400, "BAD_REQUEST", "use /log-level?level=error|warn|info|debug|trace");
    }
    options_.set_log_level(static_cast<int>(it - std::begin(levels)));
    log(Info, "log level set to " + std::string(level) + " on request");
    return {200, "application/json", nlohmann::json{{"level", level}}.dump()};
  }

  BackupPolicy backup_policy() const {
    return BackupPolicy{options_.config.backup_folder.empty() ? store_->files().backups : options_.config.backup_folder,
                        options_.config.backup_interval_ms, options_.config.backups_kept};
  }

  // The validators that could still fail, the worst (heaviest) first, with a
  // quorum of the connected ones left.
  std::size_t failures_absorbable() const {
    const Roster& roster = replica_.roster();
    std::vector<std::uint64_t> up;
    std::uint64_t connected = 0;
    for (std::uint32_t i = 0; i < roster.size(); ++i) {
      if (!network_.connected(NodeId(i))) continue;
      connected += roster.weight(NodeId(i)).value;
      up.push_back(roster.weight(NodeId(i)).value);
    }
    std::sort(up.rbegin(), up.rend());
    std::size_t n = 0;
    for (const std::uint64_t w : up) {
      if (!roster.is_quorum(Weight(connected - w))) break;
      connected -= w;
      ++n;
    }
    return roster.is_quorum(Weight(connected)) || n > 0 ? n : 0;
  }

  nlohmann::json status() const {
    using nlohmann::json;
    const auto now = std::chrono::steady_clock::now();
    json j;
    j["version"] = synod_version();
    j["git_hash"] = synod_git_hash();
    j["protocol_version"] = net::protocol_version;
    j["launched"] = format_utc(launched_ms_);
    j["node"] = self_.value;
    j["public_key"] = hex(options_.config.key.public_key.view());
    j["chain_id"] = hex(options_.genesis.chain_id().view());
    j["height"] = replica_.committed_height().value;
    j["round"] = replica_.round().value;
    j["catching_up"] = catching_up();
    j["syncing"] = replica_.catching_up();
    j["may_sign"] = !replica_.amnesiac();
    j["amnesia_fence_round"] = replica_.amnesia_fence() ? json(replica_.amnesia_fence()->value) : json(nullptr);
    j["committed_txs"] = committed_txs_;
    j["mempool_txs"] = replica_.mempool().size();
    j["mempool_bytes"] = replica_.mempool().bytes();
    j["state_root"] = hex(replica_.ledger().state_root().view());
    j["block_id"] = hex(replica_.committed_block()->id.view());
    std::error_code ec;
    j["database"] = {{"file", store_->files().ledger.string()},
                     {"bytes", std::filesystem::file_size(store_->files().ledger, ec)}};
    j["latest_backup"] = latest_backup_ms_ ? json(format_utc(*latest_backup_ms_)) : json(nullptr);
    j["client_port"] = client_http_ ? client_http_->port() : 0;
    const net::PeerStats& peers = network_.stats();
    json validators = json::array();
    std::size_t missing = 0;
    const Roster& roster = replica_.roster();
    for (std::uint32_t i = 0; i < roster.size(); ++i) {
      const NodeId id(i);
      json v;
      v["node"] = i;
      v["public_key"] = hex(roster.at(id).key.view());
      v["address"] = options_.genesis.validators[i].address;
      v["weight"] = roster.weight(id).value;
      v["self"] = id == self_;
      v["connected"] = network_.connected(id);
      if (!network_.connected(id)) ++missing;
      if (id == self_) {
        v["height"] = replica_.committed_height().value;
      } else {
        const net::PeerTraffic& t = peers.peers.at(i);
        v["height"] = peer_heights_[i].value;
        v["last_seen_ms_ago"] = t.last_received ? json(static_cast<std::uint64_t>(seconds_since(*t.last_received, now) * 1000))
                                                : json(nullptr);
        const auto rtt = network_.rtt_us(id);
        v["rtt_ms"] = rtt ? json(static_cast<double>(*rtt) / 1000.0) : json(nullptr);
        v["bytes_sent"] = t.bytes_sent;
        v["bytes_received"] = t.bytes_received;
      }
      validators.push_back(std::move(v));
    }
    j["validators"] = std::move(validators);
    // Counters of bad input and backpressure, by reason (also in /metrics).
    json counters;
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
    j["counters"] = std::move(counters);
    j["peers_connected"] = network_.validators_connected();
    j["validators_missing"] = missing;
    j["failures_absorbable"] = failures_absorbable();
    return j;
  }

  std::string metrics() const {
    PrometheusText m;
    const ReplicaStats& rs = replica_.stats();
    const net::PeerStats& ps = network_.stats();
    m.gauge("synod_height", "Committed height.", static_cast<double>(replica_.committed_height().value));
    m.gauge("synod_round", "Current consensus round.", static_cast<double>(replica_.round().value));
    m.gauge("synod_catching_up", "1 while the node is not in consensus (docs/client_api.md, NETWORK).", catching_up());
    m.gauge("synod_syncing", "1 while the node fetches blocks from its peers.", replica_.catching_up());
    m.gauge("synod_may_sign", "0 while the AmnesiaRule holds signing back.", !replica_.amnesiac());
    m.family("synod_round_duration_seconds", "histogram", "Time between entering one round and the next.");
    m.histogram(round_duration_);
    m.family("synod_block_interval_seconds", "histogram", "Time between two commits.");
    m.histogram(block_interval_);
    m.counter("synod_committed_blocks_total", "Blocks committed since the process started.", static_cast<double>(committed_blocks_));
    m.counter("synod_committed_txs_total", "Transactions committed since the process started.", static_cast<double>(committed_txs_));
    m.family("synod_commit_latency_seconds", "histogram", "From a transaction accepted on the client port to its commit here.");
    m.histogram(client_api_.stats().commit_latency);
    m.counter("synod_proposals_sent_total", "Proposals this node signed and sent.", static_cast<double>(rs.proposals_sent));
    m.counter("synod_votes_sent_total", "Votes this node signed and sent.", static_cast<double>(rs.votes_sent));
    m.counter("synod_timeouts_sent_total", "Timeouts this node signed and sent.", static_cast<double>(rs.timeouts_sent));
    m.counter("synod_qcs_formed_total", "Quorum certificates this node assembled.", static_cast<double>(rs.qcs_formed));
    m.counter("synod_tcs_formed_total", "Timeout certificates this node assembled.", static_cast<double>(rs.tcs_formed));
    m.family("synod_messages_sent_total", "counter", "Consensus messages queued to peers, by kind.");
    for (const auto& [kind, n] : ps.messages_sent) m.sample(static_cast<double>(n), {{"kind", kind}});
    m.family("synod_messages_received_total", "counter", "Consensus messages received from peers, by kind.");
    for (const auto& [kind, n] : ps.messages_received) m.sample(static_cast<double>(n), {{"kind", kind}});
    m.family("synod_rejected_total", "counter", "Consensus input the replica refused, by reason.");
    for (std::size_t r = 0; r < static_cast<std::size_t>(Reject::kCount); ++r) {
      m.sample(static_cast<double>(rs.rejected_by_reason[r]), {{"reason", std::string(to_string(static_cast<Reject>(r)))}});
    }
    m.family("synod_transport_refused_total", "counter", "Connections and frames the peer transport refused, by reason.");
    for (const auto& [reason, n] : ps.links.refused) m.sample(static_cast<double>(n), {{"reason", reason}});
    m.family("synod_decode_errors_total", "counter", "Peer payloads the codec refused, by error.");
    for (const auto& [error, n] : ps.decode_errors) m.sample(static_cast<double>(n), {{"error", std::string(to_string(error))}});
    m.counter("synod_dropped_backpressure_total", "Frames dropped because a peer's send queue was full.",
              static_cast<double>(ps.links.dropped_backpressure));
    m.counter("synod_dropped_unconnected_total", "Messages not sent because the peer was not connected.",
              static_cast<double>(ps.dropped_unconnected));
    m.gauge("synod_mempool_txs", "Transactions waiting in the mempool.", static_cast<double>(replica_.mempool().size()));
    m.gauge("synod_mempool_bytes", "Bytes of the transactions in the mempool.", static_cast<double>(replica_.mempool().bytes()));
    m.gauge("synod_peers_connected", "Validators this node has a link to.", static_cast<double>(network_.validators_connected()));
    m.family("synod_peer_connected", "gauge", "1 while the link to the validator is up.");
    for (std::uint32_t i = 0; i < replica_.roster().size(); ++i) {
      if (NodeId(i) != self_) m.sample(network_.connected(NodeId(i)), {{"peer", std::to_string(i)}});
    }
    m.family("synod_peer_sent_bytes_total", "counter", "Bytes queued to each validator.");
    for (std::uint32_t i = 0; i < ps.peers.size(); ++i) {
      if (NodeId(i) != self_) m.sample(static_cast<double>(ps.peers[i].bytes_sent), {{"peer", std::to_string(i)}});
    }
    m.family("synod_peer_received_bytes_total", "counter", "Bytes of messages received from each validator.");
    for (std::uint32_t i = 0; i < ps.peers.size(); ++i) {
      if (NodeId(i) != self_) m.sample(static_cast<double>(ps.peers[i].bytes_received), {{"peer", std::to_string(i)}});
    }
    m.counter("synod_sync_requests_sent_total", "Catch-up requests this node sent.", static_cast<double>(rs.sync_requests_sent));
    m.counter("synod_store_syncs_served_total", "Catch-up requests answered from the store.",
              static_cast<double>(driver_.stats().store_syncs_served));
    m.family("synod_fsync_seconds", "histogram", "Durable writes of the store, each ending in an fsync, by what they write.");
    m.histogram(timed_store_.safety, {{"write", "safety"}});
    m.histogram(timed_store_.blocks_, {{"write", "blocks"}});
    m.histogram(timed_store_.commits_, {{"write", "commits"}});
    if (latest_backup_ms_) {
      m.gauge("synod_backup_age_seconds", "Time since the newest backup.",
              static_cast<double>(wall_clock_ms() - std::min(wall_clock_ms(), *latest_backup_ms_)) / 1000.0);
    }
    const ClientApi::Stats& api = client_api_.stats();
    m.counter("synod_client_submitted_total", "Transactions accepted on the client port.", static_cast<double>(api.submitted));
    m.family("synod_client_errors_total", "counter", "Client API answers by error code.");
    for (const auto& [code, n] : api.errors) m.sample(static_cast<double>(n), {{"code", code}});
    m.gauge("synod_client_subscriptions", "WebSocket subscriptions open.", static_cast<double>(client_api_.subscriptions()));
    m.counter("synod_client_events_total", "WebSocket events sent.", static_cast<double>(api.events_sent));
    const std::pair<const char*, const std::optional<net::HttpServer>*> ports[] = {{"client", &client_http_},
                                                                                    {"admin", &admin_http_}};
    m.family("synod_http_requests_total", "counter", "HTTP requests read, by port.");
    for (const auto& [port, server] : ports) {
      if (*server) m.sample(static_cast<double>((*server)->stats().requests), {{"port", port}});
    }
    m.family("synod_http_connections", "gauge", "HTTP and WebSocket connections open, by port.");
    for (const auto& [port, server] : ports) {
      if (*server) m.sample(static_cast<double>((*server)->connections_open()), {{"port", port}});
    }
    m.family("synod_http_refused_total", "counter", "HTTP requests and connections refused, by port and reason.");
    for (const auto& [port, server] : ports) {
      if (!*server) continue;
      for (const auto& [reason, n] : (*server)->stats().refused) m.sample(static_cast<double>(n), {{"port", port}, {"reason", reason}});
    }
    m.counter("synod_admin_auth_failures_total", "Wrong admin passwords.", static_cast<double>(admin_auth_.failures()));
    m.counter("synod_admin_auth_lockouts_total", "Admin requests refused while locked after a wrong password.",
              static_cast<double>(admin_auth_.lockouts()));
    return m.text();
  }

  void stop() {
    if (stopping_) return;
    stopping_ = true;
    if (admin_http_) admin_http_->stop();
    if (client_http_) client_http_->stop();
    tick_timer_.cancel();
    backup_timer_.cancel();
    status_timer_.cancel();
    signals_.cancel();
    network_.stop();  // goodbye frames; the loop ends when they are written or time out
  }

  const ServerOptions& options_;
  std::unique_ptr<LmdbStore> store_;
  TimedStore timed_store_;
  NodeId self_;
  asio::io_context io_;
  net::SteadyClock clock_;
  net::PeerNetwork network_;
  Replica replica_;
  Driver driver_;
  ClientApi client_api_;
  AdminAuth admin_auth_;
  asio::steady_timer tick_timer_;
  asio::steady_timer backup_timer_;
  asio::steady_timer status_timer_;
  asio::signal_set signals_;
  std::optional<net::HttpServer> client_http_;
  std::optional<net::HttpServer> admin_http_;
  net::LogLimiter rejected_log_;
  TimeMs launched_ms_ = wall_clock_ms();
  bool tick_armed_ = false;
  TimeMs tick_at_ = 0;
  bool stopping_ = false;
  std::uint64_t committed_txs_ = 0;
  std::uint64_t committed_blocks_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_commit_;  // since launch
  Round last_round_;
  std::chrono::steady_clock::time_point round_started_ = std::chrono::steady_clock::now();
  Histogram round_duration_{Histogram::latency_bounds()};
  Histogram block_interval_{Histogram::latency_bounds()};
  std::vector<Height> peer_heights_ = std::vector<Height>(options_.genesis.validators.size());
  std::optional<TimeMs> latest_backup_ms_;
  bool asking_ = false;
  std::uint64_t asked_id_ = 0;
  std::optional<ClientResponse> answer_;
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
  LmdbOptions store_options;
  store_options.verify_at_open = true;
  auto store = LmdbStore::open(c.data_dir, options.genesis, c.key.public_key, store_options);
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
