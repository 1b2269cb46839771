// Replica: one validator's consensus state machine (two-chain HotStuff with
// timeout certificates, as in Jolteon / DiemBFT v4). Single-threaded and pure:
// handlers take one input, append effects to the outbox, and never do I/O,
// read a clock or draw a random number. docs/protocol.md names every rule used
// here; the rule is quoted above the code that enforces it.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/block_tree.h"
#include "core/certs.h"
#include "core/mempool.h"
#include "core/safety_rules.h"
#include "core/store.h"
#include "core/wire.h"

namespace synod {

struct Envelope {
  NodeId to;
  MessagePtr message;
};

// A peer's catch-up request below the replica's memory window, for the driver
// to answer from the store (docs/protocol.md, Catch-up): the committed blocks
// from `from` to `until` (or to what the store holds, if less), within the
// limits, with the QC of the last, in a SyncResponse that names
// `committed_height`; no blocks if the store cannot.
struct StoreSync {
  NodeId peer;
  Height from;
  Height until;
  std::size_t blocks_max = 0;
  std::size_t bytes_max = 0;
  Height committed_height;
};

// Effects of one or more handler calls. The driver handles the fields in this
// order, and must: 1. make the blocks durable (a restart then finds every QC
// the record's highest_qc_round names); 2. persist + fsync the safety record;
// 3. only then send the messages (a vote or timeout must never leave before
// the record that forbids signing its round again), and answer the store
// syncs; 4. make the commits durable in height order, then deliver the replies.
struct Outbox {
  std::optional<SafetyRecord> safety;
  std::vector<BlockPtr> blocks;
  std::vector<Envelope> messages;
  std::vector<StoreSync> store_syncs;
  std::vector<CommittedBlock> commits;
  std::vector<ClientResponse> replies;

  bool empty() const {
    return !safety && blocks.empty() && messages.empty() && store_syncs.empty() && commits.empty() &&
           replies.empty();
  }
  // Trades contents with `other`, buffers included; cheaper than std::swap,
  // which moves the whole Outbox three times.
  void swap(Outbox& other) {
    safety.swap(other.safety);
    blocks.swap(other.blocks);
    messages.swap(other.messages);
    store_syncs.swap(other.store_syncs);
    commits.swap(other.commits);
    replies.swap(other.replies);
  }
  // Empties it and keeps the buffers, for the next inputs' outputs.
  void clear() {
    safety.reset();
    blocks.clear();
    messages.clear();
    store_syncs.clear();
    commits.clear();
    replies.clear();
  }
};

struct ReplicaConfig {
  TimeMs round_timeout_ms = 1000;
  TimeMs round_timeout_ms_max = 60000;
  // A leader with nothing to propose waits this long before an empty block.
  TimeMs idle_block_interval_ms = 0;
  TimeMs sync_retry_ms = 500;
  std::size_t tree_blocks_max = 4096;
  std::size_t buffered_proposals_max = 64;
  std::size_t committed_blocks_kept_max = 100000;  // served to peers catching up
  std::uint64_t vote_rounds_ahead_max = 64;         // votes/timeouts kept for future rounds
  std::size_t sync_blocks_max = ::synod::sync_blocks_max;  // the decoder refuses more
  std::size_t sync_bytes_max = frame_bytes_max / 2;  // transaction bytes per response
  // AmnesiaRule: how long a replica that lost its record keeps watching the
  // network's certificates before it fixes the round it may sign after.
  TimeMs amnesia_settle_ms = 10000;
  MempoolLimits mempool;
};

// Why an input was refused. Byzantine input is an operating condition: it is
// counted here (and in /metrics) and the replica carries on.
enum class Reject : std::uint8_t {
  UnknownSigner,
  WrongLeader,
  BadSignature,
  BadCertificate,
  BadRound,
  MissingTimeoutCert,
  Equivocation,
  OversizedBlock,
  BadTxSignature,
  ConflictsWithCommitted,
  TreeFull,
  BufferFull,
  NotNextLeader,
  BadSyncChain,
  Unsafe,
  kCount,
};
std::string_view to_string(Reject r);

struct ReplicaStats {
  std::array<std::uint64_t, static_cast<std::size_t>(Reject::kCount)> rejected_by_reason{};
  std::uint64_t proposals_sent = 0;
  std::uint64_t votes_sent = 0;
  std::uint64_t timeouts_sent = 0;
  std::uint64_t qcs_formed = 0;
  std::uint64_t tcs_formed = 0;
  std::uint64_t sync_requests_sent = 0;
  std::uint64_t sync_requests_from_store = 0;  // below the memory window: the driver answers from the store
  std::uint64_t signatures_withheld = 0;  // votes and timeouts the AmnesiaRule held back
  std::uint64_t qcs_handed_on = 0;        // QCs an amnesiac leader sent on instead of proposing
  std::uint64_t txs_forwarded_again = 0;  // clients' transactions still pending rounds after a forward
  std::uint64_t rejected(Reject r) const { return rejected_by_reason[static_cast<std::size_t>(r)]; }
};

class Replica {
 public:
  Replica(const Genesis& genesis, NodeId self, const KeyPair& key, const SignatureScheme& scheme,
          ReplicaConfig config, const Recovery& recovery, TimeMs now);

