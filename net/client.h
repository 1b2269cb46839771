// Client: a connection with client rights to a node's peer port
// (docs/transport.md), for `synod check`, the load generator and tests. It
// dials, checks the node's certificate against the key expected for that
// address, exchanges Hellos, and matches responses to requests by id. Runs
// on the caller's io_context thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/messages.h"
#include "net/link.h"

namespace synod::net {

class Client {
 public:
  using Done = std::function<void(const std::string& error)>;  // empty on success
  using OnResponse = std::function<void(const ClientResponse& response)>;

  // `own` is this client's Hello (its key must be the TLS context's).
  Client(boost::asio::io_context& io, boost::asio::ssl::context& tls, Hello own, LinkLimits limits = {});
  ~Client();

  // Dials "host:port"; `pinned` is the key the node must prove (none: any).
  void connect(const std::string& address, std::optional<PublicKey> pinned, Done done);
  // Ids are assigned here; false if the request was dropped (not connected, queue full).
  bool request(ClientRequest request, OnResponse on_response);
  void close();

  bool connected() const { return link_ && link_->established() && !link_->closed(); }
  // The node's Hello, once connected.
  const std::optional<Hello>& node_hello() const { return node_hello_; }
  const std::string& closed_why() const { return closed_why_; }

 private:
  boost::asio::io_context& io_;
  boost::asio::ssl::context& tls_;
  Hello own_;
  LinkLimits limits_;
  LinkCounters counters_;
  std::shared_ptr<Link> link_;
  std::unique_ptr<boost::asio::ip::tcp::resolver> resolver_;
  std::optional<Hello> node_hello_;
  std::string closed_why_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, OnResponse> pending_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace synod::net
