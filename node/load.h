// The load generator behind `synod load`, the testnet's load and `make demo`:
// signed transfers from many funded accounts, submitted over client-rights
// connections to every node's peer port at a steady rate, each account's
// transfers to one node so that its nonces arrive in order. It samples one
// transfer in `sample_every` and polls its status to measure commit latency;
// committed counts come from the accounts' nonces at the end. Each account
// keeps at most a window of transfers above its ledger nonce, and starts
// again from the ledger's nonce if that stops moving (a transfer lost).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/roster.h"

namespace synod::node {

// The testnet's funded accounts: anyone can derive them, which is the point
// of a local testnet and never of a real chain.
KeyPair testnet_account(std::size_t i);
inline constexpr std::uint64_t testnet_account_balance = 1'000'000'000;

struct LoadOptions {
  Genesis genesis;                       // the chain, its nodes' addresses and keys
  std::vector<std::size_t> nodes;        // which validators to submit to (empty: all)
  std::size_t accounts = 64;             // testnet_account(0 .. accounts-1)
  double tx_per_s = 200;
  TimeMs duration_ms = 10'000;
  TimeMs drain_ms_max = 15'000;          // after the load: how long to wait for commits
  std::size_t sample_every = 8;
  TimeMs poll_interval_ms = 20;
};

struct LoadReport {
  std::uint64_t submitted = 0;
  std::uint64_t accepted = 0;
  std::map<std::string, std::uint64_t> rejected;  // by TxError name, or "unanswered"
  std::uint64_t committed = 0;                    // from the accounts' nonces
  std::uint64_t held_back = 0;                    // moments every account had its window full
  std::uint64_t resynced = 0;                     // accounts restarted from their ledger nonce
  double seconds = 0;                             // first submit to the last sampled commit
  double committed_per_s = 0;
  double latency_ms_p50 = 0;
  double latency_ms_p99 = 0;
  std::size_t latency_samples = 0;
  std::string error;                              // set when it could not run
};

LoadReport run_load(const LoadOptions& options);

// The machine's limit for a loopback testnet (docs/architecture.md): every
// node verifies each transfer's signature once, so cores x Ed25519
// verifications per second on one core / nodes. Measured now, for `seconds`.
struct VerifyLimit {
  double verifications_per_s = 0;  // one core
  unsigned cores = 0;
  std::size_t nodes = 0;
  double transfers_per_s() const { return cores * verifications_per_s / static_cast<double>(nodes); }
};
VerifyLimit measure_verify_limit(std::size_t nodes, double seconds = 1.0);

}  // namespace synod::node
