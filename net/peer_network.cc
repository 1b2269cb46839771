#include "net/peer_network.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <charconv>

#include "core/assert.h"
#include "net/tls.h"

namespace synod::net {

namespace asio = boost::asio;
using asio::ip::tcp;

std::optional<std::pair<std::string, std::uint16_t>> split_address(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) return std::nullopt;
  std::string host(address.substr(0, colon));
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

namespace {
void count(std::map<std::string, std::uint64_t, std::less<>>& counters, std::string_view key) {
  auto it = counters.find(key);
  if (it == counters.end()) it = counters.emplace(std::string(key), 0).first;
  ++it->second;
}
}  // namespace

PeerNetwork::PeerNetwork(asio::io_context& io, const Genesis& genesis, NodeId self, const KeyPair& key,
                         PeerLimits limits, Handlers handlers)
    : io_(io),
      genesis_(genesis),
      chain_(genesis.chain_id()),
      roster_(genesis.validators),
      self_(self),
      limits_(limits),
      handlers_(std::move(handlers)),
      tls_(make_tls_context(key)),
      acceptor_(io),
      accept_retry_(io),
      jitter_(std::random_device{}()) {
  SYNOD_ASSERT(roster_.contains(self));
  SYNOD_ASSERT(roster_.at(self).key == key.public_key);
  SYNOD_ASSERT(limits_.reconnect_ms_min > 0 && limits_.reconnect_ms_min <= limits_.reconnect_ms_max);
  SYNOD_ASSERT(limits_.client_connections_max < limits_.inbound_connections_max);
  SYNOD_ASSERT(handlers_.on_message && handlers_.on_client_request && handlers_.on_log);
  stats_.peers.resize(roster_.size());
  for (std::uint32_t i = 0; i < roster_.size(); ++i) {
    outbound_.push_back(NodeId(i) == self_ ? nullptr
                                           : std::make_unique<Outbound>(Outbound{roster_.at(NodeId(i)).address, nullptr,
                                                                                 0, asio::steady_timer(io_), nullptr}));
  }
}

void PeerNetwork::set_dial_address(NodeId to, std::string address) {
  SYNOD_ASSERT(to != self_);
  SYNOD_ASSERT(!acceptor_.is_open());  // before start()
  outbound_.at(to.value)->address = std::move(address);
  SYNOD_ASSERT(!outbound_.at(to.value)->address.empty());
}

PeerNetwork::~PeerNetwork() { stop(); }

void PeerNetwork::start(const tcp::endpoint& listen) {
  tcp::acceptor acceptor(io_);
  acceptor.open(listen.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(listen);
  acceptor.listen();
  start(std::move(acceptor));
}

void PeerNetwork::start(tcp::acceptor acceptor) {
  SYNOD_ASSERT(acceptor.is_open());
  acceptor_ = std::move(acceptor);
  accept();
  for (std::uint32_t i = 0; i < roster_.size(); ++i) {
    if (NodeId(i) != self_) dial(NodeId(i));
  }
}

std::uint16_t PeerNetwork::port() const { return acceptor_.local_endpoint().port(); }

void PeerNetwork::stop() {
  if (stopping_) return;
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  for (auto& out : outbound_) {
    if (!out) continue;
    out->timer.cancel();
    if (out->resolver) out->resolver->cancel();
    if (out->link) out->link->finish(FrameKind::Goodbye, "");
  }
  for (auto& [id, link] : inbound_) link->finish(FrameKind::Goodbye, "");
}

void PeerNetwork::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopping_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors, say: try again shortly rather than spin.
      log_once("accept", ec.message(), "cannot accept connections: " + ec.message());
      accept_retry_.expires_after(std::chrono::milliseconds(limits_.accept_retry_ms));
      accept_retry_.async_wait([this](const boost::system::error_code& tec) {
        if (!tec && !stopping_) accept();
      });
      return;
    }
    {
      ++stats_.accepted;
      if (inbound_.size() >= limits_.inbound_connections_max) {
        stats_.links.refuse("too_many_connections");
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        Hello own{protocol_version, chain_, roster_.at(self_).key};
        auto link = std::make_shared<Link>(Link::Stream(std::move(socket), tls_), false, std::nullopt, own,
                                           limits_.link, stats_.links, handlers_for(std::nullopt));
        inbound_.emplace(link->id(), link);
        link->start();
      }
    }
    accept();
  });
}

Link::Handlers PeerNetwork::handlers_for(std::optional<NodeId> dialled) {
  return Link::Handlers{
      [this, dialled](Link& l, const Hello& h) { return on_hello(l, h, dialled); },
      [this](Link& l, FrameKind kind, ByteView payload) { on_frame(l, kind, payload); },
      [this, dialled](Link& l, const std::string& why) { on_closed(l, why, dialled); },
  };
}

