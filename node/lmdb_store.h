// LmdbStore: the node's Store. The ledger (blocks, QCs, the committed chain by
// height, account state, stored values, the transaction index, metadata) lives
// in one LMDB file; the safety record lives in its own small file beside it
// (node/safety_file.h), so that restoring a ledger backup never rolls it back.
// One LMDB write transaction per committed block applies the block's state
// changes and records the commit together; LMDB fsyncs on commit. Every record
// is checksummed (core/records.h) and load() checks each one and the chain's
// links; with verify_at_open, opening first checks every byte against the
// chain in a child process (docs/storage.md, Checked at every start). Opening refuses, without modifying anything, a ledger that is
// truncated, of another chain or node, or of a newer schema. With pruning on,
// only the newest bodies are kept, and load() hands back the ledger state
// below them instead of the blocks (docs/storage.md, Pruning). The data folder
// is locked while the store is open. Single-threaded, except that a backup
// (copy_ledger) may run on another thread while the node commits.
#pragma once

#include <filesystem>
#include <memory>

#include "core/ledger.h"
#include "core/store.h"
#include "node/files.h"

namespace synod::node {

// Pruning moves at most this many bodies per commit, so that turning it on for
// a long chain spreads the work over many commits.
inline constexpr std::size_t prune_blocks_per_commit_max = 64;

struct LmdbOptions {
  // Address space reserved for the ledger; the file grows only with what is
  // written. LMDB cannot grow past it without a restart.
  std::size_t map_bytes_max = std::size_t{1} << 40;
  // Pruning (docs/storage.md): keep the bodies of the newest `blocks_kept`
  // committed blocks only; headers and state are always kept. 0 keeps all.
  std::size_t blocks_kept = 0;
  // Check an existing ledger before trusting any of it, as a restore checks a
  // backup (inspect_ledger_isolated with the genesis): every page of every
  // table in a child process, every record, every state root, and every
  // stored account, value and index entry against the replayed chain. The
  // server sets it; tests that reopen stores many times leave it off.
  bool verify_at_open = false;
};

// What a ledger file says about itself, read without changing it.
struct LedgerSummary {
  std::uint32_t schema_version = 0;
  ChainId chain;
  BlockId genesis_block;
  PublicKey node;
  ChainParams params;
  Height committed_height;
  Height pruned_height;  // bodies at and below it are pruned; 0 when none are
};

class LmdbStore final : public Store {
 public:
  // Opens the ledger and safety record of `node_key` in `dir`, creating both on
  // a first start. Refuses with Locked while another process has them open.
  static std::expected<std::unique_ptr<LmdbStore>, StoreError> open(const std::filesystem::path& dir,
                                                                    const Genesis& genesis,
                                                                    const PublicKey& node_key,
                                                                    LmdbOptions options = {});
  ~LmdbStore() override;
  LmdbStore(const LmdbStore&) = delete;
  LmdbStore& operator=(const LmdbStore&) = delete;

  void save_safety(const SafetyRecord& record) override;
  void save_blocks(const std::vector<BlockPtr>& blocks) override;
  void save_commits(const std::vector<CommittedBlock>& commits) override;
  std::expected<Recovery, StoreError> load() const override;

  // Client reads, from the durable state (never ahead of what was acknowledged).
  Height committed_height() const override;
  std::optional<Account> account(const PublicKey& key) const;
  std::optional<Bytes> value(const PublicKey& owner, ByteView key) const;
  std::optional<TxLocation> find_tx(const TxHash& hash) const;
  // A committed block, 0 < height <= committed_height(); Pruned below the kept bodies.
  std::expected<CommittedBlock, StoreError> committed_block(Height height) const override;

  // An online, consistent, compacted copy of the ledger into `file`, which must
  // not exist; the copy is fsynced before this returns. Returns its size.
  std::expected<std::uintmax_t, StoreError> copy_ledger(const std::filesystem::path& file) const;

  const NodeFiles& files() const { return files_; }

  // For the conformance suite: the next commit's write transaction is
  // abandoned after the block's state changes are written and before the
  // commit record, as a crash inside it would leave it; the store then
  // ignores every call, like a dead process, until it is reopened.
  void crash_inside_next_commit() { crash_inside_commit_ = true; }

 // The LMDB environment and its tables; defined in lmdb_store.cc only.
  struct Env;

 private:
  LmdbStore(NodeFiles files, const Genesis& genesis, const LmdbOptions& options, std::unique_ptr<Env> env,
            FileLock lock);
  void commit_one(const CommittedBlock& c);

  NodeFiles files_;
  ChainId chain_;
  ChainParams params_;
  BlockId genesis_block_;
  std::size_t blocks_kept_;
  std::unique_ptr<Env> env_;
  FileLock lock_;
  Height committed_height_;
  std::optional<Round> saved_voted_round_;
  bool crash_inside_commit_ = false;
  bool dead_ = false;
};

// Reads a ledger file (a backup, or a stopped node's ledger) without changing
// it: the metadata always; with `check_chain`, every committed block's
// checksum and link too, and, given `replay`, every state root by executing
// the chain from that genesis and then comparing every stored account, value
// and transaction index entry with the replayed state. Errors as
// LmdbStore::open and load() give them.
std::expected<LedgerSummary, StoreError> inspect_ledger(const std::filesystem::path& file, bool check_chain,
                                                        const Genesis* replay = nullptr);
// The same in a child process, for files nobody vouches for (a backup to
// restore): LMDB trusts its page tree, and a damaged one can make it fault;
// the fault then ends the child and is reported as corrupt_ledger. Bounded by
// `timeout_ms` (a damaged tree could also loop).
std::expected<LedgerSummary, StoreError> inspect_ledger_isolated(const std::filesystem::path& file, bool check_chain,
                                                                 const Genesis* replay = nullptr,
                                                                 std::uint64_t timeout_ms = 600'000);

// An online, compacted copy of a ledger another process may be writing (a
// running node): LMDB readers and a writer share the file safely.
std::expected<std::uintmax_t, StoreError> copy_ledger_file(const std::filesystem::path& ledger,
                                                           const std::filesystem::path& file);

// What a newer synod leaves behind: rewrites the schema version of a closed
// ledger. For the tests of SchemaTooNew only.
std::expected<void, StoreError> rewrite_schema_version(const std::filesystem::path& file, std::uint32_t version);

}  // namespace synod::node
