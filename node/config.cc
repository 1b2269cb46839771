#include "node/config.h"

#include <sodium.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "core/assert.h"
#include "core/wire.h"
#include "net/peer_network.h"
#include "node/files.h"

namespace synod::node {

namespace fs = std::filesystem;

std::string to_string(const ConfigError& e) {
  return e.file + (e.field.empty() ? "" : ": " + e.field) + ": " + e.problem;
}

KeyPair random_key() {
  std::array<std::uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  KeyPair key = KeyPair::from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

bool parse_hex_bytes(std::string_view text, std::span<std::uint8_t> out) {
  if (text.size() != 2 * out.size()) return false;
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(text[2 * i]), lo = digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return true;
}

bool valid_address(std::string_view address) {
  const auto parts = net::split_address(address);
  return parts && parts->second <= peer_port_max;
}

fs::path default_config_dir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return fs::path(xdg) / "synod";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".config" / "synod";
}

namespace {

// Reads one table's fields by name, remembering which were read, so that the
// rest can be reported as unknown.
class Fields {
 public:
  Fields(const fs::path& file, const toml::table& table, std::string prefix)
      : file_(file.string()), table_(table), prefix_(std::move(prefix)) {}

  ConfigError error(std::string_view field, std::string problem) const {
    return ConfigError{file_, prefix_ + std::string(field), std::move(problem)};
  }

  std::expected<std::optional<std::string>, ConfigError> text(std::string_view name) {
    known_.insert(std::string(name));
    const toml::node* n = table_.get(name);
    if (!n) return std::optional<std::string>{};
    if (!n->is_string()) return std::unexpected(error(name, "must be a string"));
    return std::optional<std::string>{*n->value<std::string>()};
  }
  std::expected<std::string, ConfigError> required_text(std::string_view name) {
    auto t = text(name);
    if (!t) return std::unexpected(t.error());
    if (!*t) return std::unexpected(error(name, "is missing"));
    return **t;
  }
  std::expected<std::optional<std::uint64_t>, ConfigError> number(std::string_view name, std::uint64_t min,
                                                                  std::uint64_t max) {
    known_.insert(std::string(name));
    const toml::node* n = table_.get(name);
    if (!n) return std::optional<std::uint64_t>{};
    if (!n->is_integer()) return std::unexpected(error(name, "must be an integer"));
    const std::int64_t v = *n->value<std::int64_t>();
    if (v < 0 || static_cast<std::uint64_t>(v) < min || static_cast<std::uint64_t>(v) > max) {
      return std::unexpected(error(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                                             ", not " + std::to_string(v)));
    }
    return std::optional<std::uint64_t>{static_cast<std::uint64_t>(v)};
  }
  std::expected<std::optional<bool>, ConfigError> boolean(std::string_view name) {
    known_.insert(std::string(name));
    const toml::node* n = table_.get(name);
    if (!n) return std::optional<bool>{};
    if (!n->is_boolean()) return std::unexpected(error(name, "must be true or false"));
    return std::optional<bool>{*n->value<bool>()};
  }
  template <class Fixed>
  std::expected<Fixed, ConfigError> hex_field(std::string_view name) {
    auto t = required_text(name);
    if (!t) return std::unexpected(t.error());
    Fixed out;
    if (!parse_hex(*t, out)) return std::unexpected(error(name, "must be " + std::to_string(2 * Fixed::size) + " hex digits"));
    return out;
  }
  void skip(std::string_view name) { known_.insert(std::string(name)); }
  // The first field nobody asked for, if any.
  std::optional<ConfigError> unknown() const {
    for (const auto& [key, value] : table_) {
      if (!known_.contains(std::string(key.str()))) return error(key.str(), "unknown field");
    }
    return std::nullopt;
  }

