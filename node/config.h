// The node's files (DESIGN.md section 5): private.toml (the secret key and
// local settings; mode 0600), public.toml (what others need to reach this
// validator, written as a `[[servers]]` table so that concatenated files make
// a roster.toml), and genesis.toml (chain parameters, validators,
// allocations). Every field is validated when read, and an error names the
// file, the field and what is wrong; unknown fields are errors. toml++ stays
// in config.cc.
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/roster.h"

namespace synod::node {

struct ConfigError {
  std::string file;
  std::string field;  // empty when the whole file is at fault
  std::string problem;
};
std::string to_string(const ConfigError& e);

inline constexpr std::uint16_t peer_port_default = 7770;
// P+1 (client) and P+2 (admin) must be ports too.
inline constexpr std::uint16_t peer_port_max = 65533;

struct PrivateConfig {
  std::filesystem::path file;
  KeyPair key;
  std::string address;      // where peers reach this node, host:port; must match genesis
  std::string listen;       // where it binds; defaults to address
  std::string description;
  std::string url;          // client URL behind a reverse proxy; may be empty
  std::filesystem::path data_dir;
  std::filesystem::path genesis;  // relative paths are taken from private.toml's folder
  std::optional<std::filesystem::path> secret_file;  // the secret is encrypted with it
  // [consensus]
  TimeMs round_timeout_ms = 1000;
  TimeMs idle_block_interval_ms = 500;
  std::size_t committed_blocks_kept_max = 1024;  // in memory for catch-up; older ones come from the store
  // [backup]
  TimeMs backup_interval_ms = 24ull * 3600 * 1000;
  std::size_t backups_kept = 7;
  std::filesystem::path backup_folder;  // empty: <data_dir>/backups
  // [client]: TLS on the client port when both are set (PEM files)
  std::filesystem::path client_tls_certificate;
  std::filesystem::path client_tls_key;
  std::uint64_t client_requests_per_second = 1000;  // per client address; 0: no limit
  std::size_t client_connections_max = 1024;
  std::string client_listen_host;  // empty: the peer port's address (listen's host)
  // [admin]
  std::string admin_listen_host = "127.0.0.1";
  std::string admin_password_hash;  // libsodium's Argon2id string; empty: the protected routes are off
  // [log]
  bool log_json = false;
  std::filesystem::path log_folder;     // empty: <data_dir>/logs
  // [dial]: per validator key, the host:port this node dials instead of the
  // roster's address (a local relay, a private address). The peer is still
  // authenticated by its roster key.
  std::map<PublicKey, std::string> dial;
};

struct PublicConfig {
  PublicKey key;
  std::string address;
  std::string url;
  std::string description;
  std::uint64_t weight = 1;
};

// Reads and checks private.toml: refused if readable by group or others.
std::expected<PrivateConfig, ConfigError> load_private(const std::filesystem::path& file);
// Writes it with mode 0600 (refusing to overwrite an existing file); with
// `secret_file`, the secret is stored encrypted under a key derived from it.
std::expected<void, ConfigError> write_private(const PrivateConfig& config);

std::string public_toml(const PublicConfig& config);
// A roster.toml or a single public.toml: every `[[servers]]` table.
std::expected<std::vector<PublicConfig>, ConfigError> load_roster(const std::filesystem::path& file);

std::expected<Genesis, ConfigError> load_genesis(const std::filesystem::path& file);
std::string genesis_toml(const Genesis& genesis);

// The checks the server runs before it opens anything: this node is in the
// genesis roster, at the address its private.toml gives.
std::optional<ConfigError> check_membership(const PrivateConfig& config, const Genesis& genesis);

// Creates `file` with mode 0600 (never over an existing one), fsynced.
std::expected<void, ConfigError> write_secret_file(const std::filesystem::path& file, const std::string& text);

// A client's key file (`synod tx keygen`): key and secret in hex, mode 0600.
std::expected<KeyPair, ConfigError> load_client_key(const std::filesystem::path& file);
std::expected<void, ConfigError> write_client_key(const std::filesystem::path& file, const KeyPair& key);

// A new key from the system's random source (libsodium).
KeyPair random_key();

// Exactly 2 * out.size() hex digits, nothing else (no sign, no spaces).
bool parse_hex_bytes(std::string_view text, std::span<std::uint8_t> out);
template <class Fixed>
bool parse_hex(std::string_view text, Fixed& out) {
  return parse_hex_bytes(text, out.bytes);
}

// "host:port" with a port in 1..peer_port_max.
bool valid_address(std::string_view address);

// $XDG_CONFIG_HOME/synod, else $HOME/.config/synod.
std::filesystem::path default_config_dir();

}  // namespace synod::node
