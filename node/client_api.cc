#include "node/client_api.h"

#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/assert.h"
#include "net/frame.h"
#include "node/api_json.h"
#include "node/config.h"

namespace synod::node {

using nlohmann::json;

namespace {

std::uint64_t steady_us() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

int status_of(TxError e) {
  switch (e) {
    case TxError::PoolFull: return 503;
    case TxError::BadSignature: return 400;
    case TxError::TooLarge: return 413;
    case TxError::BadNonce:
    case TxError::Duplicate:
    case TxError::AlreadyCommitted: return 409;
    case TxError::InsufficientBalance:
    case TxError::BalanceOverflow: break;
  }
  return 400;
}

net::HttpReply ok(int status, const json& body) { return {status, "application/json", body.dump()}; }

}  // namespace

ClientApi::ClientApi(ClientApiSources sources, ClientApiLimits limits)
    : sources_(std::move(sources)), limits_(limits) {
  SYNOD_ASSERT(sources_.ask && sources_.block && sources_.height && sources_.round && sources_.catching_up);
  SYNOD_ASSERT(limits_.rejected_kept_max > 0 && limits_.ws_subscriptions_max > 0);
}

net::HttpReply ClientApi::fail(int status, std::string_view code, const std::string& message) {
  auto it = stats_.errors.find(code);
  if (it == stats_.errors.end()) it = stats_.errors.emplace(std::string(code), 0).first;
  ++it->second;
  return net::error_reply(status, code, message);
}

net::HttpReply ClientApi::handle(const net::HttpRequest& request) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  const bool get = request.method == "GET";
  if (path == "/v1/tx") {
    if (request.method != "POST") return fail(400, "BAD_REQUEST", "POST a transaction to /v1/tx");
    return submit(request.body);
  }
  const auto route = [&](std::string_view prefix, auto&& handler) -> std::optional<net::HttpReply> {
    if (!path.starts_with(prefix)) return std::nullopt;
    if (!get) return fail(400, "BAD_REQUEST", "use GET on " + std::string(prefix) + "...");
    return handler(path.substr(prefix.size()));
  };
  if (path == "/v1/chain") return get ? chain() : fail(400, "BAD_REQUEST", "use GET on /v1/chain");
  if (auto r = route("/v1/tx/", [this](std::string_view rest) { return tx_fate(rest); })) return *r;
  if (auto r = route("/v1/account/", [this](std::string_view rest) { return account(rest); })) return *r;
  if (auto r = route("/v1/value/", [this](std::string_view rest) { return value(rest); })) return *r;
  if (auto r = route("/v1/block/", [this](std::string_view rest) { return block(rest); })) return *r;
  return fail(404, "NOT_FOUND", "no route " + std::string(path) + " (docs/client_api.md lists them)");
}

net::HttpReply ClientApi::chain() {
  return ok(200, json{{"chain_id", hex(sources_.chain_id.view())},
                      {"protocol_version", net::protocol_version},
                      {"node", sources_.node.value},
                      {"height", sources_.height().value},
                      {"round", sources_.round().value},
                      {"catching_up", sources_.catching_up()}});
}

net::HttpReply ClientApi::submit(const std::string& body) {
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(400, "BAD_REQUEST", "the body is not JSON");
  auto tx = tx_from_json(j);
  if (!tx) return fail(400, "BAD_REQUEST", tx.error());
  if (sources_.catching_up()) {
    return fail(503, "NETWORK", "this node is not in consensus (catching up or cut off from a quorum); try another node or later");
  }
  const std::uint64_t nonce = tx->nonce;
  const PublicKey sender = tx->sender;
  const ClientResponse r = sources_.ask(ClientRequest{next_request_++, SubmitTx{std::move(*tx)}});
  if (const auto* accepted = std::get_if<TxAccepted>(&r.body)) {
    ++stats_.submitted;
    if (accepted_at_us_.size() < limits_.latency_tracked_max) accepted_at_us_.emplace(accepted->hash, steady_us());
    if (tx_watchers_.contains(accepted->hash)) {  // per submission: no JSON unless someone watches
      TxStatus pending;
      pending.state = TxStatus::State::Pending;
      notify_watchers(accepted->hash, fate_to_json(accepted->hash, pending), false);
    }
    return ok(202, json{{"hash", hex(accepted->hash.view())}});
  }
  const auto& rejected = std::get<TxRejected>(r.body);
  remember_rejected(rejected.hash, rejected.reason);
  if (tx_watchers_.contains(rejected.hash)) {
    notify_watchers(rejected.hash, fate_to_json(rejected.hash, TxStatus{}, rejected.reason), true);
  }
  std::string message = "the mempool refused transaction " + hex(rejected.hash.view());
  if (rejected.reason == TxError::BadNonce) {
    const ClientResponse a = sources_.ask(ClientRequest{next_request_++, QueryAccount{sender}});
    message += ": nonce " + std::to_string(nonce) + ", the account's next nonce is " +
               std::to_string(std::get<AccountInfo>(a.body).nonce);
  } else if (rejected.reason == TxError::BadSignature) {
    message += ": the signature does not verify for this chain";
  }
  return fail(status_of(rejected.reason), to_string(rejected.reason), message);
}

