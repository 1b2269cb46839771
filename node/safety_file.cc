#include "node/safety_file.h"

#include "core/assert.h"

namespace synod::node {

std::expected<std::optional<SafetyRecord>, StoreError> read_safety_file(const std::filesystem::path& path) {
  auto bytes = read_small_file(path, safety_file_bytes_max);
  if (!bytes) {
    std::error_code ec;
    if (bytes.error().kind == StoreErrorKind::Io && std::filesystem::exists(path, ec) &&
        std::filesystem::file_size(path, ec) > safety_file_bytes_max && !ec) {
      return std::unexpected(StoreError{StoreErrorKind::CorruptSafetyRecord,
                                        path.string() + ": larger than safety_file_bytes_max"});
    }
    return std::unexpected(bytes.error());
  }
  if (!*bytes) return std::optional<SafetyRecord>{};
  auto record = open_safety_record(**bytes);
  if (!record) {
    return std::unexpected(StoreError{StoreErrorKind::CorruptSafetyRecord,
                                      path.string() + ": " + std::string(to_string(record.error()))});
  }
  return std::optional<SafetyRecord>(std::move(*record));
}

void write_safety_file(const std::filesystem::path& path, const SafetyRecord& record) {
  const Bytes sealed = seal_safety_record(record);
  SYNOD_ASSERT(sealed.size() <= safety_file_bytes_max);
  write_file_atomically(path, sealed);
  // Read back and checked: a disk that returns something else must stop us
  // before the vote this record allows leaves.
  auto back = read_small_file(path, safety_file_bytes_max);
  if (!back || !*back) stop_process("safety record " + path.string() + " cannot be read back");
  if (**back != sealed) stop_process("safety record " + path.string() + " reads back differently than written");
  if (!open_safety_record(**back)) stop_process("safety record " + path.string() + " fails its checks after writing");
}

}  // namespace synod::node
