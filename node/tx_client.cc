#include "node/tx_client.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "core/assert.h"
#include "core/sign_bytes.h"
#include "net/http_client.h"
#include "node/api_json.h"
#include "node/config.h"
#include "node/load.h"
#include "node/status_view.h"

namespace synod::node {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// What ends a command: the exit code, with its message already printed.
struct Exit {
  int code;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "synod: " << message << "\n";
  throw Exit{tx_exit_usage};
}

class NodeClient {
 public:
  explicit NodeClient(const TxClientOptions& o) : o_(o), timeout_(o.timeout_ms) {
    std::string text = o.url;
    if (text.empty()) {
      auto servers = load_roster(o.public_file);
      if (!servers) usage_error(to_string(servers.error()) + " (or pass --url)");
      if (servers->size() != 1) usage_error(o.public_file.string() + " holds several servers: pass --url");
      const PublicConfig& p = servers->front();
      if (!p.url.empty()) {
        text = p.url;
      } else {
        const auto colon = p.address.rfind(':');
        text = "http://" + p.address.substr(0, colon) + ":" + std::to_string(std::stoul(p.address.substr(colon + 1)) + 1);
      }
    }
    auto url = net::parse_url(text);
    if (!url) usage_error(url.error());
    url_ = *url;
  }

  // The node's JSON answer; a typed error or an unreachable node ends the command.
  json call(std::string_view method, const std::string& target, const std::string& body = "") const {
    auto r = net::http_call(url_, method, target, body, timeout_, net::ClientTls{o_.ca_file});
    if (!r) {
      std::cerr << "synod: " << r.error() << "\n";
      throw Exit{tx_exit_unreachable};
    }
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) {
      std::cerr << "synod: the node answered " << r->status << " without JSON: " << r->body.substr(0, 200) << "\n";
      throw Exit{tx_exit_unreachable};
    }
    if (r->status >= 400) {
      std::cerr << "synod: " << j.value("error", "ERROR") << ": " << j.value("message", "") << "\n";
      throw Exit{tx_exit_refused};
    }
    return j;
  }

  std::unique_ptr<net::WsClient> events() const {
    auto ws = net::WsClient::connect(url_, "/v1/ws", timeout_, net::ClientTls{o_.ca_file});
    if (!ws) {
      std::cerr << "synod: " << ws.error() << "\n";
      throw Exit{tx_exit_unreachable};
    }
    return std::move(*ws);
  }

  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  const TxClientOptions& o_;
  std::chrono::milliseconds timeout_;
  net::Url url_;
};

KeyPair signing_key(const TxClientOptions& o) {
  if (o.testnet_account) return testnet_account(*o.testnet_account);
  auto key = load_client_key(o.key_file);
  if (!key) usage_error(to_string(key.error()) + " (synod tx keygen writes one)");
  return *key;
}

template <class Fixed>
Fixed hex_argument(const std::string& text, const char* what) {
  Fixed out;
  if (!parse_hex(text, out)) usage_error(std::string(what) + " must be " + std::to_string(2 * Fixed::size) + " hex digits, not \"" + text + "\"");
  return out;
}

Bytes bytes_argument(const TxClientOptions& o, const std::string& text, const char* what) {
  if (!o.hex) return Bytes(text.begin(), text.end());
  auto bytes = parse_hex_var(text);
  if (!bytes) usage_error(std::string(what) + " must be an even number of hex digits with --hex");
  return *bytes;
}

// Follows the transaction's fate on the event stream until it is final.
json wait_for_fate(const NodeClient& node, const TxHash& hash) {
  auto ws = node.events();
  const std::string subscribe = json{{"subscribe", "tx"}, {"hash", hex(hash.view())}}.dump();
  if (auto sent = ws->send(subscribe, node.timeout()); !sent) {
    std::cerr << "synod: " << sent.error() << "\n";
    throw Exit{tx_exit_unreachable};
  }
  const auto deadline = std::chrono::steady_clock::now() + node.timeout();
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto message = ws->read(left);
    if (!message) {
      if (message.error() == "timed out") break;
      std::cerr << "synod: " << message.error() << "\n";
      throw Exit{tx_exit_unreachable};
    }
    json event = json::parse(*message, nullptr, false);
    if (event.is_discarded()) continue;
    if (event.value("event", "") == "error") {
      std::cerr << "synod: " << event.value("error", "ERROR") << ": " << event.value("message", "") << "\n";
      throw Exit{tx_exit_refused};
    }
    if (event.value("event", "") == "tx" && fate_final(event)) {
      event.erase("event");
      return event;
    }
  }
  std::cerr << "synod: transaction " << hex(hash.view()) << " is not final after " << node.timeout().count() << " ms\n";
  throw Exit{tx_exit_unreachable};
}

