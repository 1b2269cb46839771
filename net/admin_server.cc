#include "net/admin_server.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>

#include "core/assert.h"

namespace synod::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

struct Session : std::enable_shared_from_this<Session> {
  Session(tcp::socket s, const AdminServer::Handler& h, std::size_t& open)
      : stream(std::move(s)), handler(h), open_count(open) {
    ++open_count;
  }
  ~Session() { --open_count; }

  void start() {
    parser.body_limit(AdminServer::request_bytes_max);
    parser.header_limit(AdminServer::request_bytes_max);
    stream.expires_after(std::chrono::milliseconds(AdminServer::request_ms_max));
    http::async_read(stream, buffer, parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->reply(HttpReply{400, "application/json", R"({"error":"BAD_REQUEST"})"}, 11);
      const auto& req = self->parser.get();
      self->reply(self->handler(std::string(req.method_string()), std::string(req.target())), req.version());
    });
  }

  void reply(HttpReply r, unsigned version) {
    response.version(version);
    response.result(static_cast<http::status>(r.status));
    response.set(http::field::content_type, r.content_type);
    response.set(http::field::connection, "close");
    response.body() = std::move(r.body);
    response.prepare_payload();
    http::async_write(stream, response, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  beast::tcp_stream stream;
  const AdminServer::Handler& handler;
  std::size_t& open_count;
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  http::response<http::string_body> response;
};

}  // namespace

AdminServer::AdminServer(asio::io_context& io, const tcp::endpoint& listen, Handler handler)
    : io_(io), acceptor_(io, listen), accept_retry_(io), handler_(std::move(handler)) {
  SYNOD_ASSERT(handler_);
  accept();
}

std::uint16_t AdminServer::port() const { return acceptor_.local_endpoint().port(); }

void AdminServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
}

void AdminServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors, say: try again shortly rather than spin.
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](const boost::system::error_code& tec) {
        if (!tec) accept();
      });
      return;
    }
    if (open_ < connections_max) std::make_shared<Session>(std::move(socket), handler_, open_)->start();
    accept();
  });
}

}  // namespace synod::net
