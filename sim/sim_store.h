// SimStore: the core Store on a simulated disk. Every save is one write plus
// an fsync that takes DiskFaults::fsync_ms of virtual time; the writing
// process sleeps meanwhile, and if it crashes before the fsync completes the
// write is lost (the safety record, written to a temporary file and renamed,
// keeps its old value) or, for appended records, torn. Records carry their
// own checksum: the safety record its sealed form (core/records.h), a block
// its id, which load() recomputes. The safety record is sealed when it is
// read back or rots, not on every write: a write lands whole or not at all,
// so the bytes are the same, and sealing is a hash per vote. load() reports a
// corrupt safety record as lost (never used), refuses a corrupt ledger with a
// StoreError, and drops a torn tail, as a log does on open.
//
// A committed record is kept without what its block already holds, as a disk
// format might: each outcome's hash is the block's own tx_hashes[i] and the
// QC is the next block's justify. Those parts are kept whole only where they
// differ, so a long run's disk holds a fixed-size record per block (the
// block itself is shared) instead of heap copies of every outcome and QC,
// and load() rebuilds each CommittedBlock exactly as it was saved.
#pragma once

#include <functional>
#include <optional>

#include "core/store.h"
#include "sim/scheduler.h"

namespace synod::sim {

// Thrown through the driver to unwind a simulated process that died while it
// waited for its disk; caught at the top of the process's fiber.
struct ProcessCrashed {};

struct DiskFaults {
  TimeMs fsync_ms = 0;
  double torn_write = 0;  // chance that an append cut short by a crash leaves a torn record
};

struct DiskStats {
  std::uint64_t writes = 0;
  std::uint64_t lost_writes = 0;
  std::uint64_t torn_writes = 0;
  std::uint64_t torn_dropped = 0;  // torn records load() found and dropped
};

class SimStore final : public Store {
 public:
  // Blocks the writer for `duration_ms` of virtual time; false if its process
  // crashed meanwhile. Without one, writes are durable at once.
  using Sync = std::function<bool(TimeMs duration_ms)>;

  // `digest` and `chain` recompute block ids to find torn writes.
  SimStore(Digest digest, const ChainId& chain, std::uint64_t seed);

  void set_disk(const DiskFaults& faults, Sync sync);
  const DiskFaults& disk() const { return faults_; }

  void save_safety(const SafetyRecord& record) override;
  void save_blocks(const std::vector<BlockPtr>& blocks) override;
  void save_commits(const std::vector<CommittedBlock>& commits) override;
  std::expected<Recovery, StoreError> load() const override;

  // Bit rot: flips one byte of the durable safety record, which load() must
  // catch. False if there is none.
  bool corrupt_safety_record();
  // The durable committed chain, torn tail included until the next load.
  // Rebuilt on each call: for tests and reports, not for a loop.
  std::vector<CommittedBlock> committed() const;
  Height committed_height() const override;
  std::expected<CommittedBlock, StoreError> committed_block(Height height) const override;
  const DiskStats& stats() const { return stats_; }

  struct Record {
    BlockPtr block;
    StateRoot state_root;
    // Empty when every transaction executed and each outcome's hash is the
    // block's own; else the outcomes whole.
    std::vector<TxOutcome> outcomes;
    // Empty once the next record's block carries an equal justify.
    std::optional<QuorumCert> qc;
  };
  // A backup: the durable ledger (the committed chain and the blocks not yet
  // committed), never the safety record. restore() replaces the ledger by
  // one and keeps the safety record, as `synod restore` does
  // (docs/storage.md); the process must be down.
  struct Backup {
    std::vector<Record> committed;
    std::vector<BlockPtr> blocks;
  };
  Backup backup() const { return Backup{committed_, blocks_}; }
  void restore(const Backup& backup);

 private:
  // Waits for the fsync; on a crash, keeps `survivors` of `count` appended
  // records (the next one torn, by chance) and throws ProcessCrashed.
  void sync(std::size_t count, const std::function<void(std::size_t survivors, bool torn)>& keep);

  Digest digest_;
  ChainId chain_;
  Rng rng_;
  DiskFaults faults_;
  Sync sync_;
  std::optional<SafetyRecord> safety_;  // the durable record, as written
  std::optional<Bytes> rotten_safety_;  // its sealed form with a flipped byte, until the next write
  static Record record_of(const CommittedBlock& committed);
  CommittedBlock rebuild(std::size_t index) const;

  // Records as written; load() truncates a torn tail, hence mutable.
  mutable std::vector<Record> committed_;
  mutable std::vector<BlockPtr> blocks_;
  mutable DiskStats stats_;
};

}  // namespace synod::sim
