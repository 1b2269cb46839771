// The node's direct file operations: where its files live, durable writes of
// small files, and the data folder's lock. Each promise is stated on its
// function. An environmental failure that makes continuing unsafe (a write or
// fsync the disk refuses) stops the process with the reason: a validator that
// cannot make its record durable must not sign.
#pragma once

#include <cstddef>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/store.h"
#include "core/types.h"

namespace synod::node {

// The files of one validator in a data folder, named by the SHA-256 of its
// public key (as a conode names its database), so several validators can
// share a folder.
struct NodeFiles {
  std::filesystem::path dir;
  std::string name;               // hex SHA-256 of the public key
  std::filesystem::path ledger;   // <dir>/<name>.mdb: the LMDB ledger
  std::filesystem::path incoming;  // <ledger>.restore: a restore's copy until it takes the ledger's name
  std::filesystem::path safety;   // <dir>/<name>.safety: the safety record, apart from the ledger
  std::filesystem::path lock;     // <dir>/<name>.lock: held while a process uses the files
  std::filesystem::path backups;  // <dir>/backups: the default backup folder
};
NodeFiles node_files(const std::filesystem::path& dir, const PublicKey& key);

// $XDG_DATA_HOME/synod, else $HOME/.local/share/synod.
std::filesystem::path default_data_dir();

// Stops the process at once with exit status 1, the reason on stderr: for
// failures after which the node cannot stay safe (a write that cannot be made
// durable). Nothing runs after it, as after a crash; the store's contract
// makes that safe.
[[noreturn]] void stop_process(std::string_view reason);

StoreError io_error(std::string_view call, const std::filesystem::path& path, int err);
// For ENOSPC: "... No space left on device (N bytes free, M needed)", the free
// space read from the filesystem holding `path`.
StoreError space_error(std::string_view call, const std::filesystem::path& path, std::uintmax_t needed);

// A whole small file; nullopt if it does not exist. Larger than `bytes_max`:
// CorruptSafetyRecord-style callers decide; this returns an Io error naming it.
std::expected<std::optional<Bytes>, StoreError> read_small_file(const std::filesystem::path& path,
                                                                std::size_t bytes_max);

// Writes `bytes` to `path` so that after a crash the file holds either its old
// content or all of `bytes`: a temporary file, fsync, rename, fsync of the
// folder. Stops the process if the disk refuses.
void write_file_atomically(const std::filesystem::path& path, ByteView bytes);

void fsync_path(const std::filesystem::path& path);  // a file or a folder; stops the process on failure

// Copies `from` into a new file `to` (never over an existing one) with mode
// 0600, and fsyncs it. On failure `to` is removed; a full disk is named as such.
std::expected<void, StoreError> copy_file_private(const std::filesystem::path& from, const std::filesystem::path& to);

// An exclusive advisory lock on a file, released when the object dies or the
// process does (SIGKILL included).
class FileLock {
 public:
  static std::expected<FileLock, StoreError> acquire(const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace synod::node