 private:
  std::string file_;
  const toml::table& table_;
  std::string prefix_;
  std::set<std::string, std::less<>> known_;
};

std::expected<toml::table, ConfigError> parse(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::unexpected(ConfigError{file.string(), "", "no such file"});
  try {
    return toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << "line " << e.source().begin.line << ", column " << e.source().begin.column;
    return std::unexpected(ConfigError{file.string(), where.str(), std::string(e.description())});
  }
}

#define SYNOD_TRY(var, expr)                                    \
  auto var##_result = (expr);                                   \
  if (!var##_result) return std::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)

// The secret, sealed with a key derived from a secret file's bytes:
// hex(nonce || crypto_secretbox(seed)).
std::expected<std::array<std::uint8_t, 32>, std::string> secret_box_key(const fs::path& secret_file) {
  std::ifstream in(secret_file, std::ios::binary);
  if (!in) return std::unexpected("cannot read " + secret_file.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 16) return std::unexpected(secret_file.string() + " holds fewer than 16 bytes");
  std::array<std::uint8_t, 32> key{};
  crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                     nullptr, 0);
  return key;
}

fs::path relative_to(const fs::path& base_file, const fs::path& p) {
  if (p.empty() || p.is_absolute()) return p;
  return base_file.parent_path() / p;
}

bool valid_ip(const std::string& text) {
  in6_addr any{};
  return ::inet_pton(AF_INET, text.c_str(), &any) == 1 || ::inet_pton(AF_INET6, text.c_str(), &any) == 1;
}

// A file holding a secret must be the owner's alone.
std::optional<ConfigError> refuse_if_shared(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return ConfigError{file.string(), "", "no such file"};
  if ((st.st_mode & 077) == 0) return std::nullopt;
  std::ostringstream mode;
  mode << std::oct << (st.st_mode & 0777);
  return ConfigError{file.string(), "",
                     "readable by group or others (mode 0" + mode.str() + "): it holds a secret key; run chmod 600 " +
                         file.string()};
}

}  // namespace

std::expected<void, ConfigError> write_secret_file(const fs::path& file, const std::string& text) {
  std::error_code ec;
  if (fs::exists(file, ec)) {
    return std::unexpected(ConfigError{file.string(), "", "exists already: refusing to overwrite a key"});
  }
  fs::create_directories(file.parent_path().empty() ? fs::path(".") : file.parent_path(), ec);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return std::unexpected(ConfigError{file.string(), "", std::string("cannot create: ") + std::strerror(errno)});
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return std::unexpected(ConfigError{file.string(), "", std::string("cannot write: ") + std::strerror(errno)});
  return {};
}

std::expected<PrivateConfig, ConfigError> load_private(const fs::path& file) {
  if (auto e = refuse_if_shared(file)) return std::unexpected(*e);
  SYNOD_TRY(table, parse(file));
  Fields f(file, table, "");
  PrivateConfig c;
  c.file = file;
  SYNOD_TRY(key, f.hex_field<PublicKey>("key"));
  SYNOD_TRY(secret, f.text("secret"));
  SYNOD_TRY(sealed, f.text("secret_encrypted"));
  SYNOD_TRY(secret_file, f.text("secret_file"));
  std::array<std::uint8_t, 32> seed{};
  if (secret && sealed) return std::unexpected(f.error("secret", "give secret or secret_encrypted, not both"));
  if (secret && secret_file) {
    return std::unexpected(f.error("secret_file", "goes with secret_encrypted only: this secret is stored in the clear"));
  }
  if (secret) {
    if (!parse_hex_bytes(*secret, seed)) return std::unexpected(f.error("secret", "must be 64 hex digits"));
  } else if (sealed) {
    if (!secret_file) return std::unexpected(f.error("secret_file", "is missing (secret_encrypted needs it)"));
    c.secret_file = relative_to(file, *secret_file);
    auto box_key = secret_box_key(*c.secret_file);
    if (!box_key) return std::unexpected(f.error("secret_file", box_key.error()));
    std::array<std::uint8_t, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 32> box{};
    if (!parse_hex_bytes(*sealed, box)) {
      return std::unexpected(f.error("secret_encrypted", "must be " + std::to_string(2 * box.size()) + " hex digits"));
    }
    if (crypto_secretbox_open_easy(seed.data(), box.data() + crypto_secretbox_NONCEBYTES,
                                   box.size() - crypto_secretbox_NONCEBYTES, box.data(), box_key->data()) != 0) {
      return std::unexpected(f.error("secret_encrypted", "does not open with the key from " + c.secret_file->string()));
    }
  } else {
    return std::unexpected(f.error("secret", "is missing"));
  }
  c.key = KeyPair::from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  if (c.key.public_key != key) return std::unexpected(f.error("key", "is not the public key of the secret"));
  SYNOD_TRY(address, f.required_text("address"));
  if (!valid_address(address)) return std::unexpected(f.error("address", "must be host:port with a port from 1 to 65533 (P+1 and P+2 are the client and admin ports), not \"" + address + "\""));
  c.address = address;
  SYNOD_TRY(listen, f.text("listen"));
  c.listen = listen.value_or(address);
  if (!valid_address(c.listen)) return std::unexpected(f.error("listen", "must be host:port with a port from 1 to 65533 (P+1 and P+2 are the client and admin ports), not \"" + c.listen + "\""));
  SYNOD_TRY(description, f.text("description"));
  c.description = description.value_or("");
  SYNOD_TRY(url, f.text("url"));
  c.url = url.value_or("");
  SYNOD_TRY(data_dir, f.text("data_dir"));
  c.data_dir = data_dir ? relative_to(file, *data_dir) : default_data_dir();
  SYNOD_TRY(genesis, f.required_text("genesis"));
  c.genesis = relative_to(file, genesis);

  const auto section = [&](std::string_view name) -> std::expected<const toml::table*, ConfigError> {
    f.skip(name);
    const toml::node* n = table.get(name);
    if (!n) return nullptr;
    if (!n->is_table()) return std::unexpected(f.error(name, "must be a table"));
    return n->as_table();
  };
  SYNOD_TRY(consensus, section("consensus"));
  if (consensus) {
    Fields s(file, *consensus, "consensus.");
    SYNOD_TRY(timeout, s.number("round_timeout_ms", 10, 600000));
    SYNOD_TRY(idle, s.number("idle_block_interval_ms", 0, 600000));
    SYNOD_TRY(kept, s.number("committed_blocks_kept_max", 1, 10'000'000));
    c.committed_blocks_kept_max = kept.value_or(c.committed_blocks_kept_max);
    c.round_timeout_ms = timeout.value_or(c.round_timeout_ms);
    c.idle_block_interval_ms = idle.value_or(c.idle_block_interval_ms);
    // An idle leader that waits longer than a round lasts never proposes: every round would end in a TC.
    if (c.idle_block_interval_ms >= c.round_timeout_ms) {
      return std::unexpected(s.error("idle_block_interval_ms", "must be below round_timeout_ms (" +
                                                                    std::to_string(c.round_timeout_ms) + ")"));
    }
    if (auto e = s.unknown()) return std::unexpected(*e);
  }
  SYNOD_TRY(backup, section("backup"));
  if (backup) {
    Fields s(file, *backup, "backup.");
    SYNOD_TRY(hours, s.number("interval_hours", 1, 24 * 365));
    SYNOD_TRY(kept, s.number("kept", 1, 10000));
    SYNOD_TRY(folder, s.text("folder"));
    if (hours) c.backup_interval_ms = *hours * 3600 * 1000;
    c.backups_kept = kept.value_or(c.backups_kept);
    if (folder) c.backup_folder = relative_to(file, *folder);
    if (auto e = s.unknown()) return std::unexpected(*e);
  }
  SYNOD_TRY(client, section("client"));
  if (client) {
    Fields s(file, *client, "client.");
    SYNOD_TRY(certificate, s.text("tls_certificate"));
    SYNOD_TRY(tls_key, s.text("tls_key"));
    SYNOD_TRY(rate, s.number("requests_per_second", 0, 1'000'000));
    SYNOD_TRY(connections, s.number("connections_max", 1, 1'000'000));
    SYNOD_TRY(client_host, s.text("listen_host"));
    if (client_host) {
      if (!valid_ip(*client_host)) {
        return std::unexpected(s.error("listen_host", "must be an IPv4 or IPv6 address, not \"" + *client_host + "\""));
      }
      c.client_listen_host = *client_host;
    }
    if (certificate.has_value() != tls_key.has_value()) {
      return std::unexpected(s.error(certificate ? "tls_key" : "tls_certificate",
                                     "is missing: TLS on the client port needs both tls_certificate and tls_key"));
    }
    if (certificate) {
      c.client_tls_certificate = relative_to(file, *certificate);
      c.client_tls_key = relative_to(file, *tls_key);
    }
    c.client_requests_per_second = rate.value_or(c.client_requests_per_second);
    c.client_connections_max = connections.value_or(c.client_connections_max);
    if (auto e = s.unknown()) return std::unexpected(*e);
  }
  SYNOD_TRY(dial, section("dial"));
  if (dial) {
    for (const auto& [name, value] : *dial) {
      const std::string field = "dial.\"" + std::string(name.str()) + "\"";
      PublicKey peer;
      if (!parse_hex(name.str(), peer)) {
        return std::unexpected(ConfigError{file.string(), field, "must be named by a validator's public key in hex"});
      }
      const std::optional<std::string_view> dialled = value.value<std::string_view>();
      if (!dialled || !valid_address(*dialled)) {
        return std::unexpected(ConfigError{file.string(), field, "must be a \"host:port\" string"});
      }
      c.dial.emplace(peer, std::string(*dialled));
    }
  }
  SYNOD_TRY(admin, section("admin"));
  if (admin) {
    Fields s(file, *admin, "admin.");
    SYNOD_TRY(listen_host, s.text("listen_host"));
    SYNOD_TRY(password_hash, s.text("password_hash"));
    if (listen_host) {
      if (!valid_ip(*listen_host)) {
        return std::unexpected(s.error("listen_host", "must be an IPv4 or IPv6 address, not \"" + *listen_host + "\""));
      }
      c.admin_listen_host = *listen_host;
    }
    if (password_hash) {
      if (!password_hash->starts_with("$argon2id$")) {
        return std::unexpected(s.error("password_hash", "must be an Argon2id hash as `synod admin-password` writes it"));
      }
      c.admin_password_hash = *password_hash;
    }
    if (auto e = s.unknown()) return std::unexpected(*e);
  }
  SYNOD_TRY(log, section("log"));
  if (log) {
    Fields s(file, *log, "log.");
    SYNOD_TRY(format, s.text("format"));
    SYNOD_TRY(folder, s.text("folder"));
    if (format && *format != "plain" && *format != "json") {
      return std::unexpected(s.error("format", "must be \"plain\" or \"json\", not \"" + *format + "\""));
    }
    c.log_json = format == "json";
    if (folder) c.log_folder = relative_to(file, *folder);
    if (auto e = s.unknown()) return std::unexpected(*e);
  }
  if (auto e = f.unknown()) return std::unexpected(*e);
  SYNOD_ASSERT(c.key.public_key == key);
  return c;
}

namespace {
std::string toml_string(std::string_view s) {
  std::ostringstream out;
  out << toml::value<std::string>(std::string(s));
  return out.str();
}
}  // namespace

std::expected<void, ConfigError> write_private(const PrivateConfig& c) {
  std::ostringstream out;
  out << "# synod private configuration: keep it secret (mode 0600).\n";
  out << "key = \"" << hex(c.key.public_key.view()) << "\"\n";
  if (c.secret_file) {
    auto box_key = secret_box_key(*c.secret_file);
    if (!box_key) return std::unexpected(ConfigError{c.file.string(), "secret_file", box_key.error()});
    std::array<std::uint8_t, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 32> box{};
    randombytes_buf(box.data(), crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box.data() + crypto_secretbox_NONCEBYTES, c.key.seed.data(), c.key.seed.size(), box.data(),
                          box_key->data());
    out << "secret_encrypted = \"" << hex(box) << "\"\n";
    out << "secret_file = " << toml_string(c.secret_file->string()) << "\n";
  } else {
    out << "secret = \"" << hex(c.key.seed) << "\"\n";
  }
  out << "address = " << toml_string(c.address) << "\n";
  if (!c.listen.empty() && c.listen != c.address) out << "listen = " << toml_string(c.listen) << "\n";
  out << "description = " << toml_string(c.description) << "\n";
  if (!c.url.empty()) out << "url = " << toml_string(c.url) << "\n";
  out << "data_dir = " << toml_string(c.data_dir.string()) << "\n";
  out << "genesis = " << toml_string(c.genesis.string()) << "\n";
  const PrivateConfig defaults;
  if (c.round_timeout_ms != defaults.round_timeout_ms || c.idle_block_interval_ms != defaults.idle_block_interval_ms) {
    out << "\n[consensus]\nround_timeout_ms = " << c.round_timeout_ms
        << "\nidle_block_interval_ms = " << c.idle_block_interval_ms << "\n";
  }
  if (!c.dial.empty()) {
    out << "\n[dial]\n";
    for (const auto& [peer, address] : c.dial) out << "\"" << hex(peer.view()) << "\" = " << toml_string(address) << "\n";
  }
  if (c.client_requests_per_second != defaults.client_requests_per_second) {
    out << "\n[client]\nrequests_per_second = " << c.client_requests_per_second << "\n";
  }
  if (!c.admin_password_hash.empty()) out << "\n[admin]\npassword_hash = " << toml_string(c.admin_password_hash) << "\n";
  return write_secret_file(c.file, out.str());
}

std::expected<KeyPair, ConfigError> load_client_key(const fs::path& file) {
  if (auto e = refuse_if_shared(file)) return std::unexpected(*e);
  SYNOD_TRY(table, parse(file));
  Fields f(file, table, "");
  SYNOD_TRY(key, f.hex_field<PublicKey>("key"));
  SYNOD_TRY(secret, f.required_text("secret"));
  std::array<std::uint8_t, 32> seed{};
  if (!parse_hex_bytes(secret, seed)) return std::unexpected(f.error("secret", "must be 64 hex digits"));
  const KeyPair pair = KeyPair::from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  if (pair.public_key != key) return std::unexpected(f.error("key", "is not the public key of the secret"));
  if (auto e = f.unknown()) return std::unexpected(*e);
  return pair;
}

std::expected<void, ConfigError> write_client_key(const fs::path& file, const KeyPair& key) {
  return write_secret_file(file, "# synod client key: the secret signs your transactions; keep it (mode 0600).\nkey = \"" +
                                     hex(key.public_key.view()) + "\"\nsecret = \"" + hex(key.seed) + "\"\n");
}

std::string public_toml(const PublicConfig& c) {
  std::ostringstream out;
  out << "[[servers]]\n";
  out << "key = \"" << hex(c.key.view()) << "\"\n";
  out << "address = " << toml_string(c.address) << "\n";
  if (!c.url.empty()) out << "url = " << toml_string(c.url) << "\n";
  out << "description = " << toml_string(c.description) << "\n";
  out << "weight = " << c.weight << "\n";
  return out.str();
}

namespace {
std::expected<PublicConfig, ConfigError> read_server(const fs::path& file, const toml::table& t, const std::string& prefix) {
  Fields f(file, t, prefix);
  PublicConfig c;
  SYNOD_TRY(key, f.hex_field<PublicKey>("key"));
  c.key = key;
  SYNOD_TRY(address, f.required_text("address"));
  if (!valid_address(address)) return std::unexpected(f.error("address", "must be host:port with a port from 1 to 65533 (P+1 and P+2 are the client and admin ports), not \"" + address + "\""));
  c.address = address;
  SYNOD_TRY(url, f.text("url"));
  c.url = url.value_or("");
  SYNOD_TRY(description, f.text("description"));
  c.description = description.value_or("");
  SYNOD_TRY(weight, f.number("weight", 1, total_weight_max));
  c.weight = weight.value_or(1);
  if (auto e = f.unknown()) return std::unexpected(*e);
  return c;
}

std::expected<const toml::array*, ConfigError> array_of_tables(const fs::path& file, const toml::table& t,
                                                               std::string_view name) {
  const toml::node* n = t.get(name);
  if (!n) return nullptr;
  const toml::array* a = n->as_array();
  if (!a || !a->is_array_of_tables()) {
    return std::unexpected(ConfigError{file.string(), std::string(name), "must be an array of tables ([[" + std::string(name) + "]])"});
  }
  return a;
}
}  // namespace

std::expected<std::vector<PublicConfig>, ConfigError> load_roster(const fs::path& file) {
  SYNOD_TRY(table, parse(file));
  Fields top(file, table, "");
  top.skip("servers");
  if (auto e = top.unknown()) return std::unexpected(*e);
  SYNOD_TRY(servers, array_of_tables(file, table, "servers"));
  if (!servers || servers->empty()) return std::unexpected(ConfigError{file.string(), "servers", "no [[servers]] table"});
  std::vector<PublicConfig> out;
  std::set<PublicKey> keys;
  for (std::size_t i = 0; i < servers->size(); ++i) {
    SYNOD_TRY(server, read_server(file, *servers->get(i)->as_table(), "servers[" + std::to_string(i) + "]."));
    if (!keys.insert(server.key).second) {
      return std::unexpected(ConfigError{file.string(), "servers[" + std::to_string(i) + "].key", "appears twice"});
    }
    out.push_back(std::move(server));
  }
  return out;
}

std::expected<Genesis, ConfigError> load_genesis(const fs::path& file) {
  SYNOD_TRY(table, parse(file));
  Fields f(file, table, "");
  Genesis g;
  SYNOD_TRY(name, f.required_text("chain_name"));
  if (name.empty() || name.size() > 64) return std::unexpected(f.error("chain_name", "must be 1 to 64 characters"));
  g.chain_name = name;
  f.skip("params");
  if (const toml::node* n = table.get("params")) {
    if (!n->is_table()) return std::unexpected(f.error("params", "must be a table"));
    Fields p(file, *n->as_table(), "params.");
    SYNOD_TRY(txs, p.number("block_txs_max", 1, 100000));
    // A block travels in one frame, with room for its certificates.
    SYNOD_TRY(bytes, p.number("block_bytes_max", 1024, frame_bytes_max / 2));
    SYNOD_TRY(tx_bytes, p.number("tx_bytes_max", 128, 1u << 20));
    SYNOD_TRY(value_bytes, p.number("value_bytes_max", 0, 1u << 20));
    SYNOD_TRY(key_bytes, p.number("key_bytes_max", 1, 1024));
    if (txs) g.params.block_txs_max = static_cast<std::uint32_t>(*txs);
    if (bytes) g.params.block_bytes_max = *bytes;
    if (tx_bytes) g.params.tx_bytes_max = static_cast<std::uint32_t>(*tx_bytes);
    if (value_bytes) g.params.value_bytes_max = static_cast<std::uint32_t>(*value_bytes);
    if (key_bytes) g.params.key_bytes_max = static_cast<std::uint32_t>(*key_bytes);
    if (auto e = p.unknown()) return std::unexpected(*e);
  }
  f.skip("validators");
  SYNOD_TRY(validators, array_of_tables(file, table, "validators"));
  if (!validators || validators->empty()) return std::unexpected(f.error("validators", "no [[validators]] table"));
  std::set<PublicKey> keys;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < validators->size(); ++i) {
    const std::string prefix = "validators[" + std::to_string(i) + "].";
    SYNOD_TRY(v, read_server(file, *validators->get(i)->as_table(), prefix));
    if (!keys.insert(v.key).second) return std::unexpected(ConfigError{file.string(), prefix + "key", "appears twice"});
    total += v.weight;
    if (total > total_weight_max) return std::unexpected(ConfigError{file.string(), prefix + "weight", "total weight too large"});
    g.validators.push_back(Validator{v.key, Weight(v.weight), v.address, v.description});
  }
  f.skip("allocations");
  SYNOD_TRY(allocations, array_of_tables(file, table, "allocations"));
  std::set<PublicKey> accounts;
  for (std::size_t i = 0; allocations && i < allocations->size(); ++i) {
    Fields a(file, *allocations->get(i)->as_table(), "allocations[" + std::to_string(i) + "].");
    SYNOD_TRY(account, a.hex_field<PublicKey>("account"));
    SYNOD_TRY(balance, a.number("balance", 0, std::uint64_t{1} << 62));
    if (!balance) return std::unexpected(a.error("balance", "is missing"));
    if (!accounts.insert(account).second) return std::unexpected(a.error("account", "appears twice"));
    if (auto e = a.unknown()) return std::unexpected(*e);
    g.allocations.push_back(Allocation{account, *balance});
  }
  if (auto e = f.unknown()) return std::unexpected(*e);
  SYNOD_ASSERT(!g.validators.empty());
  return g;
}

