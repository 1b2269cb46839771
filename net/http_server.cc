#include "net/http_server.h"

#include <algorithm>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <optional>

#include "core/assert.h"

namespace synod::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock;

namespace {

constexpr auto write_deadline = std::chrono::seconds(10);
constexpr auto tls_handshake_deadline = std::chrono::seconds(10);
constexpr auto linger_deadline = std::chrono::seconds(2);

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

HttpReply error_reply(int status, std::string_view code, std::string_view message) {
  SYNOD_ASSERT(status >= 400 && status < 600);
  SYNOD_ASSERT(!code.empty());
  return {status, "application/json",
          "{\"error\":\"" + json_escape(code) + "\",\"message\":\"" + json_escape(message) + "\"}"};
}

namespace detail {
// One connection, HTTP or WebSocket, as the server sees it.
class Session {
 public:
  virtual ~Session() = default;
  virtual void send_text(std::string text) = 0;
  virtual void close() = 0;
};
}  // namespace detail

struct HttpServer::Core {
  HttpLimits limits;
  Handler handler;
  WebSocketHandler* ws_handler = nullptr;
  std::shared_ptr<asio::ssl::context> tls;
  HttpStats stats;
  std::size_t open = 0;
  bool stopping = false;
  std::uint64_t next_session = 1;
  std::map<std::uint64_t, std::weak_ptr<detail::Session>> sessions;
  WsId next_ws = 1;
  std::map<WsId, std::weak_ptr<detail::Session>> websockets;
  struct Bucket {
    double tokens = 0;
    SteadyTime::time_point refilled;
    std::uint64_t used = 0;  // larger is more recent
  };
  std::map<std::string, Bucket, std::less<>> buckets;
  std::uint64_t bucket_uses = 0;

  void refuse(std::string_view reason) {
    auto it = stats.refused.find(reason);
    if (it == stats.refused.end()) it = stats.refused.emplace(std::string(reason), 0).first;
    ++it->second;
  }

  // A token bucket per client address, the least recently used forgotten first.
  bool take_token(const std::string& address) {
    if (limits.requests_per_second == 0) return true;
    const double burst = static_cast<double>(std::max(limits.requests_burst, limits.requests_per_second));
    const auto now = SteadyTime::now();
    auto it = buckets.find(address);
    if (it == buckets.end()) {
      if (buckets.size() >= limits.addresses_tracked_max) {
        buckets.erase(std::min_element(buckets.begin(), buckets.end(), [](const auto& a, const auto& b) {
          return a.second.used < b.second.used;
        }));
      }
      it = buckets.emplace(address, Bucket{burst, now, 0}).first;
    }
    Bucket& bucket = it->second;
    const double elapsed = std::chrono::duration<double>(now - bucket.refilled).count();
    bucket.tokens = std::min(burst, bucket.tokens + elapsed * static_cast<double>(limits.requests_per_second));
    bucket.refilled = now;
    bucket.used = ++bucket_uses;
    SYNOD_ASSERT(buckets.size() <= limits.addresses_tracked_max);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
};

namespace {

template <class Stream>
constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

// A WebSocket connection after its upgrade: reads clients' messages for the
// handler, writes queued events one at a time.
template <class Stream>
class WsSession final : public detail::Session, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(std::shared_ptr<HttpServer::Core> core, Stream stream) : core_(std::move(core)), ws_(std::move(stream)) {
    ++core_->open;
  }
  ~WsSession() override {
    --core_->open;
    core_->sessions.erase(number_);
    if (id_ == 0) return;
    core_->websockets.erase(id_);
    if (core_->ws_handler != nullptr) core_->ws_handler->on_ws_closed(id_);
  }

  void start(const http::request<http::string_body>& request) {
    number_ = core_->next_session++;
    core_->sessions.emplace(number_, this->weak_from_this());
    target_ = std::string(request.target());
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket's own timeouts take over
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(core_->limits.ws_message_bytes_max);
    ws_.async_accept(request, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) {
        self->core_->refuse("malformed");
        return;
      }
      self->opened();
    });
  }

