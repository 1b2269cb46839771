// Backups of the ledger: online compacted copies (LMDB's copy with
// compaction), a schedule with retention, a listing, and an offline restore
// that verifies the backup first and never touches the safety record. The
// scheduling decision is pure (plan_backups takes the time as an argument);
// only take_backup and restore_backup touch files. Backups hold the ledger
// only: the safety record stays in the data folder, always newer than any
// backup, so a restored node cannot sign again in a round it signed in.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "node/lmdb_store.h"

namespace synod::node {

inline constexpr TimeMs backup_interval_ms_default = 24 * 60 * 60 * 1000;

struct BackupPolicy {
  std::filesystem::path folder;  // NodeFiles::backups unless configured
  TimeMs interval_ms = backup_interval_ms_default;
  std::size_t kept_max = 7;      // the newest this many are kept
};

struct BackupInfo {
  std::filesystem::path file;
  TimeMs time_ms = 0;  // Unix time the backup was taken, from its name
  std::uintmax_t size_bytes = 0;
};

// "<first 16 hex digits of the node's file name>-YYYYMMDDTHHMMSS.mmmZ.mdb", UTC.
std::string backup_file_name(const NodeFiles& files, TimeMs time_ms);
std::string format_utc(TimeMs time_ms);

// This node's backups in `folder`, oldest first. Only regular files named as
// this node's backups (with a real date) that start like an LMDB file are
// listed: unfinished copies, other nodes' backups and junk are not. A folder
// that does not exist or cannot be read is an Io error naming it.
std::expected<std::vector<BackupInfo>, StoreError> list_backups(const std::filesystem::path& folder,
                                                                const NodeFiles& files);

// What the schedule does at `now_ms`: take a backup when none exists or the
// newest is at least interval_ms old, and remove the oldest so that at most
// kept_max remain, the new one included.
struct BackupPlan {
  bool take = false;
  std::vector<std::filesystem::path> remove;
};
BackupPlan plan_backups(const BackupPolicy& policy, const std::vector<BackupInfo>& existing, TimeMs now_ms);

// A backup now, from the open store (the node's own scheduler) or from the
// ledger file while another process has it open (`synod backup`).
std::expected<BackupInfo, StoreError> take_backup(const LmdbStore& store, const std::filesystem::path& folder,
                                                  TimeMs now_ms);
std::expected<BackupInfo, StoreError> take_backup(const NodeFiles& files, const std::filesystem::path& folder,
                                                  TimeMs now_ms);

// Applies plan_backups; returns the backup taken, if one was due.
std::expected<std::optional<BackupInfo>, StoreError> run_backup_schedule(const LmdbStore& store,
                                                                        const BackupPolicy& policy, TimeMs now_ms);

// What a restore finds before it changes anything (`synod restore --dry-run`
// prints it): the backup, the ledger it would replace, and the safety record
// that stays.
struct RestorePlan {
  LedgerSummary backup;
  std::optional<LedgerSummary> current;        // the ledger it replaces; none on a new server
  std::optional<StoreError> current_unreadable;  // a ledger there that fails its checks
  std::uint64_t blocks_discarded = 0;          // committed above the backup's height; peers send them again
  enum class Safety : std::uint8_t { Valid, Missing, Unusable };
  Safety safety = Safety::Missing;             // the record kept as it is: Valid, or else the AmnesiaRule applies
  std::optional<SafetyRecord> safety_record;
  std::optional<StoreError> safety_problem;    // why it is Unusable
};

struct RestoreReport {
  RestorePlan plan;
  std::filesystem::path replaced_kept_as;  // the replaced ledger, renamed beside it; empty if there was none
};

// Offline: refuses with Locked while the node runs. Verifies the backup (its
// metadata, chain id and node key, every record's checksum and link, and the
// state roots when `genesis` is given) and reads what it would replace;
// changes nothing.
std::expected<RestorePlan, StoreError> plan_restore(const std::filesystem::path& backup,
                                                    const std::filesystem::path& data_dir, const ChainId& chain,
                                                    const PublicKey& node, const Genesis* genesis = nullptr);
// The plan, carried out: the backup is copied beside the ledger (mode 0600)
// and fsynced; the current ledger, if any, is renamed to
// `<ledger>.replaced-<UTC time>`; the copy takes its name. The safety record
// file is left as it is. On any failure nothing of the data folder changes
// and nothing is left behind.
std::expected<RestoreReport, StoreError> restore_backup(const std::filesystem::path& backup,
                                                        const std::filesystem::path& data_dir, const ChainId& chain,
                                                        const PublicKey& node, TimeMs now_ms,
                                                        const Genesis* genesis = nullptr);

}  // namespace synod::node
