#include "node/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "core/crypto.h"

namespace synod::node {

NodeFiles node_files(const std::filesystem::path& dir, const PublicKey& key) {
  NodeFiles f;
  f.dir = dir;
  f.name = hex(sha256(key.view()).view());
  f.ledger = dir / (f.name + ".mdb");
  f.incoming = dir / (f.name + ".mdb.restore");
  f.safety = dir / (f.name + ".safety");
  f.lock = dir / (f.name + ".lock");
  f.backups = dir / "backups";
  return f;
}

std::filesystem::path default_data_dir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "synod";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".local" / "share" / "synod";
}

void stop_process(std::string_view reason) {
  std::fprintf(stderr, "synod: stopping: %.*s\n", static_cast<int>(reason.size()), reason.data());
  std::fflush(stderr);
  // Exit at once, as a crash would (no destructor writes anything), but with
  // a status, not a signal: a supervisor restarts it, and the reason is logged.
  std::_Exit(1);
}

StoreError io_error(std::string_view call, const std::filesystem::path& path, int err) {
  return StoreError{StoreErrorKind::Io, std::string(call) + " " + path.string() + ": " + std::strerror(err)};
}

StoreError space_error(std::string_view call, const std::filesystem::path& path, std::uintmax_t needed) {
  StoreError e = io_error(call, path, ENOSPC);
  struct statvfs fs {};
  const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (::statvfs(folder.c_str(), &fs) == 0) {
    e.detail += " (" + std::to_string(static_cast<std::uintmax_t>(fs.f_bavail) * fs.f_frsize) + " bytes free, " +
                std::to_string(needed) + " needed)";
  }
  return e;
}

std::expected<void, StoreError> copy_file_private(const std::filesystem::path& from, const std::filesystem::path& to) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return std::unexpected(io_error("open", from, errno));
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return std::unexpected(io_error("create", to, err));
  }
  std::optional<StoreError> failed;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = io_error("read", from, errno);
      break;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        const int err = errno;
        struct stat st {};
        failed = err == ENOSPC && ::fstat(in, &st) == 0 ? space_error("write", to, static_cast<std::uintmax_t>(st.st_size))
                                                         : io_error("write", to, err);
        break;
      }
      done += w;
    }
    if (failed) break;
  }
  if (!failed && ::fsync(out) != 0) failed = io_error("fsync", to, errno);
  ::close(in);
  ::close(out);
  if (failed) {
    ::unlink(to.c_str());
    return std::unexpected(*failed);
  }
  return {};
}

std::expected<std::optional<Bytes>, StoreError> read_small_file(const std::filesystem::path& path,
                                                                std::size_t bytes_max) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Bytes>{};
    return std::unexpected(io_error("open", path, errno));
  }
  Bytes out;
  std::uint8_t buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return std::unexpected(io_error("read", path, err));
    }
    if (n == 0) break;
    out.insert(out.end(), buffer, buffer + n);
    if (out.size() > bytes_max) {
      ::close(fd);
      return std::unexpected(StoreError{StoreErrorKind::Io, path.string() + ": larger than " +
                                                                std::to_string(bytes_max) + " bytes"});
    }
  }
  ::close(fd);
  return std::optional<Bytes>(std::move(out));
}

void fsync_path(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) stop_process("cannot open " + path.string() + " to fsync it: " + std::strerror(errno));
  if (::fsync(fd) != 0) stop_process("fsync of " + path.string() + " failed: " + std::strerror(errno));
  ::close(fd);
}

void write_file_atomically(const std::filesystem::path& path, ByteView bytes) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) stop_process("cannot create " + tmp.string() + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) stop_process("write to " + tmp.string() + " failed: " + std::strerror(errno));
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) stop_process("fsync of " + tmp.string() + " failed: " + std::strerror(errno));
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    stop_process("rename " + tmp.string() + " to " + path.string() + " failed: " + std::strerror(errno));
  }
  // The rename is durable only once the folder's entry is.
  fsync_path(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

std::expected<FileLock, StoreError> FileLock::acquire(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(io_error("open", path, errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return std::unexpected(StoreError{StoreErrorKind::Locked, path.string() + " is held by another process"});
    }
    return std::unexpected(io_error("flock", path, err));
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace synod::node