std::optional<json> ClientApi::fate(const TxHash& hash) {
  const ClientResponse r = sources_.ask(ClientRequest{next_request_++, QueryTx{hash}});
  const auto& status = std::get<TxStatus>(r.body);
  if (status.state != TxStatus::State::Unknown) return fate_to_json(hash, status);
  if (const auto it = rejected_.find(hash); it != rejected_.end()) return fate_to_json(hash, status, it->second);
  return std::nullopt;
}

net::HttpReply ClientApi::tx_fate(std::string_view text) {
  TxHash hash;
  if (!parse_hex(text, hash)) return fail(400, "BAD_REQUEST", "a transaction hash is 64 hex digits");
  if (sources_.catching_up()) return fail(503, "NETWORK", "this node is not in consensus; its answer could be stale");
  auto f = fate(hash);
  if (!f) return fail(404, "NOT_FOUND", "this node has no transaction " + std::string(text));
  return ok(200, *f);
}

net::HttpReply ClientApi::account(std::string_view text) {
  PublicKey key;
  if (!parse_hex(text, key)) return fail(400, "BAD_REQUEST", "an account key is 64 hex digits");
  if (sources_.catching_up()) return fail(503, "NETWORK", "this node is not in consensus; its answer could be stale");
  const ClientResponse r = sources_.ask(ClientRequest{next_request_++, QueryAccount{key}});
  const auto& info = std::get<AccountInfo>(r.body);
  return ok(200, json{{"key", hex(key.view())}, {"balance", info.balance}, {"nonce", info.nonce}});
}

net::HttpReply ClientApi::value(std::string_view rest) {
  const auto slash = rest.find('/');
  PublicKey owner;
  if (slash == std::string_view::npos || !parse_hex(rest.substr(0, slash), owner)) {
    return fail(400, "BAD_REQUEST", "use /v1/value/OWNER/KEY: OWNER is 64 hex digits, KEY hex");
  }
  auto key = parse_hex_var(rest.substr(slash + 1));
  if (!key || key->empty()) return fail(400, "BAD_REQUEST", "the value's key must be a non-empty even number of hex digits");
  if (sources_.catching_up()) return fail(503, "NETWORK", "this node is not in consensus; its answer could be stale");
  const ClientResponse r = sources_.ask(ClientRequest{next_request_++, QueryValue{owner, *key}});
  const auto& info = std::get<ValueInfo>(r.body);
  if (!info.value) return fail(404, "NOT_FOUND", "no value under this key");
  return ok(200, json{{"owner", hex(owner.view())}, {"key", hex(*key)}, {"value", hex(*info.value)}});
}

net::HttpReply ClientApi::block(std::string_view which) {
  Height height = sources_.height();
  if (which != "latest") {
    std::uint64_t h = 0;
    const auto [end, ec] = std::from_chars(which.data(), which.data() + which.size(), h);
    if (ec != std::errc{} || end != which.data() + which.size() || which.empty()) {
      return fail(400, "BAD_REQUEST", "a block is a height (a whole number) or latest");
    }
    height = Height(h);
  }
  if (height == Height(0)) return fail(404, "NOT_FOUND", "height 0 is the genesis, which has no stored block");
  if (height > sources_.height()) {
    return fail(404, "NOT_FOUND", "block " + std::to_string(height.value) + " is above the committed height " +
                                      std::to_string(sources_.height().value));
  }
  const auto committed = sources_.block(height);
  if (!committed) return fail(404, "NOT_FOUND", "block " + std::to_string(height.value) + " is not stored here (pruned)");
  return ok(200, block_to_json(*committed));
}

void ClientApi::remember_rejected(const TxHash& hash, TxError error) {
  if (rejected_order_.size() < limits_.rejected_kept_max) {
    rejected_order_.push_back(hash);
  } else {
    rejected_.erase(rejected_order_[rejected_next_]);
    rejected_order_[rejected_next_] = hash;
    rejected_next_ = (rejected_next_ + 1) % limits_.rejected_kept_max;
  }
  rejected_[hash] = error;
  SYNOD_ASSERT(rejected_.size() <= limits_.rejected_kept_max);
}