  void on_message(NodeId from, const Message& message);  // untrusted input
  void on_request(const ClientRequest& request);          // untrusted input
  void on_tick(TimeMs now);
  // Hands over what the inputs since the last call produced: `out` must be
  // empty, and its buffers stay with the replica for the next outputs. Checks
  // the invariants: a driver calls it after every input.
  void take_outbox(Outbox& out);
  Outbox take_outbox() {
    Outbox out;
    take_outbox(out);
    return out;
  }

  // The latest time at which on_tick must be called again.
  TimeMs next_deadline() const;
  void check_invariants() const;

  NodeId self() const { return self_; }
  Round round() const { return round_; }
  Height committed_height() const { return tree_.root()->height(); }
  const BlockPtr& committed_block() const { return tree_.root(); }
  const QuorumCert& high_qc() const { return high_qc_; }
  bool catching_up() const { return sync_wanted_; }
  const Ledger& ledger() const { return ledger_; }
  const Mempool& mempool() const { return mempool_; }
  const ReplicaStats& stats() const { return stats_; }
  const SafetyRecord& safety_record() const { return safety_.record(); }
  const Roster& roster() const { return roster_; }
  // The schedule's leader of `round`, drawn with this chain's digest; two
  // epochs' leaders are cached, since the handlers ask for the current and
  // the next rounds' on every input.
  NodeId leader(Round round) const;
  const ChainId& chain_id() const { return chain_; }
  // AmnesiaRule: true while a replica that lost its safety record may not
  // sign; the fence, once fixed, is the round it must pass first.
  bool amnesiac() const { return amnesia_.has_value(); }
  std::optional<Round> amnesia_fence() const { return amnesia_ ? amnesia_->fence : std::nullopt; }

 private:
  void on_proposal(NodeId from, const Proposal& p);
  void accept_proposal(const Proposal& p);
  void on_vote(const Vote& v);
  void add_vote(const Vote& v);
  void on_timeout(const Timeout& t);
  void add_timeout(const Timeout& t);
  void on_sync_request(NodeId from, const SyncRequest& r);
  void on_sync_response(NodeId from, const SyncResponse& r);
  void on_tx_batch(const TxBatch& b);
  void forward_again();
  void compact_forwarded();
  void send_forwards();

