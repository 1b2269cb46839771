#include "net/link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "core/assert.h"
#include "core/wire.h"
#include "net/tls.h"

namespace synod::net {

std::optional<std::uint64_t> Link::rtt_us() const {
  if (closed_) return std::nullopt;
  tcp_info info{};
  socklen_t size = sizeof info;
  auto& socket = const_cast<Stream&>(stream_).lowest_layer();
  if (::getsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return std::nullopt;
  return info.tcpi_rtt;
}

namespace asio = boost::asio;

namespace {
std::uint64_t next_link_id = 1;
}

Link::Link(Stream stream, bool dialled, std::optional<PublicKey> pinned, Hello own, const LinkLimits& limits,
           LinkCounters& counters, Handlers handlers)
    : stream_(std::move(stream)),
      deadline_(stream_.get_executor()),
      write_deadline_(stream_.get_executor()),
      dialled_(dialled),
      pinned_(pinned),
      own_(own),
      limits_(&limits),
      counters_(counters),
      handlers_(std::move(handlers)),
      id_(next_link_id++) {
  SYNOD_ASSERT(handlers_.on_hello && handlers_.on_frame && handlers_.on_closed);
  boost::system::error_code ec;
  const auto endpoint = stream_.lowest_layer().remote_endpoint(ec);
  remote_ = ec ? std::string("unknown") : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  stream_.lowest_layer().set_option(asio::ip::tcp::no_delay(true), ec);
  stream_.lowest_layer().set_option(asio::socket_base::keep_alive(true), ec);
}

void Link::start() {
  arm(limits_->handshake_ms_max, "handshake_timeout");
  stream_.async_handshake(dialled_ ? asio::ssl::stream_base::client : asio::ssl::stream_base::server,
                          [self = shared_from_this()](const boost::system::error_code& ec) { self->on_tls(ec); });
}

void Link::arm(std::uint64_t ms, const char* what) {
  deadline_.expires_after(std::chrono::milliseconds(ms));
  deadline_.async_wait([self = shared_from_this(), what](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;  // cancelled: the awaited step finished
    self->counters_.refuse(what);
    self->close(what);
  });
}

void Link::arm_write() {
  write_deadline_.expires_after(std::chrono::milliseconds(limits_->write_ms_max));
  write_deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    self->counters_.refuse("write_stalled");
    self->close("write_stalled");
  });
}

void Link::on_tls(const boost::system::error_code& ec) {
  if (closed_) return;
  if (ec) {
    counters_.refuse("tls_failed");
    return close("tls_failed: " + ec.message());
  }
  tls_done_ = true;
  const std::optional<PublicKey> key = peer_certificate_key(stream_.native_handle());
  if (!key) {
    counters_.refuse("no_certificate");
    return close("no_certificate");
  }
  peer_key_ = *key;
  if (pinned_ && *pinned_ != *key) {
    counters_.refuse("wrong_peer_key");
    return close("wrong_peer_key: the certificate holds " + hex(key->view()));
  }
  send(std::make_shared<const Bytes>(make_frame(FrameKind::Hello, encode_hello(own_))));
  read_header();
}

void Link::read_header() {
  // An established link may wait for its next frame only so long (clients);
  // before the Hello, the handshake's deadline runs.
  if (established_ && !finishing_ && limits_->idle_ms_max > 0) arm(limits_->idle_ms_max, "idle_timeout");
  asio::async_read(stream_, asio::buffer(header_),
                   [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                     if (self->closed_) return;
                     if (ec) return self->close(ec == asio::error::eof ? "closed by peer" : ec.message());
                     const auto length = static_cast<std::uint32_t>(get_be(self->header_, 0, frame_header_bytes));
                     if (length == 0) {
                       self->counters_.refuse("bad_frame");
                       return self->close("bad_frame: empty");
                     }
                     // Refused before any buffer is allocated for it.
                     if (length > (self->established_ ? frame_bytes_max + 1 : handshake_frame_bytes_max)) {
                       self->counters_.refuse("frame_too_large");
                       return self->finish(FrameKind::Refusal, "frame_too_large");
                     }
                     self->read_body(length);
                   });
}

