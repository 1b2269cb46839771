// The interfaces the shared driver runs over: Store (durable state), Network
// (sending), Clock (time). The node implements them with LMDB, TLS sockets
// and the system clock; the simulator with simulated disks, links and virtual
// time; tests with MemStore. Keep them narrow.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
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

// The version of the durable layout every store writes. A store refuses data
// written with a newer version (SchemaTooNew) and never rewrites it.
inline constexpr std::uint32_t store_schema_version = 1;

// Why a store could not be opened or read. Closed: each kind names one cause an
// operator can act on, and docs/storage.md lists them.
enum class StoreErrorKind : std::uint8_t {
  Io = 1,               // the OS refused (open, read, lock, map); detail names the call and errno
  Locked,               // another process holds the data folder: the node is running
  MissingSafetyRecord,  // the ledger exists but the safety record file does not
  CorruptSafetyRecord,  // the safety record fails its checks (truncated, checksum, format)
  CorruptLedger,        // the ledger is truncated, a record fails its checksum, or the chain does not link
  WrongChain,           // the ledger belongs to another chain (chain id or genesis block differ)
  WrongNode,            // the ledger belongs to another validator key
  SchemaTooNew,         // written by a newer synod: refused, never downgraded
  Pruned,               // asked for a block body below the kept window (headers and state are kept)
};
std::string_view to_string(StoreErrorKind kind);

struct StoreError {
  StoreErrorKind kind;
  std::string detail;  // for the operator: which file, which height, which check
};
std::string to_string(const StoreError& error);

// Where the kept chain starts in a store that pruned the block bodies below it
// (docs/storage.md, Pruning): the id of the last pruned block and the ledger
// state right after it.
struct PrunedBase {
  BlockId block;      // the parent of the oldest kept block
  LedgerState state;  // at block's height, with the state root stored for it
};

// What a replica restarts from.
struct Recovery {
  std::optional<SafetyRecord> safety;  // empty on first start, or when lost
  // By height: from height 1, or from base->state.height + 1 when pruned (then never empty).
  std::vector<CommittedBlock> committed;
  std::vector<BlockPtr> blocks;  // uncommitted blocks, in the order they were saved
  // Set when the node ran before but its safety record is missing or corrupt:
  // the replica then applies the AmnesiaRule (docs/protocol.md) and says why.
  std::optional<StoreError> safety_lost;
  std::optional<PrunedBase> base;  // empty: `committed` starts at genesis
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
  // Everything the store holds, checked (checksums, chain links) on the way
  // out. A lost safety record is not an error (Recovery::safety_lost); data
  // that cannot be trusted, or that belongs to another chain, node or a newer
  // schema, is.
  virtual std::expected<Recovery, StoreError> load() const = 0;

  // Reads for peers catching up below the replica's memory window
  // (docs/protocol.md, Catch-up), from what is durable.
  virtual Height committed_height() const = 0;
  // 0 < height <= committed_height(); Pruned below the kept bodies.
  virtual std::expected<CommittedBlock, StoreError> committed_block(Height height) const = 0;
  // Committed blocks from `from` to `until` (inclusive, both at most
  // committed_height()), each with the QC that certifies it: at most
  // `blocks_max`, and no more than `bytes_max` transaction bytes past the
  // first block, so that a response fits in one frame. The first error ends it.
  std::expected<std::vector<CommittedBlock>, StoreError> committed_range(Height from, Height until,
                                                                          std::size_t blocks_max,
                                                                          std::size_t bytes_max) const;
};

class Network {
 public:
  virtual ~Network() = default;
  // Best effort: messages may be lost, delayed, duplicated or reordered. A
  // message to the sender itself must come back as a later input, never
  // inside this call (the driver is not re-entrant), and is never lost.
  virtual void send(NodeId to, const MessagePtr& message) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs now() const = 0;
};

}  // namespace synod
