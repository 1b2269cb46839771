// The safety record's own file, apart from the ledger: the last thing a
// validator signed (core/safety_rules.h), sealed with a checksum
// (core/records.h). write_safety_file returns only once the new record is
// durable and has been read back intact; a crash during it leaves the old
// record or the new one, never a mix. Never reads or writes the ledger.
#pragma once

#include <filesystem>

#include "core/records.h"
#include "node/files.h"

namespace synod::node {

// Far above any honest record (two certificates of certificate_signers_max
// signatures each); a larger file is not a record of ours.
inline constexpr std::size_t safety_file_bytes_max = std::size_t{1} << 20;

// nullopt when the file does not exist; CorruptSafetyRecord when it exists and
// fails a check (too large, truncated, checksum, format).
std::expected<std::optional<SafetyRecord>, StoreError> read_safety_file(const std::filesystem::path& path);

// Atomic, fsynced, then read back and compared; stops the process if the disk
// refuses or returns something else than was written.
void write_safety_file(const std::filesystem::path& path, const SafetyRecord& record);

}  // namespace synod::node
