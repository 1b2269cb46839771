// `synod tx` and `synod status`: clients of the node's client and admin
// ports for people and scripts (docs/client_api.md, docs/operating.md). The
// secret key never leaves the client: transactions are signed here. Output
// is the node's JSON (one object per line) so that scripts can read it.
// Exit codes: 0 done; 1 the node answered with a typed error, printed as
// "synod: CODE: message"; 2 bad arguments or files; 3 the node could not be
// reached or did not answer in time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace synod::node {

struct TxClientOptions {
  std::string url;                    // empty: from public.toml
  std::filesystem::path public_file;  // where the node's URL or address is read
  std::filesystem::path key_file;     // the client's key (synod tx keygen writes it)
  std::optional<std::size_t> testnet_account;  // sign with this funded testnet account instead
  std::string ca_file;                // for https:// URLs; empty: the system's CAs
  bool wait = false;                  // wait for the fate to be final
  std::uint64_t timeout_ms = 30'000;  // for each request, and for --wait
  std::optional<std::uint64_t> nonce;  // empty: the account's next nonce, from the node
  bool hex = false;                   // store/get: key and value are hex, not text
  std::uint64_t count = 0;            // watch: stop after this many commits; 0: never
};

inline constexpr int tx_exit_ok = 0;
inline constexpr int tx_exit_refused = 1;
inline constexpr int tx_exit_usage = 2;
inline constexpr int tx_exit_unreachable = 3;

int tx_keygen(const TxClientOptions& o);
int tx_transfer(const TxClientOptions& o, const std::string& to, std::uint64_t amount);
int tx_store(const TxClientOptions& o, const std::string& key, const std::string& value);
int tx_get(const TxClientOptions& o, const std::string& owner, const std::string& key);
// `key` empty: the client's own account.
int tx_account(const TxClientOptions& o, const std::string& key);
int tx_status(const TxClientOptions& o, const std::string& hash);
int tx_watch(const TxClientOptions& o);

// `synod status`: the admin port's /status as a table. `url` empty: the
// admin port of the node whose private.toml is `private_file`.
int print_status(const std::string& url, const std::filesystem::path& private_file, std::uint64_t timeout_ms);

}  // namespace synod::node
