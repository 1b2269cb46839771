#include "sim/trace.h"

#include <cstring>
#include <sstream>

namespace synod::sim {

std::string_view to_string(EventKind kind) {
  switch (kind) {
    case EventKind::Deliver: return "deliver";
    case EventKind::Tick: return "tick";
    case EventKind::Request: return "request";
    case EventKind::Commit: return "commit";
    case EventKind::Crash: return "crash";
    case EventKind::Restart: return "restart";
    case EventKind::Refused: return "refused";
    case EventKind::Fault: return "fault";
  }
  return "unknown";
}

std::string to_string(const TraceEvent& e) {
  std::ostringstream os;
  os << "t=" << e.at << "ms " << to_string(e.kind) << " a=" << e.a << " b=" << e.b << " detail=" << std::hex
     << e.detail;
  return os.str();
}

namespace {
template <class Fixed>
std::uint64_t leading(const Fixed& bytes) {
  std::uint64_t v = 0;
  std::memcpy(&v, bytes.bytes.data(), sizeof v);
  return v;
}
}  // namespace

std::uint64_t fingerprint(const BlockId& id) { return leading(id); }

std::uint64_t fingerprint(const Message& message) {
  const std::uint64_t kind = static_cast<std::uint64_t>(message.index()) << 56;
  return kind ^ std::visit(
                    [](const auto& m) -> std::uint64_t {
                      using T = std::decay_t<decltype(m)>;
                      if constexpr (std::is_same_v<T, Proposal>) return leading(m.block->id) ^ m.block->round.value;
                      if constexpr (std::is_same_v<T, Vote>) return leading(m.sig);
                      if constexpr (std::is_same_v<T, Timeout>) return leading(m.sig);
                      if constexpr (std::is_same_v<T, SyncRequest>) return m.committed_height.value;
                      if constexpr (std::is_same_v<T, SyncResponse>) {
                        return m.committed_height.value * 131 + m.blocks.size();
                      }
                      if constexpr (std::is_same_v<T, TxBatch>) {
                        return m.txs.empty() ? 0 : leading(m.txs.front().sig) + m.txs.size();
                      }
                    },
                    message);
}

void Trace::record(const TraceEvent& event) {
  // FNV-1a over the event's fields, one 64-bit word at a time.
  const std::uint64_t words[] = {event.at, static_cast<std::uint64_t>(event.kind), event.a, event.b, event.detail};
  for (std::uint64_t w : words) {
    hash_ ^= w;
    hash_ *= 0x100000001b3ULL;
  }
  ++count_;
  if (keep_) events_.push_back(event);
}

void Trace::line(const std::function<std::string()>& text) const {
  if (sink_) sink_(text());
}

}  // namespace synod::sim
