// Trace: the record of everything that happened in a simulation, folded into
// one 64-bit hash as it happens. Two runs from the same seed must produce the
// same hash; --check-determinism keeps every event of both runs and reports the
// first one that differs. Text lines (--trace FILE, golden scripts) are made
// only when a sink is set, since describing messages is expensive.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/messages.h"

namespace synod::sim {

enum class EventKind : std::uint8_t { Deliver, Tick, Request, Commit, Crash, Restart, Refused, Fault };
std::string_view to_string(EventKind kind);

struct TraceEvent {
  TimeMs at = 0;
  EventKind kind = EventKind::Fault;
  std::uint32_t a = 0;  // the acting instance (the receiver of a delivery)
  std::uint32_t b = 0;  // the other party (the sender), a height, or a fault code
  std::uint64_t detail = 0;  // a fingerprint of the message, block or fault
  bool operator==(const TraceEvent&) const = default;
};
std::string to_string(const TraceEvent& event);

// A cheap fingerprint of a message: its kind, round and the leading bytes of
// its id or signature. Enough to tell two different messages apart.
std::uint64_t fingerprint(const Message& message);
std::uint64_t fingerprint(const BlockId& id);

class Trace {
 public:
  void record(const TraceEvent& event);
  // Text for the sink, made only if there is one.
  void line(const std::function<std::string()>& text) const;
  void set_sink(std::function<void(const std::string&)> sink) { sink_ = std::move(sink); }
  bool has_sink() const { return static_cast<bool>(sink_); }
  void set_keep(bool keep) { keep_ = keep; }

  std::uint64_t hash() const { return hash_; }
  std::uint64_t count() const { return count_; }
  const std::vector<TraceEvent>& events() const { return events_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::uint64_t count_ = 0;
  bool keep_ = false;
  std::vector<TraceEvent> events_;
  std::function<void(const std::string&)> sink_;
};

}  // namespace synod::sim