std::string genesis_toml(const Genesis& g) {
  std::ostringstream out;
  out << "# synod genesis: the chain id is the hash of its canonical encoding.\n";
  out << "chain_name = " << toml_string(g.chain_name) << "\n\n[params]\n";
  out << "block_txs_max = " << g.params.block_txs_max << "\n";
  out << "block_bytes_max = " << g.params.block_bytes_max << "\n";
  out << "tx_bytes_max = " << g.params.tx_bytes_max << "\n";
  out << "value_bytes_max = " << g.params.value_bytes_max << "\n";
  out << "key_bytes_max = " << g.params.key_bytes_max << "\n";
  for (const Validator& v : g.validators) {
    out << "\n[[validators]]\nkey = \"" << hex(v.key.view()) << "\"\naddress = " << toml_string(v.address)
        << "\ndescription = " << toml_string(v.description) << "\nweight = " << v.weight.value << "\n";
  }
  for (const Allocation& a : g.allocations) {
    out << "\n[[allocations]]\naccount = \"" << hex(a.account.view()) << "\"\nbalance = " << a.balance << "\n";
  }
  return out.str();
}

std::optional<ConfigError> check_membership(const PrivateConfig& c, const Genesis& g) {
  const Roster roster(g.validators);
  const auto self = roster.find(c.key.public_key);
  if (!self) {
    return ConfigError{c.genesis.string(), "validators",
                       "this node's key " + hex(c.key.public_key.view()) + " is not in the roster"};
  }
  if (roster.at(*self).address != c.address) {
    return ConfigError{c.file.string(), "address",
                       "\"" + c.address + "\" differs from the genesis roster's \"" + roster.at(*self).address + "\""};
  }
  for (const auto& [peer, address] : c.dial) {
    const std::string field = "dial.\"" + hex(peer.view()) + "\"";
    if (!roster.find(peer)) return ConfigError{c.file.string(), field, "is not a validator of the genesis roster"};
    if (peer == c.key.public_key) return ConfigError{c.file.string(), field, "is this node's own key"};
  }
  return std::nullopt;
}

}  // namespace synod::node
