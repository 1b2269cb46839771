// HttpServer: the node's HTTP/1.1 and WebSocket server (Boost.Beast), used
// for the client port (P+1) and the admin port (P+2). Plain TCP or TLS. Every
// request is bounded in size and time, every connection counts against a
// limit, every client address against a request rate; what is refused gets
// a typed JSON error (docs/client_api.md, Errors) and a counter by reason.
// Handlers run on the io_context's thread and answer at once.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace synod::net {

struct HttpLimits {
  std::size_t request_bytes_max = 64 * 1024;  // headers and body together
  std::size_t connections_max = 256;          // HTTP and WebSocket connections together
  std::uint64_t request_ms_max = 10'000;      // to receive one whole request; a silent keep-alive connection closes then too
  // Per client address: a bucket of `burst` requests, refilled at this
  // rate. 0: no limit (the admin port, loopback only).
  std::uint64_t requests_per_second = 0;
  std::uint64_t requests_burst = 0;
  std::size_t addresses_tracked_max = 4096;  // buckets kept; the least recently used goes first
  std::size_t ws_message_bytes_max = 4096;   // what a WebSocket client may send in one message
  std::size_t ws_queue_bytes_max = std::size_t{4} << 20;  // unsent events; a client further behind is closed
};

struct HttpRequest {
  std::string method;
  std::string target;
  std::string body;
  std::string remote;  // the client's address
  std::string authorization;  // the Authorization header, if any
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// {"error":CODE,"message":MESSAGE}: the one shape of every error reply.
HttpReply error_reply(int status, std::string_view code, std::string_view message);

struct HttpStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t requests = 0;
  std::uint64_t ws_opened = 0;
  std::uint64_t ws_messages_sent = 0;
  // By reason: malformed, too_large, timeout, rate_limited, too_many_connections,
  // ws_message_too_large, ws_too_slow.
  std::map<std::string, std::uint64_t, std::less<>> refused;
};

using WsId = std::uint64_t;

// What the server's owner does with WebSocket connections (GET with an
// Upgrade header on any path; the path is passed on).
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void on_ws_open(WsId ws, const std::string& target) = 0;
  virtual void on_ws_text(WsId ws, const std::string& text) = 0;
  virtual void on_ws_closed(WsId ws) = 0;
};

class HttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequest&)>;

  // Binds `listen` (port 0 picks a free one). `tls` null: plain TCP.
  // `ws` null: upgrades are refused as malformed requests.
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& listen, HttpLimits limits,
             Handler handler, WebSocketHandler* ws = nullptr, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;
  // Stops accepting and closes every connection.
  void stop();

  // Queues a text message to a WebSocket; false if it is gone. A client
  // whose queue outgrows ws_queue_bytes_max is closed (ws_too_slow).
  bool ws_send(WsId ws, std::string text);
  void ws_close(WsId ws);

  const HttpStats& stats() const;
  std::size_t connections_open() const;

  // What sessions share with the server; outlives it while they finish.
  struct Core;

 private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  std::shared_ptr<Core> core_;
};

}  // namespace synod::net
