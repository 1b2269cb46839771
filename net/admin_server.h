// AdminServer: a small HTTP/1.1 server for the admin port (P+2, bound to
// 127.0.0.1): GET requests answered by a handler, one request per
// connection, with a deadline and a size limit on the request. The node
// serves /status from it; metrics and backups come with the operator issue.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>

namespace synod::net {

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class AdminServer {
 public:
  using Handler = std::function<HttpReply(const std::string& method, const std::string& target)>;
  static constexpr std::size_t request_bytes_max = 8192;
  static constexpr std::size_t connections_max = 64;
  static constexpr std::uint64_t request_ms_max = 5000;

  AdminServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& listen, Handler handler);
  std::uint16_t port() const;
  void stop();

 private:
  void accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  Handler handler_;
  std::size_t open_ = 0;
};

}  // namespace synod::net
