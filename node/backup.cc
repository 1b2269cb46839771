#include "node/backup.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "core/assert.h"
#include "node/safety_file.h"

namespace synod::node {

namespace {

constexpr std::string_view backup_suffix = ".mdb";
constexpr std::size_t name_prefix_chars = 16;

std::string prefix_of(const NodeFiles& files) { return files.name.substr(0, name_prefix_chars) + "-"; }

std::optional<TimeMs> parse_utc(std::string_view text) {
  // YYYYMMDDTHHMMSS.mmmZ
  if (text.size() != 20) return std::nullopt;
  std::tm tm{};
  int ms = 0;
  char t = 0, z = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%4d%2d%2d%c%2d%2d%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &t, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms, &z) != 9 || t != 'T' || z != 'Z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t seconds = timegm(&tm);
  if (seconds < 0) return std::nullopt;
  const TimeMs time = static_cast<TimeMs>(seconds) * 1000 + static_cast<TimeMs>(ms);
  // timegm normalises month 13 or hour 25 into another date: only a name
  // that is exactly the date it stands for is one.
  if (format_utc(time) != text) return std::nullopt;
  return time;
}

// An LMDB file begins with a meta page: the page flags at byte 10 say so
// (P_META) and the meta's magic follows the 16-byte page header.
bool looks_like_lmdb(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<unsigned char, 20> head{};
  if (!in.read(reinterpret_cast<char*>(head.data()), head.size())) return false;
  constexpr std::uint16_t page_meta = 0x08;
  constexpr std::uint32_t magic = 0xBEEFC0DE;
  const std::uint16_t flags = static_cast<std::uint16_t>(head[10] | head[11] << 8);
  const std::uint32_t found = head[16] | head[17] << 8 | head[18] << 16 | static_cast<std::uint32_t>(head[19]) << 24;
  return (flags & page_meta) != 0 && found == magic;
}

std::expected<BackupInfo, StoreError> finish_backup(const std::filesystem::path& partial,
                                                    const std::filesystem::path& final_file, TimeMs now_ms,
                                                    std::expected<std::uintmax_t, StoreError> copied) {
  if (!copied) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    return std::unexpected(copied.error());
  }
  std::error_code ec;
  std::filesystem::rename(partial, final_file, ec);
  if (ec) return std::unexpected(io_error("rename", partial, ec.value()));
  fsync_path(final_file.parent_path());
  return BackupInfo{final_file, now_ms, *copied};
}

// A copy in progress holds a lock on its `.partial` file (copy_ledger) and
// writes it; one that nobody holds and that nobody wrote for a minute was left
// by a copy that was killed, and only wastes space. (The minute covers the
// moments a live copy does not hold its lock: just after creating the file,
// and between closing and renaming it.)
void remove_abandoned_copies(const std::filesystem::path& folder, const std::string& prefix) {
  constexpr auto untouched_min = std::chrono::minutes(1);
  std::error_code ec;
  std::filesystem::directory_iterator entries(folder, ec);
  if (ec) return;  // the copy that follows reports the folder's trouble
  for (const auto& entry : entries) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(std::string(backup_suffix) + ".partial")) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    const auto written = entry.last_write_time(ec);
    const bool old = !ec && std::filesystem::file_time_type::clock::now() - written > untouched_min;
    if (old && ::flock(fd, LOCK_EX | LOCK_NB) == 0) ::unlink(entry.path().c_str());
    ::close(fd);
  }
}

template <class CopyTo>
std::expected<BackupInfo, StoreError> backup_with(const NodeFiles& files, const std::filesystem::path& folder,
                                                  TimeMs now_ms, CopyTo copy_to) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return std::unexpected(io_error("mkdir", folder, ec.value()));
  const std::filesystem::path final_file = folder / backup_file_name(files, now_ms);
  if (std::filesystem::exists(final_file, ec)) {
    return std::unexpected(StoreError{StoreErrorKind::Io, final_file.string() + " exists already"});
  }
  remove_abandoned_copies(folder, prefix_of(files));
  const std::filesystem::path partial = final_file.string() + ".partial";
  std::filesystem::remove(partial, ec);
  return finish_backup(partial, final_file, now_ms, copy_to(partial));
}

}  // namespace