  void send_text(std::string text) override {
    if (closing_) return;
    if (queued_bytes_ + text.size() > core_->limits.ws_queue_bytes_max) {
      // Behind by more than the queue holds: a close frame would wait behind
      // the queue too, so the connection just ends.
      core_->refuse("ws_too_slow");
      closing_ = true;
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
      return;
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (queue_.size() == 1) write_next();
  }

  void close() override {
    if (closing_) return;
    closing_ = true;
    if (queue_.empty()) close_now();
    // else: the write in flight closes when the queue is empty
  }

 private:
  void opened() {
    SYNOD_ASSERT(id_ == 0);
    id_ = core_->next_ws++;
    core_->websockets.emplace(id_, this->weak_from_this());
    ++core_->stats.ws_opened;
    if (core_->ws_handler != nullptr && !core_->stopping) core_->ws_handler->on_ws_open(id_, target_);
    read();
  }

  void read() {
    ws_.async_read(in_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == websocket::error::message_too_big) {
        self->core_->refuse("ws_message_too_large");
        self->closing_ = true;
        self->ws_.async_close(websocket::close_reason(websocket::close_code::too_big, "message too big"),
                              [self](beast::error_code) {});
        return;
      }
      if (ec) return;  // closed: the destructor tells the handler
      std::string text = beast::buffers_to_string(self->in_.data());
      self->in_.consume(self->in_.size());
      if (self->core_->ws_handler != nullptr && !self->core_->stopping) self->core_->ws_handler->on_ws_text(self->id_, text);
      self->read();
    });
  }

  void write_next() {
    SYNOD_ASSERT(!queue_.empty());
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      SYNOD_ASSERT(self->queued_bytes_ >= self->queue_.front().size());
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      ++self->core_->stats.ws_messages_sent;
      if (!self->queue_.empty()) {
        self->write_next();
      } else if (self->closing_) {
        self->close_now();
      }
    });
  }

  void close_now() {
    ws_.async_close(websocket::close_reason(websocket::close_code::going_away, "server stopping"),
                    [self = this->shared_from_this()](beast::error_code) {});
  }

  std::shared_ptr<HttpServer::Core> core_;
  websocket::stream<Stream> ws_;
  std::uint64_t number_ = 0;
  WsId id_ = 0;  // 0 until the handshake completed
  std::string target_;
  beast::flat_buffer in_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
};

// One HTTP connection: requests one after another (keep-alive), each under
// the request deadline and the size limit.
template <class Stream>
class HttpSession final : public detail::Session, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(std::shared_ptr<HttpServer::Core> core, Stream stream, std::string remote)
      : core_(std::move(core)), stream_(std::move(stream)), deadline_(stream_.get_executor()), remote_(std::move(remote)) {
    ++core_->open;
    ++core_->stats.connections_accepted;
  }
  ~HttpSession() override {
    --core_->open;
    core_->sessions.erase(number_);
  }

  void start() {
    number_ = core_->next_session++;
    core_->sessions.emplace(number_, this->weak_from_this());
    if constexpr (is_tls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(tls_handshake_deadline);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) {
          self->core_->refuse("tls_failed");
          return;
        }
        self->read();
      });
    } else {
      read();
    }
  }

  void send_text(std::string) override {}

  void close() override {
    closing_ = true;
    deadline_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().cancel(ignored);
  }

 private:
  void read() {
    if (closing_ || core_->stopping) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_->limits.request_bytes_max));
    parser_->body_limit(core_->limits.request_bytes_max);
    timed_out_ = false;
    beast::get_lowest_layer(stream_).expires_never();
    deadline_.expires_after(std::chrono::milliseconds(core_->limits.request_ms_max));
    deadline_.async_wait([weak = this->weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->timed_out_ = true;
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().cancel(ignored);
      }
    });
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    deadline_.cancel();
    if (closing_ || core_->stopping) return;
    const bool started = parser_->got_some() || buffer_.size() > 0;
    if (timed_out_) {
      if (!started) return;  // an idle keep-alive connection: just close
      core_->refuse("timeout");
      return reply(error_reply(408, "TIMEOUT",
                               "the request did not arrive within " + std::to_string(core_->limits.request_ms_max) + " ms"),
                   false);
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      core_->refuse("too_large");
      return reply(error_reply(413, "REQUEST_TOO_LARGE",
                               "a request may hold at most " + std::to_string(core_->limits.request_bytes_max) + " bytes"),
                   false);
    }
    if (ec == http::error::end_of_stream || (ec && !started)) return;  // the client went away
    if (ec) {
      core_->refuse("malformed");
      return reply(error_reply(400, "BAD_REQUEST", "malformed HTTP request: " + ec.message()), false);
    }
    ++core_->stats.requests;
    const auto& request = parser_->get();
    if (!core_->take_token(remote_)) {
      core_->refuse("rate_limited");
      return reply(error_reply(429, "RATE_LIMITED",
                               "at most " + std::to_string(core_->limits.requests_per_second) +
                                   " requests per second from one address"),
                   request.keep_alive());
    }
    if (websocket::is_upgrade(request)) {
      if (core_->ws_handler == nullptr) {
        core_->refuse("malformed");
        return reply(error_reply(400, "BAD_REQUEST", "no WebSocket on this port"), false);
      }
      // The connection becomes a WebSocket; this session ends here.
      std::make_shared<WsSession<Stream>>(core_, std::move(stream_))->start(request);
      return;
    }
    HttpRequest r{std::string(request.method_string()), std::string(request.target()), request.body(), remote_,
                  std::string(request[http::field::authorization])};
    reply(core_->handler(r), request.keep_alive());
  }

  void reply(HttpReply r, bool keep_alive) {
    SYNOD_ASSERT(r.status >= 100 && r.status < 600);
    response_ = {};
    response_.version(11);
    response_.result(static_cast<http::status>(r.status));
    response_.set(http::field::content_type, r.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.keep_alive(keep_alive);
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(write_deadline);
    http::async_write(stream_, response_, [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (!keep_alive) return self->linger();
      self->read();
    });
  }

  // A lingering close: the answer is sent, so stop sending and read what the
  // client still sends, for a moment; closing with unread bytes would reset
  // the connection and could destroy the answer before the client reads it.
  void linger() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    beast::get_lowest_layer(stream_).expires_after(linger_deadline);
    drain();
  }
  void drain() {
    beast::get_lowest_layer(stream_).async_read_some(
        asio::buffer(drain_buffer_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          if (!ec && !self->closing_) self->drain();
        });
  }

  std::shared_ptr<HttpServer::Core> core_;
  Stream stream_;
  std::array<char, 4096> drain_buffer_{};
  asio::steady_timer deadline_;
  std::string remote_;
  std::uint64_t number_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool timed_out_ = false;
  bool closing_ = false;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& listen, HttpLimits limits, Handler handler,
                       WebSocketHandler* ws, std::shared_ptr<asio::ssl::context> tls)
    : acceptor_(io, listen), accept_retry_(io), core_(std::make_shared<Core>()) {
  SYNOD_ASSERT(handler);
  SYNOD_ASSERT(limits.connections_max > 0 && limits.request_bytes_max > 0 && limits.request_ms_max > 0);
  core_->limits = limits;
  core_->handler = std::move(handler);
  core_->ws_handler = ws;
  core_->tls = std::move(tls);
  accept();
}

