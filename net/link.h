// Link: one framed TLS connection on the peer port, either direction
// (docs/transport.md). It runs the TLS handshake, exchanges Hellos, then
// reads frames and hands each to its owner, and writes frames from a bounded
// queue. It never decodes a payload and never blocks: a frame that does not
// fit the queue is dropped and counted. Everything runs on one io_context
// thread; a Link lives as long as an operation on it is pending.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/types.h"
#include "net/frame.h"

namespace synod::net {

struct LinkLimits {
  std::uint64_t handshake_ms_max = 5000;
  std::uint64_t frame_body_ms_max = 10000;
  // A write that makes no progress for this long means a dead peer (a host
  // gone without a reset): the link closes and is dialled again.
  std::uint64_t write_ms_max = 15000;
  std::uint64_t idle_ms_max = 0;  // no frame for this long closes the link; 0: never
  std::size_t send_queue_bytes_max = std::size_t{64} << 20;
};

// Counted by name; /metrics shows them. Written from the loop thread only.
struct LinkCounters {
  std::map<std::string, std::uint64_t, std::less<>> refused;  // by reason, both directions
  std::uint64_t frames_received = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t dropped_backpressure = 0;
  void refuse(std::string_view reason) { ++refused[std::string(reason)]; }
};

using Frame = std::shared_ptr<const Bytes>;

class Link : public std::enable_shared_from_this<Link> {
 public:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  struct Handlers {
    // The peer's Hello, with the key its certificate proved; a reason refuses it.
    std::function<std::optional<std::string>(Link&, const Hello&)> on_hello;
    std::function<void(Link&, FrameKind, ByteView)> on_frame;  // after the Hello only
    std::function<void(Link&, const std::string& why)> on_closed;  // once
  };

  // `pinned`: on a dialled link, the key the roster gives for that address.
  Link(Stream stream, bool dialled, std::optional<PublicKey> pinned, Hello own, const LinkLimits& limits,
       LinkCounters& counters, Handlers handlers);

  void start();
  // Other limits from now on (a client's, once its Hello shows it is one);
  // `limits` must outlive the link.
  void set_limits(const LinkLimits& limits) { limits_ = &limits; }
  // Queues a whole frame (make_frame); false if it was dropped (closed, or the queue is full).
  bool send(const Frame& frame);
  // Sends a Refusal or Goodbye frame, then closes once it is written (or at the deadline).
  void finish(FrameKind kind, std::string_view reason);
  void close(const std::string& why);

  bool established() const { return established_; }
  bool closed() const { return closed_; }
  bool dialled() const { return dialled_; }
  const PublicKey& peer_key() const { return peer_key_; }
  std::string remote() const { return remote_; }
  std::uint64_t id() const { return id_; }
  // The validator whose key the link proved, set by its owner after the
  // Hello; empty for a client.
  const std::optional<NodeId>& validator() const { return validator_; }
  void set_validator(NodeId validator) { validator_ = validator; }
  // The kernel's smoothed round-trip time of the TCP connection (TCP_INFO), in µs.
  std::optional<std::uint64_t> rtt_us() const;

 private:
  void on_tls(const boost::system::error_code& ec);
  void read_header();
  void read_body(std::uint32_t length);
  void handle(FrameKind kind, ByteView payload);
  void write_next();
  void arm(std::uint64_t ms, const char* what);
  void arm_write();

  Stream stream_;
  boost::asio::steady_timer deadline_;        // handshake, frame body, idle, finish
  boost::asio::steady_timer write_deadline_;  // the write in progress
  bool dialled_;
  std::optional<PublicKey> pinned_;
  Hello own_;
  const LinkLimits* limits_;
  LinkCounters& counters_;
  Handlers handlers_;
  std::string remote_;
  std::uint64_t id_;
  PublicKey peer_key_;
  std::optional<NodeId> validator_;
  bool tls_done_ = false;
  bool established_ = false;
  bool closed_ = false;
  bool finishing_ = false;
  std::array<std::uint8_t, frame_header_bytes> header_{};
  Bytes body_;
  std::deque<Frame> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
};

}  // namespace synod::net