void Link::read_body(std::uint32_t length) {
  SYNOD_ASSERT(length >= 1);
  SYNOD_ASSERT(length <= frame_bytes_max + 1);
  SYNOD_ASSERT(established_ || length <= handshake_frame_bytes_max);
  body_.resize(length);
  // Slowloris: once a length is announced, the body has a deadline. Before
  // the Hello, the handshake's deadline is still running; once finishing,
  // the finish deadline is.
  if (established_ && !finishing_) arm(limits_->frame_body_ms_max, "frame_stalled");
  asio::async_read(stream_, asio::buffer(body_),
                   [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                     if (self->closed_) return;
                     if (ec) return self->close(ec == asio::error::eof ? "closed by peer" : ec.message());
                     if (self->established_ && !self->finishing_) self->deadline_.cancel();
                     ++self->counters_.frames_received;
                     self->counters_.bytes_received += frame_header_bytes + self->body_.size();
                     const std::uint8_t kind = self->body_[0];
                     if (kind == 0 || kind > frame_kind_last) {
                       self->counters_.refuse("bad_frame_kind");
                       return self->finish(FrameKind::Refusal, "bad_frame_kind");
                     }
                     self->handle(static_cast<FrameKind>(kind), ByteView(self->body_).subspan(1));
                     if (!self->closed_ && !self->finishing_) self->read_header();
                   });
}

void Link::handle(FrameKind kind, ByteView payload) {
  if (!established_) {
    if (kind == FrameKind::Refusal) {
      const std::string reason(payload.begin(), payload.begin() + std::min(payload.size(), refusal_bytes_max));
      return close("refused by peer: " + reason);
    }
    if (kind != FrameKind::Hello) {
      counters_.refuse("bad_hello");
      return finish(FrameKind::Refusal, "bad_hello");
    }
    auto hello = decode_hello(payload);
    if (!hello) {
      counters_.refuse(hello.error());
      return finish(FrameKind::Refusal, hello.error());
    }
    if (hello->key != peer_key_) {
      counters_.refuse("hello_key_mismatch");
      return finish(FrameKind::Refusal, "hello_key_mismatch");
    }
    if (auto refusal = handlers_.on_hello(*this, *hello)) {
      counters_.refuse(*refusal);
      return finish(FrameKind::Refusal, *refusal);
    }
    deadline_.cancel();
    established_ = true;
    return;
  }
  switch (kind) {
    case FrameKind::Hello:
      counters_.refuse("bad_frame_kind");
      return finish(FrameKind::Refusal, "bad_frame_kind");
    case FrameKind::Refusal: {
      const std::string reason(payload.begin(), payload.begin() + std::min(payload.size(), refusal_bytes_max));
      return close("refused by peer: " + reason);
    }
    case FrameKind::Goodbye:
      return close("goodbye");
    default:
      return handlers_.on_frame(*this, kind, payload);
  }
}

bool Link::send(const Frame& frame) {
  SYNOD_ASSERT(frame && frame->size() > frame_header_bytes);
  if (closed_ || finishing_) return false;
  if (queued_bytes_ + frame->size() > limits_->send_queue_bytes_max) {
    ++counters_.dropped_backpressure;
    return false;
  }
  queue_.push_back(frame);
  queued_bytes_ += frame->size();
  if (!writing_) write_next();
  SYNOD_ASSERT(queued_bytes_ <= limits_->send_queue_bytes_max || queue_.size() == 1);
  return true;
}

void Link::write_next() {
  SYNOD_ASSERT(!writing_);
  if (queue_.empty()) {
    if (finishing_) close("finished");
    return;
  }
  writing_ = true;
  arm_write();
  asio::async_write(stream_, asio::buffer(*queue_.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t bytes) {
                      self->writing_ = false;
                      self->write_deadline_.cancel();
                      if (self->closed_) return;
                      if (ec) return self->close("write: " + ec.message());
                      ++self->counters_.frames_sent;
                      self->counters_.bytes_sent += bytes;
                      self->queued_bytes_ -= self->queue_.front()->size();
                      self->queue_.pop_front();
                      self->write_next();
                    });
}

void Link::finish(FrameKind kind, std::string_view reason) {
  SYNOD_ASSERT(kind == FrameKind::Refusal || kind == FrameKind::Goodbye);
  if (closed_ || finishing_) return;
  if (!tls_done_) {
    // Nothing may be written while the TLS handshake runs: just go. The
    // handshake's own completion then sees the link closed.
    return close("stopped");
  }
  const std::string_view cut = reason.substr(0, refusal_bytes_max);
  send(std::make_shared<const Bytes>(make_frame(kind, as_bytes(cut))));
  finishing_ = true;
  // The last frame goes out, or the deadline closes the link anyway.
  arm(limits_->handshake_ms_max, "finish_timeout");
  if (!writing_) write_next();
}

void Link::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  deadline_.cancel();
  write_deadline_.cancel();
  boost::system::error_code ignored;
  stream_.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.lowest_layer().close(ignored);
  queue_.clear();
  queued_bytes_ = 0;
  handlers_.on_closed(*this, why);
  SYNOD_ASSERT(closed_);
}

}  // namespace synod::net
