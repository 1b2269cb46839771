#include "net/client.h"

#include <boost/asio/connect.hpp>

#include "core/assert.h"
#include "core/wire.h"
#include "net/peer_network.h"

namespace synod::net {

namespace asio = boost::asio;
using asio::ip::tcp;

Client::Client(asio::io_context& io, asio::ssl::context& tls, Hello own, LinkLimits limits)
    : io_(io), tls_(tls), own_(own), limits_(limits) {}

Client::~Client() {
  *alive_ = false;
  close();
}

void Client::connect(const std::string& address, std::optional<PublicKey> pinned, Done done) {
  SYNOD_ASSERT(!link_);
  const auto parts = split_address(address);
  if (!parts) return done("not host:port: " + address);
  resolver_ = std::make_unique<tcp::resolver>(io_);
  resolver_->async_resolve(
      parts->first, std::to_string(parts->second),
      [this, alive = alive_, pinned, done](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
        if (!*alive) return;
        if (ec) return done("cannot resolve: " + ec.message());
        auto socket = std::make_shared<tcp::socket>(io_);
        asio::async_connect(*socket, results, [this, alive, socket, pinned, done](const boost::system::error_code& cec,
                                                                                   const tcp::endpoint&) {
          if (!*alive) return;
          if (cec) return done("cannot connect: " + cec.message());
          Link::Handlers handlers{
              [this, alive, done](Link&, const Hello& hello) -> std::optional<std::string> {
                node_hello_ = hello;
                // The node's refusal of our Hello, if any, arrives later; its
                // own Hello is all we check here (the caller compares chain and version).
                asio::post(io_, [alive, done] {
                  if (*alive) done("");
                });
                return std::nullopt;
              },
              [this](Link&, FrameKind kind, ByteView payload) {
                if (kind != FrameKind::ClientResponse) return;
                auto response = decode_client_response(own_.chain, ChainParams{}, payload);
                if (!response) return;
                const auto it = pending_.find(response->id);
                if (it == pending_.end()) return;
                OnResponse on_response = std::move(it->second);
                pending_.erase(it);
                on_response(*response);
              },
              [this, alive, done](Link&, const std::string& why) {
                if (!*alive) return;
                closed_why_ = why;
                if (!node_hello_) done(why);
              },
          };
          link_ = std::make_shared<Link>(Link::Stream(std::move(*socket), tls_), true, pinned, own_, limits_, counters_,
                                         std::move(handlers));
          link_->start();
        });
      });
}

bool Client::request(ClientRequest request, OnResponse on_response) {
  if (!connected()) return false;
  request.id = next_id_++;
  const std::uint64_t id = request.id;
  if (!link_->send(std::make_shared<const Bytes>(make_frame(FrameKind::ClientRequest, encode(request))))) return false;
  pending_.emplace(id, std::move(on_response));
  return true;
}

void Client::close() {
  if (resolver_) resolver_->cancel();
  if (link_ && !link_->closed()) link_->close("closed by client");
}

}  // namespace synod::net