std::string format_utc(TimeMs time_ms) {
  const auto seconds = static_cast<std::time_t>(time_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[96];  // room for any int the formatter could be handed
  std::snprintf(out, sizeof out, "%04d%02d%02dT%02d%02d%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(time_ms % 1000));
  return out;
}

std::string backup_file_name(const NodeFiles& files, TimeMs time_ms) {
  return prefix_of(files) + format_utc(time_ms) + std::string(backup_suffix);
}

std::expected<std::vector<BackupInfo>, StoreError> list_backups(const std::filesystem::path& folder,
                                                                const NodeFiles& files) {
  std::error_code ec;
  if (!std::filesystem::exists(folder, ec)) {
    return std::unexpected(StoreError{StoreErrorKind::Io, "no backup folder " + folder.string()});
  }
  if (!std::filesystem::is_directory(folder, ec)) {
    return std::unexpected(StoreError{StoreErrorKind::Io, folder.string() + " is not a folder"});
  }
  std::filesystem::directory_iterator entries(folder, ec);
  if (ec) return std::unexpected(io_error("opendir", folder, ec.value()));
  std::vector<BackupInfo> out;
  const std::string prefix = prefix_of(files);
  for (const auto& entry : entries) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(backup_suffix) || !entry.is_regular_file(ec)) continue;
    const auto time = parse_utc(std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - backup_suffix.size()));
    if (!time || !looks_like_lmdb(entry.path())) continue;
    const std::uintmax_t size = entry.file_size(ec);
    if (ec) continue;
    out.push_back(BackupInfo{entry.path(), *time, size});
  }
  std::sort(out.begin(), out.end(), [](const BackupInfo& a, const BackupInfo& b) { return a.time_ms < b.time_ms; });
  return out;
}

BackupPlan plan_backups(const BackupPolicy& policy, const std::vector<BackupInfo>& existing, TimeMs now_ms) {
  SYNOD_ASSERT(policy.kept_max > 0);
  SYNOD_ASSERT(std::is_sorted(existing.begin(), existing.end(),
                              [](const BackupInfo& a, const BackupInfo& b) { return a.time_ms < b.time_ms; }));
  BackupPlan plan;
  plan.take = existing.empty() || now_ms >= existing.back().time_ms + policy.interval_ms;
  const std::size_t total = existing.size() + (plan.take ? 1 : 0);
  for (std::size_t i = 0; i + policy.kept_max < total && i < existing.size(); ++i) plan.remove.push_back(existing[i].file);
  return plan;
}

std::expected<BackupInfo, StoreError> take_backup(const LmdbStore& store, const std::filesystem::path& folder,
                                                  TimeMs now_ms) {
  return backup_with(store.files(), folder, now_ms,
                     [&](const std::filesystem::path& to) { return store.copy_ledger(to); });
}

std::expected<BackupInfo, StoreError> take_backup(const NodeFiles& files, const std::filesystem::path& folder,
                                                  TimeMs now_ms) {
  return backup_with(files, folder, now_ms,
                     [&](const std::filesystem::path& to) { return copy_ledger_file(files.ledger, to); });
}

std::expected<std::optional<BackupInfo>, StoreError> run_backup_schedule(const LmdbStore& store,
                                                                        const BackupPolicy& policy, TimeMs now_ms) {
  // No folder yet: the first backup makes it.
  std::error_code ec;
  std::vector<BackupInfo> existing;
  if (std::filesystem::exists(policy.folder, ec)) {
    auto listed = list_backups(policy.folder, store.files());
    if (!listed) return std::unexpected(listed.error());
    existing = std::move(*listed);
  }
  const BackupPlan plan = plan_backups(policy, existing, now_ms);
  std::optional<BackupInfo> taken;
  if (plan.take) {
    auto backup = take_backup(store, policy.folder, now_ms);
    if (!backup) return std::unexpected(backup.error());
    taken = *backup;
  }
  // Old backups go only once the new one is safely written.
  for (const std::filesystem::path& old : plan.remove) {
    std::filesystem::remove(old, ec);
    if (ec) return std::unexpected(io_error("remove", old, ec.value()));
  }
  return taken;
}