HttpServer::~HttpServer() {
  stop();
  core_->ws_handler = nullptr;
}

std::uint16_t HttpServer::port() const { return acceptor_.local_endpoint().port(); }
const HttpStats& HttpServer::stats() const { return core_->stats; }
std::size_t HttpServer::connections_open() const { return core_->open; }

void HttpServer::stop() {
  if (core_->stopping) return;
  core_->stopping = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  std::vector<std::shared_ptr<detail::Session>> open;
  for (const auto& [number, weak] : core_->sessions) {
    if (auto session = weak.lock()) open.push_back(std::move(session));
  }
  for (const auto& session : open) session->close();
}

bool HttpServer::ws_send(WsId ws, std::string text) {
  const auto it = core_->websockets.find(ws);
  if (it == core_->websockets.end()) return false;
  auto session = it->second.lock();
  if (!session) return false;
  session->send_text(std::move(text));
  return true;
}

void HttpServer::ws_close(WsId ws) {
  const auto it = core_->websockets.find(ws);
  if (it == core_->websockets.end()) return;
  if (auto session = it->second.lock()) session->close();
}

void HttpServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || core_->stopping) return;
    if (ec) {
      // Out of descriptors, say: try again shortly rather than spin.
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](const boost::system::error_code& tec) {
        if (!tec) accept();
      });
      return;
    }
    boost::system::error_code rec;
    const std::string remote = socket.remote_endpoint(rec).address().to_string();
    if (core_->open >= core_->limits.connections_max) {
      core_->refuse("too_many_connections");
      if (!core_->tls) {
        // A typed answer where one costs nothing: it fits the socket's buffer.
        auto held = std::make_shared<tcp::socket>(std::move(socket));
        static const std::string busy = [] {
          const HttpReply r = error_reply(503, "BUSY", "too many connections; try again later");
          return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                 "Content-Length: " +
                 std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
        }();
        asio::async_write(*held, asio::buffer(busy), [held](const boost::system::error_code&, std::size_t) {
          boost::system::error_code ignored;
          held->shutdown(tcp::socket::shutdown_both, ignored);
        });
      }
    } else if (core_->tls) {
      std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
          core_, beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *core_->tls), remote)
          ->start();
    } else {
      std::make_shared<HttpSession<beast::tcp_stream>>(core_, beast::tcp_stream(std::move(socket)), remote)->start();
    }
    accept();
  });
}

}  // namespace synod::net