int submit(const TxClientOptions& o, std::variant<Transfer, StoreValue> op) {
  const KeyPair key = signing_key(o);
  NodeClient node(o);
  const json chain = node.call("GET", "/v1/chain");
  ChainId chain_id;
  if (!parse_hex(chain.value("chain_id", ""), chain_id)) {
    std::cerr << "synod: the node's /v1/chain has no chain id\n";
    return tx_exit_unreachable;
  }
  Transaction tx;
  tx.sender = key.public_key;
  tx.nonce = o.nonce ? *o.nonce : node.call("GET", "/v1/account/" + hex(key.public_key.view())).value("nonce", 0ull);
  tx.op = std::move(op);
  const TxHash hash = sign_tx(ed25519_scheme(), chain_id, key, tx);
  const json accepted = node.call("POST", "/v1/tx", tx_to_json(tx).dump());
  SYNOD_ASSERT(accepted.value("hash", "") == hex(hash.view()));
  if (!o.wait) {
    std::cout << json{{"hash", hex(hash.view())}, {"nonce", tx.nonce}}.dump() << "\n";
    return tx_exit_ok;
  }
  const json fate = wait_for_fate(node, hash);
  std::cout << fate.dump() << "\n";
  // A committed transaction that failed did not do what was asked.
  return fate.value("outcome", "") == "executed" ? tx_exit_ok : tx_exit_refused;
}

template <class F>
int guarded(F&& body) {
  try {
    return body();
  } catch (const Exit& e) {
    return e.code;
  }
}

}  // namespace

int tx_keygen(const TxClientOptions& o) {
  return guarded([&] {
    const KeyPair key = random_key();
    if (auto written = write_client_key(o.key_file, key); !written) usage_error(to_string(written.error()));
    std::cout << json{{"key", hex(key.public_key.view())}, {"file", o.key_file.string()}}.dump() << "\n";
    return tx_exit_ok;
  });
}

int tx_transfer(const TxClientOptions& o, const std::string& to, std::uint64_t amount) {
  return guarded([&] { return submit(o, Transfer{hex_argument<PublicKey>(to, "TO"), amount}); });
}

int tx_store(const TxClientOptions& o, const std::string& key, const std::string& value) {
  return guarded([&] {
    Bytes k = bytes_argument(o, key, "KEY");
    if (k.empty()) usage_error("KEY must not be empty");
    return submit(o, StoreValue{std::move(k), bytes_argument(o, value, "VALUE")});
  });
}

int tx_get(const TxClientOptions& o, const std::string& owner, const std::string& key) {
  return guarded([&] {
    const PublicKey who = hex_argument<PublicKey>(owner, "OWNER");
    const Bytes k = bytes_argument(o, key, "KEY");
    if (k.empty()) usage_error("KEY must not be empty");
    json j = NodeClient(o).call("GET", "/v1/value/" + hex(who.view()) + "/" + hex(k));
    if (!o.hex) {
      // Text in, text out: the value as the string it was stored from.
      const auto value = parse_hex_var(j.value("value", ""));
      if (value) j["text"] = std::string(value->begin(), value->end());
    }
    std::cout << j.dump() << "\n";
    return tx_exit_ok;
  });
}

int tx_account(const TxClientOptions& o, const std::string& key) {
  return guarded([&] {
    const PublicKey who = key.empty() ? signing_key(o).public_key : hex_argument<PublicKey>(key, "KEY");
    std::cout << NodeClient(o).call("GET", "/v1/account/" + hex(who.view())).dump() << "\n";
    return tx_exit_ok;
  });
}

int tx_status(const TxClientOptions& o, const std::string& hash) {
  return guarded([&] {
    const TxHash h = hex_argument<TxHash>(hash, "HASH");
    NodeClient node(o);
    if (o.wait) {
      std::cout << wait_for_fate(node, h).dump() << "\n";
    } else {
      std::cout << node.call("GET", "/v1/tx/" + hex(h.view())).dump() << "\n";
    }
    return tx_exit_ok;
  });
}

int tx_watch(const TxClientOptions& o) {
  return guarded([&] {
    NodeClient node(o);
    auto ws = node.events();
    if (auto sent = ws->send(R"({"subscribe":"commits"})", node.timeout()); !sent) {
      std::cerr << "synod: " << sent.error() << "\n";
      return tx_exit_unreachable;
    }
    std::uint64_t seen = 0;
    while (o.count == 0 || seen < o.count) {
      auto message = ws->read(node.timeout());
      if (!message) {
        std::cerr << "synod: " << (message.error() == "timed out" ? "no commit for " + std::to_string(o.timeout_ms) + " ms" : message.error())
                  << "\n";
        return tx_exit_unreachable;
      }
      const json event = json::parse(*message, nullptr, false);
      if (event.is_discarded() || event.value("event", "") != "commit") continue;
      std::cout << event.dump() << "\n" << std::flush;
      ++seen;
    }
    return tx_exit_ok;
  });
}

int print_status(const std::string& url_text, const fs::path& private_file, std::uint64_t timeout_ms) {
  return guarded([&] {
    std::string text = url_text;
    if (text.empty()) {
      auto config = load_private(private_file);
      if (!config) usage_error(to_string(config.error()) + " (or pass --url)");
      const auto colon = config->listen.rfind(':');
      const std::string host = config->admin_listen_host.find(':') != std::string::npos ? "[" + config->admin_listen_host + "]"
                                                                                       : config->admin_listen_host;
      // A wildcard bind answers on loopback too.
      const std::string reach = host == "0.0.0.0" ? "127.0.0.1" : host == "[::]" ? "[::1]" : host;
      text = "http://" + reach + ":" +
             std::to_string(std::stoul(config->listen.substr(colon + 1)) + 2);
    }
    TxClientOptions o;
    o.url = text;
    o.timeout_ms = timeout_ms;
    std::cout << format_status(NodeClient(o).call("GET", "/status"));
    return tx_exit_ok;
  });
}

}  // namespace synod::node
