// A small HTTP/1.1 and WebSocket client (Boost.Beast) for `synod tx`,
// `synod status` and the testnet's status polling: plain or TLS (verified
// against the system's CAs, or a given CA file), every call bounded by a
// deadline. Not for the node's own loop: calls block the calling thread.
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <string>

namespace synod::net {

struct Url {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string path;  // the prefix before each route (a reverse proxy's), without a trailing slash
};
// http://host:port/prefix or https://...; the port defaults to 80 or 443.
std::expected<Url, std::string> parse_url(std::string_view text);

struct HttpResponse {
  int status = 0;
  std::string body;
};

struct ClientTls {
  std::string ca_file;  // empty: the system's CAs
};

// One request; the error says what failed (resolve, connect, TLS, timeout).
std::expected<HttpResponse, std::string> http_call(const Url& url, std::string_view method, std::string_view target,
                                                   std::string_view body, std::chrono::milliseconds timeout,
                                                   const ClientTls& tls = {});

// A WebSocket connection with a deadline on each step.
class WsClient {
 public:
  static std::expected<std::unique_ptr<WsClient>, std::string> connect(const Url& url, std::string_view target,
                                                                       std::chrono::milliseconds timeout,
                                                                       const ClientTls& tls = {});
  virtual ~WsClient() = default;
  virtual std::expected<void, std::string> send(const std::string& text, std::chrono::milliseconds timeout) = 0;
  // The next message; an error on timeout or close.
  virtual std::expected<std::string, std::string> read(std::chrono::milliseconds timeout) = 0;
};

}  // namespace synod::net
