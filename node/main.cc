// synod: the node's command line. For now the storage subcommands of issue 4:
// `backup` (an online compacted copy, safe while the node runs), `backups`
// (the listing, with times and sizes) and `restore FILE` (offline, verified;
// the safety record is kept). The server, setup and client commands come with
// their own issue. The only place here that reads the clock is main's caller
// side: the library takes the time as an argument.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "node/backup.h"

namespace {

using namespace synod;
using namespace synod::node;

template <class Fixed>
bool parse_hex(const std::string& text, Fixed& out) {
  if (text.size() != 2 * Fixed::size) return false;
  for (std::size_t i = 0; i < Fixed::size; ++i) {
    unsigned byte = 0;
    if (std::sscanf(text.c_str() + 2 * i, "%2x", &byte) != 1) return false;
    out.bytes[i] = static_cast<std::uint8_t>(byte);
  }
  return true;
}

TimeMs wall_clock_ms() {
  return static_cast<TimeMs>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

int fail(const StoreError& e) {
  std::cerr << "synod: " << to_string(e) << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"synod: a Byzantine-fault-tolerant replicated ledger node"};
  app.require_subcommand(1);
  std::string data_dir = default_data_dir().string();
  std::string key_hex;
  app.add_option("--data-dir", data_dir, "data folder (default: XDG data folder)");
  app.add_option("--key", key_hex, "the validator's public key, hex (names its files)")->required();

  std::string folder;
  auto* backup = app.add_subcommand("backup", "online, compacted copy of the ledger (safe while the node runs)");
  backup->add_option("--folder", folder, "backup folder (default: <data-dir>/backups)");
  auto* backups = app.add_subcommand("backups", "list backups with their times and sizes");
  backups->add_option("--folder", folder, "backup folder (default: <data-dir>/backups)");
  std::string file;
  std::string chain_hex;
  auto* restore = app.add_subcommand("restore", "replace the ledger by a verified backup (node stopped)");
  restore->add_option("FILE", file, "the backup file")->required();
  restore->add_option("--chain-id", chain_hex, "expected chain id, hex (default: the current ledger's)");
  CLI11_PARSE(app, argc, argv);

  PublicKey key;
  if (!parse_hex(key_hex, key)) {
    std::cerr << "synod: --key must be 64 hex digits\n";
    return 2;
  }
  const NodeFiles files = node_files(data_dir, key);
  const std::filesystem::path backup_folder = folder.empty() ? files.backups : std::filesystem::path(folder);

  if (*backup) {
    auto taken = take_backup(files, backup_folder, wall_clock_ms());
    if (!taken) return fail(taken.error());
    std::cout << taken->file.string() << " " << taken->size_bytes << " bytes\n";
    return 0;
  }
  if (*backups) {
    for (const BackupInfo& b : list_backups(backup_folder, files)) {
      std::cout << format_utc(b.time_ms) << "  " << b.size_bytes << " bytes  " << b.file.string() << "\n";
    }
    return 0;
  }
  ChainId chain;
  if (!chain_hex.empty()) {
    if (!parse_hex(chain_hex, chain)) {
      std::cerr << "synod: --chain-id must be 64 hex digits\n";
      return 2;
    }
  } else {
    auto current = inspect_ledger(files.ledger, false);
    if (!current) {
      std::cerr << "synod: no readable ledger to take the chain id from; pass --chain-id\n";
      return fail(current.error());
    }
    chain = current->chain;
  }
  auto restored = restore_backup(file, data_dir, chain, key);
  if (!restored) return fail(restored.error());
  std::cout << "restored height " << restored->restored.committed_height.value << " from " << file << "\n";
  std::cout << (restored->safety_record_kept
                    ? "safety record kept: the node will not sign again in rounds it signed in\n"
                    : "no safety record: the node will start under the AmnesiaRule and sign only past a fence\n");
  return 0;
}