void ClientApi::on_commits(const std::vector<CommittedBlock>& commits) {
  const std::uint64_t now_us = steady_us();
  for (const CommittedBlock& c : commits) {
    SYNOD_ASSERT(c.outcome.txs.size() == c.block->txs.size());
    if (!subscribers_.empty()) {
      const std::string event = commit_event(c).dump();
      for (const auto& [ws, s] : subscribers_) {
        if (s.commits) send(ws, event);
      }
    }
    for (std::uint32_t i = 0; i < c.outcome.txs.size(); ++i) {
      const TxOutcome& t = c.outcome.txs[i];
      if (const auto it = accepted_at_us_.find(t.hash); it != accepted_at_us_.end()) {
        stats_.commit_latency.observe(static_cast<double>(now_us - it->second) / 1e6);
        accepted_at_us_.erase(it);
      }
      if (tx_watchers_.contains(t.hash)) {
        const TxStatus status{TxStatus::State::Committed, c.block->height(), i, t.error};
        notify_watchers(t.hash, fate_to_json(t.hash, status), true);
      }
    }
  }
}

void ClientApi::notify_watchers(const TxHash& hash, json fate, bool final) {
  const auto it = tx_watchers_.find(hash);
  if (it == tx_watchers_.end()) return;
  fate["event"] = "tx";
  const std::string event = fate.dump();
  for (const net::WsId ws : it->second) {
    send(ws, event);
    if (final) subscribers_[ws].txs.erase(hash);
  }
  if (final) tx_watchers_.erase(it);
}

void ClientApi::send(net::WsId ws, const std::string& text) {
  SYNOD_ASSERT(server_ != nullptr);
  if (server_->ws_send(ws, text)) ++stats_.events_sent;
}

void ClientApi::on_ws_open(net::WsId ws, const std::string& target) {
  SYNOD_ASSERT(!subscribers_.contains(ws));
  if (target.substr(0, target.find('?')) != "/v1/ws") {
    send(ws, net::error_reply(404, "NOT_FOUND", "the event stream is /v1/ws").body);
    ++stats_.errors["NOT_FOUND"];
    server_->ws_close(ws);
    return;
  }
  subscribers_.emplace(ws, Subscriber{});
}

void ClientApi::on_ws_text(net::WsId ws, const std::string& text) {
  const auto it = subscribers_.find(ws);
  if (it == subscribers_.end()) return;
  Subscriber& s = it->second;
  const auto error = [&](std::string_view code, const std::string& message) {
    const net::HttpReply r = fail(400, code, message);
    send(ws, R"({"event":"error",)" + r.body.substr(1));
  };
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("subscribe") || !j["subscribe"].is_string()) {
    return error("BAD_REQUEST", R"(send {"subscribe":"commits"} or {"subscribe":"tx","hash":HASH})");
  }
  const std::string& to = j["subscribe"].get_ref<const std::string&>();
  const std::size_t held = s.txs.size() + (s.commits ? 1 : 0);
  if (to == "commits") {
    if (!s.commits && held >= limits_.ws_subscriptions_max) {
      return error("TOO_MANY_SUBSCRIPTIONS", "at most " + std::to_string(limits_.ws_subscriptions_max) + " per connection");
    }
    s.commits = true;
    send(ws, R"({"event":"subscribed","to":"commits"})");
    return;
  }
  TxHash hash;
  if (to != "tx" || !j.contains("hash") || !j["hash"].is_string() ||
      !parse_hex(j["hash"].get_ref<const std::string&>(), hash)) {
    return error("BAD_REQUEST", R"(send {"subscribe":"commits"} or {"subscribe":"tx","hash":HASH} with 64 hex digits)");
  }
  if (!s.txs.contains(hash) && held >= limits_.ws_subscriptions_max) {
    return error("TOO_MANY_SUBSCRIPTIONS", "at most " + std::to_string(limits_.ws_subscriptions_max) + " per connection");
  }
  json now = fate(hash).value_or(json{{"hash", hex(hash.view())}, {"state", "unknown"}});
  const bool final = fate_final(now);
  now["event"] = "tx";
  send(ws, now.dump());
  if (final) return;
  s.txs.insert(hash);
  tx_watchers_[hash].insert(ws);
}

void ClientApi::on_ws_closed(net::WsId ws) {
  const auto it = subscribers_.find(ws);
  if (it == subscribers_.end()) return;
  for (const TxHash& hash : it->second.txs) {
    auto w = tx_watchers_.find(hash);
    SYNOD_ASSERT(w != tx_watchers_.end());
    w->second.erase(ws);
    if (w->second.empty()) tx_watchers_.erase(w);
  }
  subscribers_.erase(it);
}

std::size_t ClientApi::subscriptions() const {
  std::size_t n = 0;
  for (const auto& [ws, s] : subscribers_) n += s.txs.size() + (s.commits ? 1 : 0);
  return n;
}

}  // namespace synod::node
