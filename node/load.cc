#include "node/load.h"

#include <sodium.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include "core/assert.h"
#include "core/sign_bytes.h"
#include "net/client.h"
#include "net/tls.h"
#include "node/config.h"

namespace synod::node {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

KeyPair testnet_account(std::size_t i) { return KeyPair::from_label("synod-testnet/account/" + std::to_string(i)); }

namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto at = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(at, v.size() - 1)];
}

class Load {
 public:
  explicit Load(const LoadOptions& o) : o_(o), chain_(o.genesis.chain_id()), me_(random_key()) {
    tls_.emplace(net::make_tls_context(me_));
    std::vector<std::size_t> nodes = o.nodes;
    if (nodes.empty()) {
      for (std::size_t i = 0; i < o.genesis.validators.size(); ++i) nodes.push_back(i);
    }
    for (std::size_t n : nodes) {
      const Validator& v = o.genesis.validators.at(n);
      clients_.push_back(std::make_unique<net::Client>(io_, *tls_, net::Hello{net::protocol_version, chain_, me_.public_key}));
      addresses_.push_back(v.address);
      keys_.push_back(v.key);
    }
    for (std::size_t a = 0; a < o.accounts; ++a) accounts_.push_back(testnet_account(a));
  }

  LoadReport run() {
    SYNOD_ASSERT(!clients_.empty());
    // Unfunded accounts' transfers would commit as failures and never move
    // their nonces: refuse rather than measure them.
    for (std::size_t a = 0; a < accounts_.size(); ++a) {
      const bool funded = std::ranges::any_of(o_.genesis.allocations, [&](const Allocation& al) {
        return al.account == accounts_[a].public_key && al.balance > 0;
      });
      if (!funded) {
        report_.error = "testnet account " + std::to_string(a) + " has no allocation in the genesis: use at most " +
                        std::to_string(a) + " accounts";
        return report_;
      }
    }
    std::size_t connected = 0;
    std::string error;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      clients_[i]->connect(addresses_[i], keys_[i], [&, i](const std::string& e) {
        if (e.empty()) {
          ++connected;
        } else {
          error = addresses_[i] + ": " + e;
        }
      });
    }
    run_until([&] { return connected == clients_.size() || !error.empty(); }, 10'000);
    if (connected != clients_.size()) {
      report_.error = error.empty() ? "could not connect to every node" : error;
      return report_;
    }
    // Start from the accounts' current nonces, so that a second load on one chain works.
    std::size_t answered = 0;
    start_nonce_.assign(accounts_.size(), 0);
    for (std::size_t a = 0; a < accounts_.size(); ++a) {
      client_for(a).request(ClientRequest{0, QueryAccount{accounts_[a].public_key}}, [&, a](const ClientResponse& r) {
        if (const auto* info = std::get_if<AccountInfo>(&r.body)) start_nonce_[a] = info->nonce;
        ++answered;
      });
    }
    run_until([&] { return answered == accounts_.size(); }, 10'000);
    next_nonce_ = start_nonce_;
    ledger_nonce_ = start_nonce_;
    ledger_moved_.assign(accounts_.size(), Clock::now());
    any_moved_ = Clock::now();
    asking_account_.assign(accounts_.size(), false);
    client_awaiting_.assign(clients_.size(), 0);
    client_dialled_.assign(clients_.size(), Clock::now());
    client_connecting_.assign(clients_.size(), false);

    start_ = Clock::now();
    const auto load_end = start_ + std::chrono::milliseconds(o_.duration_ms);
    double owed = 0;
    auto last = start_;
    while (Clock::now() < load_end) {
      io_.restart();  // a loop that ran out of work (every link lost at once) stays stopped until restarted
      io_.run_for(std::chrono::milliseconds(5));
      const auto now = Clock::now();
      owed += o_.tx_per_s * std::chrono::duration<double>(now - last).count();
      last = now;
      redial_lost_clients();
      poll_accounts();
      for (; owed >= 1; owed -= 1) {
        if (!submit_one()) {
          owed = 0;  // every account has its window full: the offered rate is not met, and says so
          break;
        }
      }
      poll_samples();
    }
    const auto drain_end = Clock::now() + std::chrono::milliseconds(o_.drain_ms_max);
    // The report counts commits from the accounts' nonces: wait for those too,
    // not only for the sampled transfers.
    const auto uncommitted = [this] {
      for (std::size_t a = 0; a < accounts_.size(); ++a) {
        if (ledger_nonce_[a] < next_nonce_[a]) return true;
      }
      return false;
    };
    while (Clock::now() < drain_end && (!samples_.empty() || awaiting_ > 0 || uncommitted())) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
      redial_lost_clients();
      poll_samples();
      poll_accounts();
    }
    report_.rejected["unanswered"] += awaiting_;
    // Committed transfers, from each account's nonce.
    answered = 0;
    for (std::size_t a = 0; a < accounts_.size(); ++a) {
      client_for(a).request(ClientRequest{0, QueryAccount{accounts_[a].public_key}}, [&, a](const ClientResponse& r) {
        if (const auto* info = std::get_if<AccountInfo>(&r.body)) report_.committed += info->nonce - start_nonce_[a];
        ++answered;
      });
    }
    run_until([&] { return answered == accounts_.size(); }, 10'000);
    const auto end = last_commit_ > start_ ? last_commit_ : Clock::now();
    report_.seconds = std::chrono::duration<double>(end - start_).count();
    report_.committed_per_s = report_.seconds > 0 ? static_cast<double>(report_.committed) / report_.seconds : 0;
    report_.latency_ms_p50 = percentile(latencies_, 0.50);
    report_.latency_ms_p99 = percentile(latencies_, 0.99);
    report_.latency_samples = latencies_.size();
    for (auto& c : clients_) c->close();
    io_.run_for(std::chrono::milliseconds(50));
    return report_;
  }

 private:
  struct Sample {
    TxHash hash;
    std::size_t client;
    Clock::time_point sent;
    bool asking = false;
  };

  net::Client& client_for(std::size_t account) { return *clients_[account % clients_.size()]; }

  void run_until(const std::function<bool()>& done, int ms) {
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (!done() && Clock::now() < until) {
      io_.restart();  // a loop that ran out of work stays stopped until restarted
      io_.run_for(std::chrono::milliseconds(5));
    }
  }

  // One transfer from the next account with room in its window; false when
  // none has. An account's window is the transfers above its ledger nonce.
  bool submit_one() {
    std::size_t a = accounts_.size();
    for (std::size_t tried = 0; tried < accounts_.size(); ++tried) {
      const std::size_t candidate = next_account_++ % accounts_.size();
      if (next_nonce_[candidate] - ledger_nonce_[candidate] < in_flight_per_account_max) {
        a = candidate;
        break;
      }
    }
    if (a == accounts_.size()) {
      ++report_.held_back;
      return false;
    }
    const std::size_t to = (a + 1) % accounts_.size();
    Transaction tx{accounts_[a].public_key, next_nonce_[a], Transfer{accounts_[to].public_key, 1}, {}};
    const TxHash hash = sign_tx(ed25519_scheme(), chain_, accounts_[a], tx);
    ++report_.submitted;
    const bool sample = report_.submitted % o_.sample_every == 0;
    const auto sent = Clock::now();
    ++awaiting_;
    const std::size_t via = a % clients_.size();
    ++client_awaiting_[via];
    const std::uint64_t nonce = tx.nonce;
    const bool queued = client_for(a).request(ClientRequest{0, SubmitTx{tx}}, [this, a, via, nonce, sample, sent, hash](const ClientResponse& r) {
      --awaiting_;
      --client_awaiting_[via];
      if (std::holds_alternative<TxAccepted>(r.body)) {
        ++report_.accepted;
        if (sample) samples_.push_back(Sample{hash, a % clients_.size(), sent});
      } else if (const auto* no = std::get_if<TxRejected>(&r.body)) {
        ++report_.rejected[std::string(to_string(no->reason))];
        // A full pool refused it: that nonce goes again, or every later
        // transfer of the account would wait behind a gap.
        if (no->reason == TxError::PoolFull) next_nonce_[a] = std::min(next_nonce_[a], nonce);
      }
    });
    if (!queued) {
      --awaiting_;
      --client_awaiting_[via];
      ++report_.rejected["not_sent"];
      return true;
    }
    ++next_nonce_[a];
    return true;
  }

  // A node that restarts closes the link, and a closed link never answers
  // what was sent on it: every reconnect_ms, each lost link is dialled again
  // on a new client, and what waited on the old one is given up (counted as
  // "lost"), so that its accounts are polled and their transfers resent.
  void redial_lost_clients() {
    const auto now = Clock::now();
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      if (clients_[i]->connected() || client_connecting_[i]) continue;
      if (now - client_dialled_[i] < std::chrono::milliseconds(reconnect_ms)) continue;
      awaiting_ -= client_awaiting_[i];
      report_.rejected["lost"] += client_awaiting_[i];
      client_awaiting_[i] = 0;
      // Its accounts start again from the ledger's nonce: what the lost link
      // carried and did not commit is sent again (a duplicate is refused).
      for (std::size_t a = i; a < accounts_.size(); a += clients_.size()) {
        asking_account_[a] = false;
        next_nonce_[a] = ledger_nonce_[a];
      }
      for (Sample& s : samples_) {
        if (s.client == i) s.asking = false;
      }
      clients_[i] = std::make_unique<net::Client>(io_, *tls_, net::Hello{net::protocol_version, chain_, me_.public_key});
      client_connecting_[i] = true;
      client_dialled_[i] = now;
      clients_[i]->connect(addresses_[i], keys_[i], [this, i](const std::string&) { client_connecting_[i] = false; });
    }
  }

