#include "node/backup.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/assert.h"

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
  return static_cast<TimeMs>(seconds) * 1000 + static_cast<TimeMs>(ms);
}

std::expected<BackupInfo, StoreError> finish_backup(const std::filesystem::path& partial,
                                                    const std::filesystem::path& final_file, TimeMs now_ms,
                                                    std::expected<std::uintmax_t, StoreError> copied) {
  if (!copied) {
    std::filesystem::remove(partial);
    return std::unexpected(copied.error());
  }
  std::error_code ec;
  std::filesystem::rename(partial, final_file, ec);
  if (ec) return std::unexpected(io_error("rename", partial, ec.value()));
  fsync_path(final_file.parent_path());
  return BackupInfo{final_file, now_ms, *copied};
}

template <class CopyTo>
std::expected<BackupInfo, StoreError> backup_with(const NodeFiles& files, const std::filesystem::path& folder,
                                                  TimeMs now_ms, CopyTo copy_to) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return std::unexpected(io_error("mkdir", folder, ec.value()));
  const std::filesystem::path final_file = folder / backup_file_name(files, now_ms);
  if (std::filesystem::exists(final_file)) {
    return std::unexpected(StoreError{StoreErrorKind::Io, final_file.string() + " exists already"});
  }
  const std::filesystem::path partial = final_file.string() + ".partial";
  std::filesystem::remove(partial);
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

std::vector<BackupInfo> list_backups(const std::filesystem::path& folder, const NodeFiles& files) {
  std::vector<BackupInfo> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) return out;
  const std::string prefix = prefix_of(files);
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(backup_suffix)) continue;
    const auto time = parse_utc(std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - backup_suffix.size()));
    if (!time) continue;
    out.push_back(BackupInfo{entry.path(), *time, entry.file_size(ec)});
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
  const BackupPlan plan = plan_backups(policy, list_backups(policy.folder, store.files()), now_ms);
  std::optional<BackupInfo> taken;
  if (plan.take) {
    auto backup = take_backup(store, policy.folder, now_ms);
    if (!backup) return std::unexpected(backup.error());
    taken = *backup;
  }
  // Old backups go only once the new one is safely written.
  for (const std::filesystem::path& old : plan.remove) {
    std::error_code ec;
    std::filesystem::remove(old, ec);
    if (ec) return std::unexpected(io_error("remove", old, ec.value()));
  }
  return taken;
}

std::expected<RestoreReport, StoreError> restore_backup(const std::filesystem::path& backup,
                                                        const std::filesystem::path& data_dir, const ChainId& chain,
                                                        const PublicKey& node, const Genesis* genesis) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return std::unexpected(io_error("mkdir", data_dir, ec.value()));
  const NodeFiles files = node_files(data_dir, node);
  auto lock = FileLock::acquire(files.lock);
  if (!lock) return std::unexpected(lock.error());  // Locked: the node runs

  auto summary = inspect_ledger(backup, true, genesis);
  if (!summary) return std::unexpected(summary.error());
  if (summary->chain != chain) {
    return std::unexpected(StoreError{StoreErrorKind::WrongChain, backup.string() + ": chain " + hex(summary->chain.view()) +
                                                                      ", expected " + hex(chain.view())});
  }
  if (summary->node != node) {
    return std::unexpected(StoreError{StoreErrorKind::WrongNode, backup.string() + ": ledger of validator " +
                                                                     hex(summary->node.view())});
  }

  const std::filesystem::path incoming = files.ledger.string() + ".restore";
  std::filesystem::remove(incoming);
  std::filesystem::copy_file(backup, incoming, ec);
  if (ec) return std::unexpected(io_error("copy", backup, ec.value()));
  fsync_path(incoming);
  std::filesystem::rename(incoming, files.ledger, ec);
  if (ec) return std::unexpected(io_error("rename", incoming, ec.value()));
  fsync_path(data_dir);
  // LMDB's reader table described the old file.
  std::filesystem::remove(files.ledger.string() + "-lock", ec);
  return RestoreReport{*summary, std::filesystem::exists(files.safety)};
}

}  // namespace synod::node
