// PeerNetwork: the node's peer port (docs/transport.md). It listens, dials
// every other validator of the roster and keeps one outbound link to each
// (re-dialled with capped, jittered backoff, the address resolved again each
// time), authenticates every connection by its certificate key against the
// roster, and turns frames into consensus messages from a validator or
// client requests from anyone. As the core's Network it sends a message on
// the outbound link to its validator, and to itself through the loop. All on
// one io_context thread; nothing here calls the replica: the owner's handlers do.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "core/store.h"
#include "core/wire.h"
#include "net/link.h"
#include "net/log_limiter.h"

namespace synod::net {

struct PeerLimits {
  LinkLimits link;
  // A client's link, once its Hello shows a key outside the roster: a small
  // queue (responses only) and an idle deadline, so that clients cannot hold
  // memory or slots without using them.
  LinkLimits client_link{.idle_ms_max = 120'000, .send_queue_bytes_max = std::size_t{4} << 20};
  std::size_t inbound_connections_max = 256;
  // Clients may hold at most this many of the inbound slots: the rest stay
  // free for validators, whatever outsiders do.
  std::size_t client_connections_max = 192;
  std::uint64_t accept_retry_ms = 100;  // after an accept error (out of descriptors, say)
  std::uint64_t reconnect_ms_min = 100;
  std::uint64_t reconnect_ms_max = 10000;
};

// One validator's traffic with this node, both directions.
struct PeerTraffic {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
  std::optional<std::chrono::steady_clock::time_point> last_received;
};

struct PeerStats {
  LinkCounters links;
  std::vector<PeerTraffic> peers;  // by validator id
  std::map<std::string, std::uint64_t, std::less<>> messages_sent;      // by kind (message_kind)
  std::map<std::string, std::uint64_t, std::less<>> messages_received;  // by kind
  std::map<DecodeError, std::uint64_t> decode_errors;  // payloads the codec refused
  std::uint64_t messages_from_non_validators = 0;
  std::uint64_t client_requests = 0;
  std::uint64_t dropped_unconnected = 0;  // sent to a validator with no link up
  std::uint64_t dials = 0;
  std::uint64_t accepted = 0;
};

// A client connection, for routing a response back to it.
using ClientId = std::uint64_t;

class PeerNetwork final : public Network {
 public:
  struct Handlers {
    std::function<void(NodeId from, MessagePtr message)> on_message;
    std::function<void(ClientId client, ClientRequest request)> on_client_request;
    // A rate-limited report about a peer's bad input or a link's fate.
    std::function<void(const std::string& line)> on_log;
  };

  PeerNetwork(boost::asio::io_context& io, const Genesis& genesis, NodeId self, const KeyPair& key, PeerLimits limits,
              Handlers handlers);
  ~PeerNetwork() override;

  // Dials `address` for this validator instead of its roster address (the
  // node's [dial] table); before start().
  void set_dial_address(NodeId to, std::string address);
  // Binds the peer port (port 0 picks a free one) and starts dialling.
  void start(const boost::asio::ip::tcp::endpoint& listen);
  // The same with a port already bound and listening (tests bind port 0
  // first, to write the roster with the ports they got).
  void start(boost::asio::ip::tcp::acceptor acceptor);
  std::uint16_t port() const;
  // Goodbye to every connection, stop dialling and accepting.
  void stop();

  void send(NodeId to, const MessagePtr& message) override;
  void respond(ClientId client, const ClientResponse& response);

  bool connected(NodeId validator) const;
  std::size_t validators_connected() const;
  // The round-trip time of the link to `validator`, in µs, while it is up.
  std::optional<std::uint64_t> rtt_us(NodeId validator) const;
  const PeerStats& stats() const { return stats_; }

 private:
  struct Outbound {
    std::string address;  // dialled: the roster's, or the node's [dial] entry
    std::shared_ptr<Link> link;
    std::uint64_t backoff_ms = 0;
    boost::asio::steady_timer timer;
    std::unique_ptr<boost::asio::ip::tcp::resolver> resolver;
  };

  void accept();
  void dial(NodeId to);
  void redial(NodeId to);
  Link::Handlers handlers_for(std::optional<NodeId> dialled);
  std::optional<std::string> on_hello(Link& link, const Hello& hello, std::optional<NodeId> dialled);
  void on_frame(Link& link, FrameKind kind, ByteView payload);
  void on_closed(Link& link, const std::string& why, std::optional<NodeId> dialled);
  void log_once(const std::string& who, const std::string& reason, const std::string& line);

  boost::asio::io_context& io_;
  Genesis genesis_;
  ChainId chain_;
  Roster roster_;
  NodeId self_;
  PeerLimits limits_;
  Handlers handlers_;
  boost::asio::ssl::context tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::unique_ptr<Outbound>> outbound_;  // by validator id; empty slot for self
  std::map<std::uint64_t, std::shared_ptr<Link>> inbound_;  // by link id
  std::set<std::uint64_t> inbound_clients_;                  // links with client rights among inbound_
  boost::asio::steady_timer accept_retry_;
  std::mt19937_64 jitter_;
  bool stopping_ = false;
  MessagePtr last_encoded_;  // a broadcast encodes once for every peer
  Frame last_frame_;
  LogLimiter logged_;
  PeerStats stats_;
};

// "host:port" (host a name, an IPv4 address or [IPv6]); nullopt if malformed.
std::optional<std::pair<std::string, std::uint16_t>> split_address(std::string_view address);

}  // namespace synod::net