  // Every account_poll_ms, each account's ledger nonce. An account whose
  // nonce stayed put while transfers are out and other accounts' nonces moved
  // on for stall_ms lost one (a transfer that arrived after its successor and
  // failed, say): it starts again from the ledger's nonce, and what is still
  // pending comes back as a duplicate. A stalled chain moves no account.
  void poll_accounts() {
    const auto now = Clock::now();
    if (now - last_account_poll_ < std::chrono::milliseconds(account_poll_ms)) return;
    last_account_poll_ = now;
    for (std::size_t a = 0; a < accounts_.size(); ++a) {
      if (asking_account_[a]) continue;
      // Not asking if the request could not go (a lost link): the next poll tries again.
      asking_account_[a] = client_for(a).request(ClientRequest{0, QueryAccount{accounts_[a].public_key}}, [this, a](const ClientResponse& r) {
        asking_account_[a] = false;
        const auto* info = std::get_if<AccountInfo>(&r.body);
        if (!info) return;
        const auto at = Clock::now();
        if (info->nonce > ledger_nonce_[a]) {
          ledger_nonce_[a] = info->nonce;
          ledger_moved_[a] = at;
          any_moved_ = at;
          next_nonce_[a] = std::max(next_nonce_[a], info->nonce);
        } else if (next_nonce_[a] > ledger_nonce_[a] && any_moved_ - ledger_moved_[a] > std::chrono::milliseconds(stall_ms)) {
          // Stuck while other accounts moved on for stall_ms: not a stalled chain.
          next_nonce_[a] = ledger_nonce_[a];
          ledger_moved_[a] = at;
          ++report_.resynced;
        }
      });
    }
  }

