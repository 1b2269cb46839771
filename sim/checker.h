// Checker: the simulation's invariants (DESIGN.md section 4), checked as the
// run goes, not at the end, so a violation is reported at the event that
// caused it. Honest instances (of validators whose key is not compromised)
// must agree on every committed block and state root at every height; no
// transaction commits twice; only transactions a client submitted, validly
// signed, execute; the total balance never changes; a commit acknowledged to
// the node's subscribers survives any crash; and, once the liveness phase
// starts, every healed honest instance commits within the stated bound.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/digest_map.h"
#include "core/ledger.h"
#include "core/store.h"
#include "sim/sim_network.h"

namespace synod::sim {

struct Violation {
  TimeMs at = 0;
  std::string what;
};

class Checker {
 public:
  Checker(const Genesis& genesis, const SignatureScheme& scheme, std::vector<bool> honest);

  // A client signed `hash` with `sig` at `at`.
  void on_submitted(const TxHash& hash, const Signature& sig, TimeMs at);
  void on_commits(InstanceId id, TimeMs now, const std::vector<CommittedBlock>& commits, BalanceSum total_balance);
  void on_boot(InstanceId id, TimeMs now, const Recovery& recovery);
  // Equivocation: an honest validator never signs two different proposals,
  // votes or timeouts for one round, across crashes and restores. Given
  // every message an instance sends, it fires when the second one leaves.
  void on_sent(InstanceId id, NodeId validator, TimeMs now, const Message& message);
  // The instance's ledger was replaced by a backup at `height`: what it
  // acknowledged above that was dropped on purpose, not lost.
  void on_restore(InstanceId id, Height height);
  // A key compromised mid-run: from now on the instance's commits are not
  // held to agreement, and it is not expected to stay live. What it
  // committed while honest stays on the canonical chain.
  void compromise(InstanceId id);
  // An instance made mid-run (a twin); returns its id.
  InstanceId add_instance(bool honest);

  // Liveness phase: each of `healed` must commit a new block within `bound_ms`
  // of `now`, and again within `bound_ms` of each commit.
  void start_liveness(TimeMs now, std::vector<InstanceId> healed, TimeMs bound_ms);
  void check_liveness(TimeMs now);

  // The first violations_max() findings; later ones are dropped.
  const std::vector<Violation>& violations() const { return violations_; }
  std::size_t violations_max() const { return violations_max_; }
  Height canonical_height() const { return Height(canonical_.size()); }
  Height acknowledged_height(InstanceId id) const { return Height(acknowledged_.at(id)); }
  // Submission-to-commit latencies of committed transactions, in commit order.
  const std::vector<TimeMs>& commit_latencies_ms() const { return latencies_ms_; }
  std::uint64_t committed_txs() const { return committed_txs_; }

 private:
  struct Entry {
    BlockId block;
    StateRoot root;
  };
  void violate(TimeMs at, std::string what);
  void extend_canonical(TimeMs now, const CommittedBlock& c);

  ChainId chain_;
  const SignatureScheme& scheme_;
  std::vector<bool> honest_;
  BalanceSum total_ = 0;
  std::vector<Entry> canonical_;  // by height - 1: the first honest commit at each height
  std::vector<std::uint64_t> acknowledged_;  // per instance: highest acknowledged height
  std::vector<bool> forked_;  // per instance: committed a block off the canonical chain
  // The signature and submission time of every transaction a client sent;
  // erased when it commits.
  struct Submitted {
    Signature sig;
    TimeMs at;
  };
  DigestMap<TxHash, Submitted> submitted_;
  Bytes scratch_;  // sign-bytes buffer, reused for every transaction checked
  TxIndex committed_;  // every transaction that executed on the canonical chain
  std::vector<TimeMs> latencies_ms_;
  std::uint64_t committed_txs_ = 0;
  std::vector<Violation> violations_;
  std::size_t violations_max_ = 100;

  bool liveness_ = false;
  TimeMs liveness_bound_ms_ = 0;
  std::vector<InstanceId> healed_;
  std::vector<TimeMs> last_progress_;  // per instance

  // Per validator, what it signed in its newest rounds: (round, kind) -> a
  // fingerprint of the block (proposal, vote) or the high QC's round
  // (timeout). The oldest rounds leave beyond signed_kept_max entries.
  std::vector<std::map<std::pair<std::uint64_t, std::uint8_t>, std::uint64_t>> signed_;
  static constexpr std::size_t signed_kept_max = 3 * 1024;
};

}  // namespace synod::sim