namespace {

// The backup's summary, checked for this chain and validator.
std::expected<LedgerSummary, StoreError> check_backup(const std::filesystem::path& backup, const ChainId& chain,
                                                      const PublicKey& node, const Genesis* genesis) {
  auto summary = inspect_ledger_isolated(backup, true, genesis);
  if (!summary) return std::unexpected(summary.error());
  if (summary->chain != chain) {
    return std::unexpected(StoreError{StoreErrorKind::WrongChain, backup.string() + ": chain " + hex(summary->chain.view()) +
                                                                      ", expected " + hex(chain.view())});
  }
  if (summary->node != node) {
    return std::unexpected(StoreError{StoreErrorKind::WrongNode, backup.string() + ": ledger of validator " +
                                                                     hex(summary->node.view())});
  }
  return *summary;
}

// The plan, computed while the data folder's lock is held.
std::expected<RestorePlan, StoreError> plan_locked(const std::filesystem::path& backup, const NodeFiles& files,
                                                   const ChainId& chain, const PublicKey& node, const Genesis* genesis) {
  auto summary = check_backup(backup, chain, node, genesis);
  if (!summary) return std::unexpected(summary.error());
  RestorePlan plan;
  plan.backup = *summary;
  std::error_code ec;
  if (std::filesystem::exists(files.ledger, ec)) {
    auto current = inspect_ledger_isolated(files.ledger, false);
    if (current) {
      plan.current = *current;
      if (current->committed_height > summary->committed_height) {
        plan.blocks_discarded = current->committed_height.value - summary->committed_height.value;
      }
    } else {
      plan.current_unreadable = current.error();
    }
  }
  auto record = read_safety_file(files.safety);
  if (!record) {
    plan.safety = RestorePlan::Safety::Unusable;
    plan.safety_problem = record.error();
  } else if (*record) {
    plan.safety = RestorePlan::Safety::Valid;
    plan.safety_record = **record;
  }
  return plan;
}

// Removes a file on scope exit unless released: what a failed step leaves.
class Leftover {
 public:
  explicit Leftover(std::filesystem::path file) : file_(std::move(file)) {}
  ~Leftover() {
    if (file_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove(file_, ignored);
  }
  Leftover(const Leftover&) = delete;
  Leftover& operator=(const Leftover&) = delete;
  void release() { file_.clear(); }

 private:
  std::filesystem::path file_;
};

// The data folder's lock, for a restore; the lock file is removed again when
// it did not exist before, unless keep_file() (a restore that succeeded).
class FolderLock {
 public:
  static std::expected<std::unique_ptr<FolderLock>, StoreError> acquire(const NodeFiles& files) {
    std::error_code ec;
    const bool existed = std::filesystem::exists(files.lock, ec);
    auto made = std::make_unique<FolderLock>(existed ? std::filesystem::path() : files.lock);
    auto lock = FileLock::acquire(files.lock);
    if (!lock) {
      if (lock.error().kind == StoreErrorKind::Locked) made->keep_file();  // the running node's
      return std::unexpected(lock.error());
    }
    made->lock_.emplace(std::move(*lock));
    return made;
  }
  explicit FolderLock(std::filesystem::path created) : created_(std::move(created)) {}
  void keep_file() { created_.release(); }

 private:
  Leftover created_;
  std::optional<FileLock> lock_;  // declared last: unlocked before created_ removes the file
};

}  // namespace

std::expected<RestorePlan, StoreError> plan_restore(const std::filesystem::path& backup,
                                                    const std::filesystem::path& data_dir, const ChainId& chain,
                                                    const PublicKey& node, const Genesis* genesis) {
  const NodeFiles files = node_files(data_dir, node);
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    // Nothing to lock and nothing to replace; the backup is still checked.
    auto summary = check_backup(backup, chain, node, genesis);
    if (!summary) return std::unexpected(summary.error());
    RestorePlan plan;
    plan.backup = *summary;
    return plan;
  }
  auto lock = FolderLock::acquire(files);
  if (!lock) return std::unexpected(lock.error());  // Locked: the node runs
  return plan_locked(backup, files, chain, node, genesis);
}

std::expected<RestoreReport, StoreError> restore_backup(const std::filesystem::path& backup,
                                                        const std::filesystem::path& data_dir, const ChainId& chain,
                                                        const PublicKey& node, TimeMs now_ms, const Genesis* genesis) {
  std::error_code ec;
  const bool new_folder = !std::filesystem::exists(data_dir, ec);
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return std::unexpected(io_error("mkdir", data_dir, ec.value()));
  const NodeFiles files = node_files(data_dir, node);
  auto lock = FolderLock::acquire(files);
  if (!lock) return std::unexpected(lock.error());  // Locked: the node runs
  auto plan = plan_locked(backup, files, chain, node, genesis);
  if (!plan) {
    if (new_folder) {
      (*lock)->keep_file();
      std::filesystem::remove_all(data_dir, ec);
    }
    return std::unexpected(plan.error());
  }

  // Killed at any moment, the ledger's name holds the old file or the new one,
  // never nothing: the old file gets its second name (a hard link) before the
  // copy takes the ledger's name in one rename. A copy left by a killed restore
  // is removed by the next restore or start.
  std::filesystem::remove(files.incoming, ec);
  Leftover incoming_file(files.incoming);
  if (auto copied = copy_file_private(backup, files.incoming); !copied) return std::unexpected(copied.error());
  RestoreReport report{*plan, {}};
  if (std::filesystem::exists(files.ledger, ec)) {
    report.replaced_kept_as = files.ledger.string() + ".replaced-" + format_utc(now_ms);
    std::filesystem::create_hard_link(files.ledger, report.replaced_kept_as, ec);
    if (ec) return std::unexpected(io_error("link", files.ledger, ec.value()));
  }
  std::filesystem::rename(files.incoming, files.ledger, ec);
  if (ec) {
    const int err = ec.value();
    // The old ledger never left its name: only its second name goes.
    if (!report.replaced_kept_as.empty()) std::filesystem::remove(report.replaced_kept_as, ec);
    return std::unexpected(io_error("rename", files.incoming, err));
  }
  incoming_file.release();
  fsync_path(data_dir);
  // LMDB's reader table described the old file.
  std::filesystem::remove(files.ledger.string() + "-lock", ec);
  (*lock)->keep_file();
  return report;
}

}  // namespace synod::node