  // Asks each sampled transfer's node for its fate every poll interval.
  void poll_samples() {
    const auto now = Clock::now();
    if (now - last_poll_ < std::chrono::milliseconds(o_.poll_interval_ms)) return;
    last_poll_ = now;
    for (std::size_t i = 0; i < samples_.size(); ++i) {
      Sample& s = samples_[i];
      if (s.asking) continue;
      const TxHash hash = s.hash;
      // Not asking if the request could not go (a lost link): the next poll tries again.
      s.asking = clients_[s.client]->request(ClientRequest{0, QueryTx{hash}}, [this, hash](const ClientResponse& r) {
        const auto it = std::find_if(samples_.begin(), samples_.end(), [&](const Sample& x) { return x.hash == hash; });
        if (it == samples_.end()) return;
        const auto* status = std::get_if<TxStatus>(&r.body);
        if (status && status->state == TxStatus::State::Committed) {
          last_commit_ = Clock::now();
          latencies_.push_back(std::chrono::duration<double, std::milli>(last_commit_ - it->sent).count());
          samples_.erase(it);
        } else {
          it->asking = false;
        }
      });
    }
  }

  const LoadOptions& o_;
  ChainId chain_;
  asio::io_context io_;
  KeyPair me_;
  std::optional<asio::ssl::context> tls_;
  std::vector<std::unique_ptr<net::Client>> clients_;
  std::vector<std::string> addresses_;
  std::vector<PublicKey> keys_;
  std::vector<KeyPair> accounts_;
  std::vector<std::uint64_t> start_nonce_;
  std::vector<std::uint64_t> next_nonce_;
  std::vector<std::uint64_t> ledger_nonce_;  // as last read from the node
  std::vector<Clock::time_point> ledger_moved_;
  std::vector<bool> asking_account_;
  Clock::time_point last_account_poll_;
  Clock::time_point any_moved_;  // when some account's nonce last moved
  static constexpr std::uint64_t in_flight_per_account_max = 64;
  static constexpr std::uint64_t account_poll_ms = 250;
  static constexpr std::uint64_t stall_ms = 3000;
  static constexpr std::uint64_t reconnect_ms = 500;
  std::vector<std::uint64_t> client_awaiting_;  // per client: transfers sent, not answered
  std::vector<Clock::time_point> client_dialled_;
  std::vector<bool> client_connecting_;
  std::size_t next_account_ = 0;
  std::uint64_t awaiting_ = 0;
  std::vector<Sample> samples_;
  std::vector<double> latencies_;
  Clock::time_point start_;
  Clock::time_point last_poll_;
  Clock::time_point last_commit_;
  LoadReport report_;
};

}  // namespace

LoadReport run_load(const LoadOptions& options) { return Load(options).run(); }

VerifyLimit measure_verify_limit(std::size_t nodes, double seconds) {
  SYNOD_ASSERT(nodes > 0);
  const KeyPair key = testnet_account(0);
  const TxSigBytes message = tx_sig_bytes(TxHash{});
  const Signature sig = ed25519_scheme().sign(key, message);
  std::uint64_t verified = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    for (int i = 0; i < 64; ++i) verified += ed25519_scheme().verify(key.public_key, message, sig) ? 1 : 0;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return VerifyLimit{static_cast<double>(verified) / elapsed, std::max(1u, std::thread::hardware_concurrency()), nodes};
}

}  // namespace synod::node