  // Returns false (and counts why) if the certificate does not verify.
  bool check_qc(const QuorumCert& qc);
  void remember_verified(const QuorumCert& qc);
  bool check_tc(const TimeoutCert& tc);
  bool check_txs(const Block& b);
  void process_qc(const QuorumCert& qc, std::optional<NodeId> source);
  void process_tc(const TimeoutCert& tc);
  void commit(const BlockPtr& block, const QuorumCert& block_qc);
  void advance_round(Round round, bool after_qc);
  void insert_block(const BlockPtr& b);
  void try_vote(const BlockPtr& b, const std::optional<TimeoutCert>& tc);
  void try_propose();
  void hand_on_qc();
  // Signs (or resends) this round's timeout; false if the TimeoutRule refused.
  bool local_timeout();
  void want_sync(std::optional<NodeId> peer);
  void finish_sync_if_connected();
  // Asks sync_peer_ for the chain after `after` (default: the committed height).
  void send_sync_request(std::optional<Height> after = std::nullopt);
  void retry_buffered_proposals();
  void send(NodeId to, MessagePtr m);
  void broadcast(const MessagePtr& m);
  void reject(Reject r);
  TimeMs round_timeout_ms() const;
  // AmnesiaRule: notes a processed certificate's round, and says whether this
  // replica may sign in its current round.
  void observe_certificate(Round round);
  bool may_sign();

  ChainParams params_;
  ChainId chain_;
  Roster roster_;
  NodeId self_;
  const SignatureScheme& scheme_;
  ReplicaConfig config_;
  SafetyRules safety_;
  Ledger ledger_;
  Mempool mempool_;
  BlockTree tree_;
  // The newest committed blocks, for peers catching up. Each is certified by
  // the next one's justify and the newest, the root, by root_qc_: the window
  // holds no QC or outcome of its own.
  std::deque<BlockPtr> committed_;
  QuorumCert root_qc_;  // certifies the committed root

  TimeMs now_ = 0;
  Round round_;
  NodeId round_leader_;  // leader(round_), set with round_: asked on every input
  struct EpochLeaders {
    std::uint64_t first_round = 0;  // the epoch's first round: epoch * n
    std::vector<NodeId> leaders;    // empty: nothing cached
  };
  mutable std::array<EpochLeaders, 2> epoch_leaders_;  // a cache of Roster::epoch_leaders
  TimeMs round_deadline_ms_ = 0;
  TimeMs round_started_ms_ = 0;
  std::uint32_t consecutive_timeouts_ = 0;
  QuorumCert high_qc_;
  std::optional<TimeoutCert> last_tc_;
  bool safety_dirty_ = false;  // record changed since the last outbox

  std::map<Round, BlockId> proposals_seen_;  // equivocation detection
  // Votes collected as the next leader, by round, then by (block, height).
  std::map<Round, std::map<std::pair<BlockId, Height>, std::map<NodeId, Signature>>> votes_;
  std::map<Round, std::map<NodeId, Timeout>> timeouts_;
  static constexpr std::size_t verified_qcs_per_round_max = 4;
  std::multimap<Round, QuorumCert> verified_qcs_;  // QCs already verified, by round
  std::map<Round, Proposal> buffered_;  // waiting for missing ancestors

  bool sync_wanted_ = false;
  NodeId sync_peer_;
  TimeMs sync_deadline_ms_ = 0;

  // Present only while the AmnesiaRule holds signing back.
  struct Amnesia {
    Round ledger_round;                  // highest round in the durable ledger at restart
    Round observed_round;                // highest certificate round processed since
    std::optional<TimeMs> settle_until;  // set by the first certificate above ledger_round
    std::optional<Round> fence;          // observed_round + 1 once the window closed
  };
  std::optional<Amnesia> amnesia_;
  Round qc_round_handed_on_;  // the last QC handed on because this leader could not propose

  // Forwarding (docs/protocol.md section 12): this node's clients'
  // transactions, each with the round of its last forward, oldest first;
  // entries of transactions no longer pending leave as they reach the front,
  // or in a sweep (compact_forwarded).
  static constexpr std::uint64_t tx_forward_retry_rounds = 4;
  static constexpr std::size_t forwarded_slack = 64;
  struct Forwarded {
    TxHash hash;
    Round round;
  };
  std::deque<Forwarded> forwarded_;
  // Set by entering a round: the due entries (after a QC) or all of them
  // (after a TC) go again at the next flush.
  enum class ForwardRetry { None, Due, All };
  ForwardRetry forward_retry_ = ForwardRetry::None;
  std::vector<TxHash> forward_;  // pending here, to send to the next two leaders at the next flush
  Outbox outbox_;
  ReplicaStats stats_;
};

}  // namespace synod
