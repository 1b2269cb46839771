#include "net/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <charconv>
#include <optional>

#include "core/assert.h"

namespace synod::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;

std::expected<Url, std::string> parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    url.tls = true;
    rest = text.substr(8);
  } else {
    return std::unexpected("a URL starts with http:// or https://, not \"" + std::string(text) + "\"");
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) url.path = std::string(rest.substr(slash));
  while (url.path.ends_with('/')) url.path.pop_back();
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::unexpected("unclosed [ in " + std::string(text));
    url.host = std::string(authority.substr(1, close - 1));
    if (authority.size() > close + 1) {
      if (authority[close + 1] != ':') return std::unexpected("expected :port after ] in " + std::string(text));
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return std::unexpected("no host in " + std::string(text));
  if (port_text.empty()) {
    url.port = url.tls ? 443 : 80;
  } else {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return std::unexpected("bad port in " + std::string(text));
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  return url;
}

namespace {

std::shared_ptr<asio::ssl::context> client_context(const ClientTls& tls) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  if (tls.ca_file.empty()) {
    ctx->set_default_verify_paths();
  } else {
    ctx->load_verify_file(tls.ca_file);
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

// Runs the io_context until `done` or the deadline; false on the deadline.
bool run_until(asio::io_context& io, const bool& done, std::chrono::milliseconds timeout) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    io.run_one_for(deadline - now);
  }
  return true;
}

// A connected stream (TCP, TLS handshake done) to `url`.
template <class Stream>
std::optional<std::string> open(asio::io_context& io, Stream& stream, const Url& url, std::chrono::milliseconds timeout) {
  tcp::resolver resolver(io);
  bool done = false;
  beast::error_code error;
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url.host, std::to_string(url.port), [&](beast::error_code ec, tcp::resolver::results_type r) {
    error = ec;
    endpoints = std::move(r);
    done = true;
  });
  if (!run_until(io, done, timeout)) return "cannot resolve " + url.host + ": timed out";
  if (error) return "cannot resolve " + url.host + ": " + error.message();
  done = false;
  beast::get_lowest_layer(stream).async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
    error = ec;
    done = true;
  });
  if (!run_until(io, done, timeout)) return "cannot connect to " + url.host + ":" + std::to_string(url.port) + ": timed out";
  if (error) return "cannot connect to " + url.host + ":" + std::to_string(url.port) + ": " + error.message();
  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) return "TLS: cannot set the server name";
    stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
    done = false;
    stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code ec) {
      error = ec;
      done = true;
    });
    if (!run_until(io, done, timeout)) return "TLS handshake with " + url.host + ": timed out";
    if (error) return "TLS handshake with " + url.host + ": " + error.message();
  }
  return std::nullopt;
}

template <class Stream>
std::expected<HttpResponse, std::string> call(asio::io_context& io, Stream& stream, const Url& url, std::string_view method,
                                              std::string_view target, std::string_view body,
                                              std::chrono::milliseconds timeout) {
  if (auto e = open(io, stream, url, timeout)) return std::unexpected(*e);
  http::request<http::string_body> request{http::string_to_verb(method), url.path + std::string(target), 11};
  request.set(http::field::host, url.host);
  request.set(http::field::user_agent, "synod");
  if (!body.empty()) request.set(http::field::content_type, "application/json");
  request.body() = std::string(body);
  request.prepare_payload();
  bool done = false;
  beast::error_code error;
  http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
    error = ec;
    done = true;
  });
  if (!run_until(io, done, timeout)) return std::unexpected("sending the request to " + url.host + ": timed out");
  if (error) return std::unexpected("sending the request to " + url.host + ": " + error.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  done = false;
  http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
    error = ec;
    done = true;
  });
  if (!run_until(io, done, timeout)) return std::unexpected("waiting for " + url.host + "'s answer: timed out");
  if (error) return std::unexpected("reading " + url.host + "'s answer: " + error.message());
  return HttpResponse{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

template <class Stream>
class WsClientOf final : public WsClient {
 public:
  static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;
  explicit WsClientOf(std::shared_ptr<asio::ssl::context> ctx)
    requires tls
      : ctx_(std::move(ctx)), ws_(io_, *ctx_) {}
  WsClientOf()
    requires(!tls)
      : ws_(io_) {}

  std::optional<std::string> start(const Url& url, std::string_view target, std::chrono::milliseconds timeout) {
    if (auto e = open(io_, ws_.next_layer(), url, timeout)) return e;
    bool done = false;
    beast::error_code error;
    ws_.async_handshake(url.host, url.path + std::string(target), [&](beast::error_code ec) {
      error = ec;
      done = true;
    });
    if (!run_until(io_, done, timeout)) return "WebSocket handshake with " + url.host + ": timed out";
    if (error) return "WebSocket handshake with " + url.host + ": " + error.message();
    ws_.text(true);
    return std::nullopt;
  }

  std::expected<void, std::string> send(const std::string& text, std::chrono::milliseconds timeout) override {
    bool done = false;
    beast::error_code error;
    ws_.async_write(asio::buffer(text), [&](beast::error_code ec, std::size_t) {
      error = ec;
      done = true;
    });
    if (!run_until(io_, done, timeout)) return std::unexpected("sending on the WebSocket: timed out");
    if (error) return std::unexpected("sending on the WebSocket: " + error.message());
    return {};
  }

  std::expected<std::string, std::string> read(std::chrono::milliseconds timeout) override {
    if (!reading_) {
      reading_ = true;
      read_done_ = false;
      ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) {
        read_error_ = ec;
        read_done_ = true;
      });
    }
    // A read that times out stays pending: the next call waits for it.
    if (!run_until(io_, read_done_, timeout)) return std::unexpected("timed out");
    reading_ = false;
    if (read_error_) return std::unexpected("the WebSocket closed: " + read_error_.message());
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    return text;
  }


 private:
  std::shared_ptr<asio::ssl::context> ctx_;  // outlives ws_
  asio::io_context io_;
  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  bool reading_ = false;
  bool read_done_ = false;
  beast::error_code read_error_;
};

}  // namespace

std::expected<HttpResponse, std::string> http_call(const Url& url, std::string_view method, std::string_view target,
                                                   std::string_view body, std::chrono::milliseconds timeout,
                                                   const ClientTls& tls) {
  SYNOD_ASSERT(timeout.count() > 0);
  asio::io_context io;
  try {
    if (url.tls) {
      auto ctx = client_context(tls);
      beast::ssl_stream<beast::tcp_stream> stream(io, *ctx);
      return call(io, stream, url, method, target, body, timeout);
    }
    beast::tcp_stream stream(io);
    return call(io, stream, url, method, target, body, timeout);
  } catch (const std::exception& e) {
    return std::unexpected(std::string("TLS set-up: ") + e.what());
  }
}

std::expected<std::unique_ptr<WsClient>, std::string> WsClient::connect(const Url& url, std::string_view target,
                                                                         std::chrono::milliseconds timeout,
                                                                         const ClientTls& tls) {
  SYNOD_ASSERT(timeout.count() > 0);
  try {
    if (url.tls) {
      auto client = std::make_unique<WsClientOf<beast::ssl_stream<beast::tcp_stream>>>(client_context(tls));
      if (auto e = client->start(url, target, timeout)) return std::unexpected(*e);
      return client;
    }
    auto client = std::make_unique<WsClientOf<beast::tcp_stream>>();
    if (auto e = client->start(url, target, timeout)) return std::unexpected(*e);
    return client;
  } catch (const std::exception& e) {
    return std::unexpected(std::string("TLS set-up: ") + e.what());
  }
}

}  // namespace synod::net