void PeerNetwork::dial(NodeId to) {
  SYNOD_ASSERT(to != self_);
  if (stopping_) return;
  Outbound& out = *outbound_.at(to.value);
  SYNOD_ASSERT(!out.link);
  const std::string& address = out.address;
  const auto parts = split_address(address);
  if (!parts) {
    log_once(address, "bad_address", "roster address of " + hex(roster_.at(to).key.view()).substr(0, 16) +
                                         " is not host:port: " + address);
    return redial(to);
  }
  ++stats_.dials;
  // Resolved again on every attempt: a validator may move under its name.
  out.resolver = std::make_unique<tcp::resolver>(io_);
  out.resolver->async_resolve(
      parts->first, std::to_string(parts->second),
      [this, to](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
        if (stopping_ || ec == asio::error::operation_aborted) return;
        if (ec) {
          const std::string& dialled = outbound_.at(to.value)->address;
          log_once(dialled, "resolve", "cannot resolve " + dialled + ": " + ec.message());
          return redial(to);
        }
        auto socket = std::make_shared<tcp::socket>(io_);
        asio::async_connect(*socket, results, [this, to, socket](const boost::system::error_code& cec, const tcp::endpoint&) {
          if (stopping_ || cec == asio::error::operation_aborted) return;
          if (cec) return redial(to);
          Hello own{protocol_version, chain_, roster_.at(self_).key};
          auto link = std::make_shared<Link>(Link::Stream(std::move(*socket), tls_), true, roster_.at(to).key, own,
                                             limits_.link, stats_.links, handlers_for(to));
          outbound_.at(to.value)->link = link;
          link->start();
        });
      });
}

// Capped exponential backoff with jitter: min, 2 min, 4 min ... max, each plus
// up to half again, so that a restarted cluster does not dial in lockstep.
void PeerNetwork::redial(NodeId to) {
  if (stopping_) return;
  Outbound& out = *outbound_.at(to.value);
  out.backoff_ms = out.backoff_ms == 0 ? limits_.reconnect_ms_min : std::min(out.backoff_ms * 2, limits_.reconnect_ms_max);
  const std::uint64_t delay = out.backoff_ms + jitter_() % (out.backoff_ms / 2 + 1);
  SYNOD_ASSERT(delay <= limits_.reconnect_ms_max * 3 / 2 + 1);
  out.timer.expires_after(std::chrono::milliseconds(delay));
  out.timer.async_wait([this, to](const boost::system::error_code& ec) {
    if (!ec && !stopping_) dial(to);
  });
}

std::optional<std::string> PeerNetwork::on_hello(Link& link, const Hello& hello, std::optional<NodeId> dialled) {
  if (hello.version != protocol_version) {
    log_once(link.remote(), "wrong_version",
             "refused " + link.remote() + ": protocol version " + std::to_string(hello.version) + ", ours " +
                 std::to_string(protocol_version));
    return "wrong_version";
  }
  if (hello.chain != chain_) {
    log_once(link.remote(), "wrong_chain", "refused " + link.remote() + ": chain " + hex(hello.chain.view()).substr(0, 16) +
                                               ", ours " + hex(chain_.view()).substr(0, 16));
    return "wrong_chain";
  }
  if (dialled) {
    Outbound& out = *outbound_.at(dialled->value);
    out.backoff_ms = 0;  // a whole handshake: the next failure starts the backoff again
    link.set_validator(*dialled);
    handlers_.on_log("connected to n" + std::to_string(dialled->value) + " at " + link.remote());
    return std::nullopt;
  }
  if (const auto validator = roster_.find(hello.key); validator && *validator != self_) {
    link.set_validator(*validator);
    return std::nullopt;
  }
  if (inbound_clients_.size() >= limits_.client_connections_max) {
    log_once("clients", "too_many_clients", "refusing clients: all " + std::to_string(limits_.client_connections_max) +
                                                " client slots are taken");
    return "too_many_clients";
  }
  inbound_clients_.insert(link.id());
  link.set_limits(limits_.client_link);
  return std::nullopt;
}

