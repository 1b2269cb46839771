// The interfaces the shared driver runs over: Store (durable state), Network
// (sending), Clock (time). The node implements them with LMDB, TLS sockets
// and the system clock; the simulator with simulated disks, links and virtual
// time; tests with MemStore. Keep them narrow.
#pragma once

#include <optional>
#include <vector>

#include "core/ledger.h"
#include "core/messages.h"
#include "core/safety_rules.h"

namespace synod {

struct CommittedBlock {
  BlockPtr block;
  BlockOutcome outcome;
  QuorumCert qc;  // certifies `block`: peers catching up verify the chain with it
};

// What a replica restarts from.
struct Recovery {
  std::optional<SafetyRecord> safety;  // empty on first start
  std::vector<CommittedBlock> committed;  // by height, from height 1
  std::vector<BlockPtr> blocks;  // uncommitted blocks, in the order they were saved
};

// Durability contract: when a call returns, its effect survives a crash of the
// process (and, for real disks, of the machine). save_safety is atomic: after a
// crash, load() sees the old record or the new one, never a mix.
class Store {
 public:
  virtual ~Store() = default;
  virtual void save_safety(const SafetyRecord& record) = 0;
  virtual void save_blocks(const std::vector<BlockPtr>& blocks) = 0;
  // Commits arrive in height order, one height after another.
  virtual void save_commits(const std::vector<CommittedBlock>& commits) = 0;
  virtual Recovery load() const = 0;
};

class Network {
 public:
  virtual ~Network() = default;
  // Best effort: messages may be lost, delayed, duplicated or reordered.
  virtual void send(NodeId to, const MessagePtr& message) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs now() const = 0;
};

}  // namespace synod
