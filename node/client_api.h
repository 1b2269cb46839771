// The client API on port P+1 (docs/client_api.md): HTTP routes that submit
// and read through the driver, and WebSocket subscriptions to commits and to
// one transaction's fate. Runs on the node's thread; every answer is computed
// at once. Counts each typed error by code for /metrics.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>

#include "core/store.h"
#include "net/http_server.h"
#include "node/metrics.h"

namespace synod::node {

struct ClientApiLimits {
  std::size_t ws_subscriptions_max = 16;       // per WebSocket connection
  std::size_t rejected_kept_max = 65536;       // refused transactions whose fate is remembered
  std::size_t latency_tracked_max = 65536;     // accepted transactions timed until their commit
};

// What the API reads from the node, all on the node's thread.
struct ClientApiSources {
  ChainId chain_id;
  NodeId node;
  // A request answered by the replica through the driver.
  std::function<ClientResponse(const ClientRequest&)> ask;
  // A committed block from the store; nullopt above the tip or pruned.
  std::function<std::optional<CommittedBlock>(Height)> block;
  std::function<Height()> height;
  std::function<Round()> round;
  // The node is not in consensus (docs/client_api.md, NETWORK).
  std::function<bool()> catching_up;
};

class ClientApi final : public net::WebSocketHandler {
 public:
  ClientApi(ClientApiSources sources, ClientApiLimits limits = {});

  // The server the WebSocket events go out through; set before it runs.
  void attach(net::HttpServer* server) { server_ = server; }
  net::HttpReply handle(const net::HttpRequest& request);
  // Publishes commits to subscribers and times the transactions submitted here.
  void on_commits(const std::vector<CommittedBlock>& commits);

  void on_ws_open(net::WsId ws, const std::string& target) override;
  void on_ws_text(net::WsId ws, const std::string& text) override;
  void on_ws_closed(net::WsId ws) override;

  struct Stats {
    std::map<std::string, std::uint64_t, std::less<>> errors;  // answers by error code
    std::uint64_t submitted = 0;  // accepted into the mempool
    std::uint64_t events_sent = 0;
    Histogram commit_latency{Histogram::latency_bounds()};  // accepted here → committed
  };
  const Stats& stats() const { return stats_; }
  std::size_t subscriptions() const;

 private:
  net::HttpReply fail(int status, std::string_view code, const std::string& message);
  net::HttpReply submit(const std::string& body);
  net::HttpReply tx_fate(std::string_view hash);
  net::HttpReply account(std::string_view key);
  net::HttpReply value(std::string_view rest);
  net::HttpReply block(std::string_view which);
  net::HttpReply chain();
  // The fate as the replica and the rejection memory know it; nullopt if unknown.
  std::optional<nlohmann::json> fate(const TxHash& hash);
  void remember_rejected(const TxHash& hash, TxError error);
  void send(net::WsId ws, const std::string& text);
  void notify_watchers(const TxHash& hash, nlohmann::json fate, bool final);

  ClientApiSources sources_;
  ClientApiLimits limits_;
  net::HttpServer* server_ = nullptr;
  Stats stats_;
  std::uint64_t next_request_ = 1;
  // Refused transactions, oldest first out.
  std::map<TxHash, TxError> rejected_;
  std::vector<TxHash> rejected_order_;  // a ring of rejected_kept_max
  std::size_t rejected_next_ = 0;
  std::map<TxHash, std::uint64_t> accepted_at_us_;  // steady clock, for commit_latency
  // Subscriptions.
  struct Subscriber {
    bool commits = false;
    std::set<TxHash> txs;
  };
  std::map<net::WsId, Subscriber> subscribers_;
  std::map<TxHash, std::set<net::WsId>> tx_watchers_;
};

}  // namespace synod::node