void PeerNetwork::on_frame(Link& link, FrameKind kind, ByteView payload) {
  const std::optional<NodeId>& from = link.validator();
  switch (kind) {
    case FrameKind::Message: {
      if (!from) {
        ++stats_.messages_from_non_validators;
        stats_.links.refuse("not_a_validator");
        log_once(link.remote(), "not_a_validator",
                 "consensus message from " + link.remote() + ", whose key is not in the roster: dropped");
        return;
      }
      auto message = decode_message(&sha256, chain_, genesis_.params, payload);
      if (!message) {
        ++stats_.decode_errors[message.error()];
        log_once(link.remote(), std::string(to_string(message.error())),
                 "undecodable message from n" + std::to_string(from->value) + " (" + link.remote() +
                     "): " + std::string(to_string(message.error())));
        return;
      }
      PeerTraffic& traffic = stats_.peers.at(from->value);
      traffic.bytes_received += frame_header_bytes + payload.size();
      ++traffic.messages_received;
      traffic.last_received = std::chrono::steady_clock::now();
      count(stats_.messages_received, message_kind(*message));
      handlers_.on_message(*from, std::make_shared<const Message>(std::move(*message)));
      return;
    }
    case FrameKind::ClientRequest: {
      if (link.dialled()) return;  // we never serve on our own outbound links
      auto request = decode_client_request(chain_, genesis_.params, payload);
      if (!request) {
        ++stats_.decode_errors[request.error()];
        log_once(link.remote(), std::string(to_string(request.error())),
                 "undecodable client request from " + link.remote() + ": " + std::string(to_string(request.error())));
        return;
      }
      ++stats_.client_requests;
      handlers_.on_client_request(link.id(), std::move(*request));
      return;
    }
    default:
      stats_.links.refuse("bad_frame_kind");
      log_once(link.remote(), "bad_frame_kind", "unexpected frame kind from " + link.remote());
      return;
  }
}

void PeerNetwork::on_closed(Link& link, const std::string& why, std::optional<NodeId> dialled) {
  if (dialled) {
    Outbound& out = *outbound_.at(dialled->value);
    if (out.link.get() == &link) {
      // Posted: the link is still inside its own handler.
      asio::post(io_, [keep = std::move(out.link)] {});
      log_once(roster_.at(*dialled).address, why, "link to n" + std::to_string(dialled->value) + " closed: " + why);
      redial(*dialled);
    }
    return;
  }
  inbound_clients_.erase(link.id());
  if (const auto it = inbound_.find(link.id()); it != inbound_.end()) {
    asio::post(io_, [keep = std::move(it->second)] {});
    inbound_.erase(it);
  }
}

void PeerNetwork::send(NodeId to, const MessagePtr& message) {
  SYNOD_ASSERT(message != nullptr);
  if (to == self_) {
    // A later input through the loop, never inside this call: the driver is not re-entrant.
    asio::post(io_, [this, message] { handlers_.on_message(self_, message); });
    return;
  }
  if (!roster_.contains(to)) return;
  Outbound& out = *outbound_.at(to.value);
  if (!out.link || !out.link->established()) {
    ++stats_.dropped_unconnected;
    return;
  }
  if (message != last_encoded_) {
    last_encoded_ = message;
    last_frame_ = std::make_shared<const Bytes>(make_frame(FrameKind::Message, encode(*message)));
    // Our own messages fit a frame: blocks are bounded by the genesis, sync
    // responses by sync_bytes_max (core/replica.h).
    SYNOD_ASSERT(last_frame_->size() <= frame_header_bytes + 1 + frame_bytes_max);
  }
  if (out.link->send(last_frame_)) {
    PeerTraffic& traffic = stats_.peers.at(to.value);
    traffic.bytes_sent += last_frame_->size();
    ++traffic.messages_sent;
    count(stats_.messages_sent, message_kind(*message));
  }
}

std::optional<std::uint64_t> PeerNetwork::rtt_us(NodeId validator) const {
  if (validator == self_ || !roster_.contains(validator)) return std::nullopt;
  const auto& out = outbound_.at(validator.value);
  if (!out->link || !out->link->established()) return std::nullopt;
  return out->link->rtt_us();
}

void PeerNetwork::respond(ClientId client, const ClientResponse& response) {
  const auto it = inbound_.find(client);
  if (it == inbound_.end()) return;  // the client went away
  it->second->send(std::make_shared<const Bytes>(make_frame(FrameKind::ClientResponse, encode(response))));
}

bool PeerNetwork::connected(NodeId validator) const {
  if (validator == self_) return true;
  if (!roster_.contains(validator)) return false;
  const auto& out = outbound_.at(validator.value);
  return out->link && out->link->established();
}

std::size_t PeerNetwork::validators_connected() const {
  std::size_t n = 0;
  for (std::uint32_t i = 0; i < roster_.size(); ++i) {
    if (NodeId(i) != self_ && connected(NodeId(i))) ++n;
  }
  return n;
}

void PeerNetwork::log_once(const std::string& who, const std::string& reason, const std::string& line) {
  if (logged_.allow(who, reason)) handlers_.on_log(line);
}

}  // namespace synod::net
