#include "core/replica.h"

#include <algorithm>
#include <limits>

#include "core/assert.h"
#include "core/sign_bytes.h"

namespace synod {

std::string_view to_string(Reject r) {
  static constexpr std::string_view names[] = {
      "unknown_signer",   "wrong_leader",  "bad_signature",   "bad_certificate",
      "bad_round",        "missing_tc",    "equivocation",
      "oversized_block",  "bad_tx_signature", "conflicts_with_committed", "tree_full",
      "buffer_full",      "not_next_leader", "bad_sync_chain", "unsafe",
  };
  static_assert(std::size(names) == static_cast<std::size_t>(Reject::kCount));
  return names[static_cast<std::size_t>(r)];
}

namespace {

template <class T>
MessagePtr make_message(T body) {
  return std::make_shared<const Message>(std::move(body));
}

// The block the replay starts from: genesis, or the oldest block a pruned store
// kept, whose parent's body is gone (docs/storage.md, Pruning).
BlockPtr replay_root(const ChainId& chain, const Recovery& recovery) {
  if (!recovery.base) return genesis_block(chain);
  SYNOD_ASSERT(!recovery.committed.empty());
  SYNOD_ASSERT(recovery.committed.front().block->parent() == recovery.base->block);
  SYNOD_ASSERT(recovery.committed.front().block->height() == recovery.base->state.height.next());
  return recovery.committed.front().block;
}

}  // namespace

Replica::Replica(const Genesis& genesis, NodeId self, const KeyPair& key, const SignatureScheme& scheme,
                 ReplicaConfig config, const Recovery& recovery, TimeMs now)
    : params_(genesis.params),
      chain_(genesis.chain_id()),
      roster_(genesis.validators),
      self_(self),
      scheme_(scheme),
      config_(config),
      safety_(chain_, self, key, scheme, recovery.safety.value_or(SafetyRecord{})),
      ledger_(recovery.base ? Ledger(genesis, scheme.digest(), recovery.base->state) : Ledger(genesis, scheme.digest())),
      mempool_(chain_, genesis.params, config.mempool, scheme),
      tree_(replay_root(chain_, recovery)),
      root_qc_(genesis_qc(chain_)),
      now_(now),
      high_qc_(genesis_qc(chain_)),
      last_tc_(safety_.record().last_tc) {
  SYNOD_ASSERT(roster_.contains(self));
  SYNOD_ASSERT(roster_.at(self).key == key.public_key);
  SYNOD_ASSERT(config_.committed_blocks_kept_max > 0);
  SYNOD_ASSERT(config_.sync_blocks_max > 0);
  SYNOD_ASSERT(config_.sync_blocks_max <= ::synod::sync_blocks_max);
  SYNOD_ASSERT(config_.buffered_proposals_max > 0);

  // Replay the committed chain, from genesis or from the ledger state a pruned
  // store kept below its oldest block; the store's state roots must match ours.
  for (const CommittedBlock& c : recovery.committed) {
    if (c.block != tree_.root()) {
      SYNOD_ASSERT(c.block->parent() == tree_.root()->id);
      tree_.insert(c.block);
      tree_.prune_to(c.block->id);
    }
    const BlockOutcome outcome = ledger_.execute(*c.block);
    SYNOD_ASSERT(outcome.state_root == c.outcome.state_root);
    root_qc_ = c.qc;
    SYNOD_ASSERT(committed_.empty() || c.block->parent() == committed_.back()->id);
    committed_.push_back(c.block);
    if (committed_.size() > config_.committed_blocks_kept_max) committed_.pop_front();
  }
  high_qc_ = root_qc_;
  if (recovery.safety_lost) {
    // AmnesiaRule: every vote this replica signed was for a block its ledger
    // holds (blocks are durable before votes), so nothing it signed lies below
    // the ledger's highest round; above it, the network must tell.
    Round ledger_round;
    for (const CommittedBlock& c : recovery.committed) ledger_round = std::max({ledger_round, c.block->round, c.qc.round});
    for (const BlockPtr& b : recovery.blocks) ledger_round = std::max(ledger_round, b->round);
    amnesia_ = Amnesia{ledger_round, ledger_round, std::nullopt, std::nullopt};
  }
  for (const BlockPtr& b : recovery.blocks) {
    if (b->height() <= committed_height() || tree_.contains(b->id) || !tree_.contains(b->parent())) continue;
    tree_.insert(b);
    proposals_seen_.emplace(b->round, b->id);
  }
  // Stored blocks were verified before they were saved; their QCs may commit
  // what the store had not yet recorded when the process stopped.
  for (const BlockPtr& b : recovery.blocks) {
    if (tree_.contains(b->id)) process_qc(b->justify, std::nullopt);
  }
  round_ = std::max({round_, high_qc_.round.next(), last_tc_ ? last_tc_->round.next() : Round(1),
                     safety_.record().voted_round});
  round_leader_ = leader(round_);
  round_started_ms_ = now_;
  round_deadline_ms_ = now_ + round_timeout_ms();
  try_propose();
  check_invariants();
}

// ---- entry points ----------------------------------------------------------

void Replica::on_message(NodeId from, const Message& message) {
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Proposal>) on_proposal(from, m);
        if constexpr (std::is_same_v<T, Vote>) on_vote(m);
        if constexpr (std::is_same_v<T, Timeout>) on_timeout(m);
        if constexpr (std::is_same_v<T, SyncRequest>) on_sync_request(from, m);
        if constexpr (std::is_same_v<T, SyncResponse>) on_sync_response(from, m);
        if constexpr (std::is_same_v<T, TxBatch>) on_tx_batch(m);
      },
      message);
  finish_sync_if_connected();
  try_propose();  // a block or certificate that arrived may be what the leader waited for
}

void Replica::on_request(const ClientRequest& request) {
  ClientResponse response{request.id, {}};
  if (const auto* submit = std::get_if<SubmitTx>(&request.body)) {
    auto added = mempool_.add(submit->tx, ledger_);
    if (added) {
      response.body = TxAccepted{*added};
      forward_.push_back(*added);
      forwarded_.push_back(Forwarded{*added, round_});
    } else {
      response.body = TxRejected{tx_hash(scheme_.digest(), chain_, submit->tx), added.error()};
    }
  } else if (const auto* query = std::get_if<QueryAccount>(&request.body)) {
    const Account a = ledger_.account(query->account).value_or(Account{});
    response.body = AccountInfo{a.balance, a.nonce};
  } else if (const auto* query_tx = std::get_if<QueryTx>(&request.body)) {
    TxStatus status;
    if (auto loc = ledger_.find_tx(query_tx->hash)) {
      status = TxStatus{TxStatus::State::Committed, loc->height, loc->index, loc->error};
    } else if (mempool_.contains(query_tx->hash)) {
      status.state = TxStatus::State::Pending;
    }
    response.body = status;
  } else {
    const auto& query_value = std::get<QueryValue>(request.body);
    response.body = ValueInfo{ledger_.value(query_value.owner, query_value.key)};
  }
  outbox_.replies.push_back(std::move(response));
  try_propose();
}

void Replica::on_tick(TimeMs now) {
  now_ = std::max(now_, now);
  (void)may_sign();  // closes the AmnesiaRule's settling window on time
  if (now_ >= round_deadline_ms_) local_timeout();
  if (sync_wanted_ && now_ >= sync_deadline_ms_) {
    // The last peer asked did not help in time: ask the next one.
    do {
      sync_peer_ = NodeId((sync_peer_.value + 1) % static_cast<std::uint32_t>(roster_.size()));
    } while (sync_peer_ == self_ && roster_.size() > 1);
    send_sync_request();
  }
  try_propose();
  finish_sync_if_connected();
}

void Replica::take_outbox(Outbox& out) {
  SYNOD_ASSERT(out.empty());
  if (forward_retry_ != ForwardRetry::None) forward_again();
  if (!forward_.empty()) send_forwards();
  if (safety_dirty_) {
    outbox_.safety = safety_.record();
    safety_dirty_ = false;
  }
  out.swap(outbox_);
  // Once per input: the driver takes the outbox after each one.
  check_invariants();
}

TimeMs Replica::next_deadline() const {
  TimeMs deadline = round_deadline_ms_;
  if (sync_wanted_) deadline = std::min(deadline, sync_deadline_ms_);
  // The idle-block deadline counts only until it passes: the tick at it tries
  // the empty block, and if the leader still cannot propose (no parent, no
  // certificate for its round) only new input can change that, and input
  // calls try_propose itself. A deadline left in the past would spin the driver.
  const TimeMs idle_deadline = round_started_ms_ + config_.idle_block_interval_ms;
  if (config_.idle_block_interval_ms > 0 && now_ < idle_deadline && round_leader_ == self_ &&
      safety_.record().proposed_round < round_) {
    deadline = std::min(deadline, idle_deadline);
  }
  return deadline;
}

void Replica::check_invariants() const {
  const SafetyRecord& record = safety_.record();
  SYNOD_ASSERT(high_qc_.round < round_);
  SYNOD_ASSERT(!last_tc_ || last_tc_->round < round_);
  SYNOD_ASSERT(record.voted_round <= round_);
  SYNOD_ASSERT(record.proposed_round <= round_);
  SYNOD_ASSERT(ledger_.height() == committed_height());
  SYNOD_ASSERT(tree_.size() <= config_.tree_blocks_max + 1);
  SYNOD_ASSERT(buffered_.size() <= config_.buffered_proposals_max);
  SYNOD_ASSERT(forwarded_.size() <= 2 * mempool_.size() + forwarded_slack);
  SYNOD_ASSERT(committed_.size() <= config_.committed_blocks_kept_max);
  SYNOD_ASSERT(committed_.empty() || committed_.back() == tree_.root());
  SYNOD_ASSERT(root_qc_.block == tree_.root()->id);
  SYNOD_ASSERT(votes_.empty() || votes_.rbegin()->first.value <= round_.value + config_.vote_rounds_ahead_max);
  SYNOD_ASSERT(!amnesia_ || amnesia_->observed_round >= amnesia_->ledger_round);
  SYNOD_ASSERT(!amnesia_ || !amnesia_->fence || *amnesia_->fence > amnesia_->ledger_round);
}

// ---- proposals ---------------------------------------------------------------

void Replica::on_proposal(NodeId from, const Proposal& p) {
  if (!p.block) return reject(Reject::BadRound);
  const BlockPtr& b = p.block;
  if (!roster_.contains(b->proposer)) return reject(Reject::UnknownSigner);
  if (b->round <= tree_.root()->round) return;  // below the committed root: nothing to learn
  if (leader(b->round) != b->proposer) return reject(Reject::WrongLeader);
  if (!(b->justify.round < b->round)) return reject(Reject::BadRound);
  std::uint64_t bytes = 0;
  for (const Transaction& tx : b->txs) bytes += tx_size_bytes(tx);
  if (b->txs.size() > params_.block_txs_max || bytes > params_.block_bytes_max) {
    return reject(Reject::OversizedBlock);
  }
  const auto seen = proposals_seen_.find(b->round);
  if (seen != proposals_seen_.end() && seen->second == b->id) return;  // a duplicate delivery
  if (!scheme_.verify(roster_.at(b->proposer).key, proposal_sign_bytes(chain_, b->id), p.sig)) {
    return reject(Reject::BadSignature);
  }
  // EquivocationRule: the leader signed two different blocks for one round.
  // Only the first is considered; the second is evidence, counted.
  if (seen != proposals_seen_.end()) return reject(Reject::Equivocation);
  if (!check_qc(b->justify)) return;
  if (p.tc) {
    if (p.tc->round.next() != b->round) return reject(Reject::BadCertificate);
    if (!check_tc(*p.tc)) return;
  }
  // ProposalRule: a block of round r carries QC(r-1), or a TC(r-1).
  if (b->justify.round.next() != b->round && !p.tc) return reject(Reject::MissingTimeoutCert);

  process_qc(b->justify, from);
  if (p.tc) process_tc(*p.tc);
  if (b->round <= tree_.root()->round) return;
  if (!tree_.contains(b->parent())) {
    if (b->justify.height <= committed_height()) return reject(Reject::ConflictsWithCommitted);
    if (buffered_.size() >= config_.buffered_proposals_max) return reject(Reject::BufferFull);
    proposals_seen_.emplace(b->round, b->id);
    buffered_.emplace(b->round, p);
    return want_sync(from);
  }
  if (!check_txs(*b)) return;
  proposals_seen_.emplace(b->round, b->id);
  accept_proposal(p);
}

// The proposal is authentic and its parent is known.
void Replica::accept_proposal(const Proposal& p) {
  const BlockPtr& b = p.block;
  if (!tree_.contains(b->id)) {
    if (tree_.size() >= config_.tree_blocks_max) return reject(Reject::TreeFull);
    insert_block(b);
  }
  try_vote(b, p.tc);
  try_propose();  // a late proposal may be the parent this node was waiting for
}

bool Replica::check_txs(const Block& b) {
  // Each transaction's signature is verified once per node: those already in
  // the mempool were verified on entry.
  for (std::size_t i = 0; i < b.txs.size(); ++i) {
    const Transaction& tx = b.txs[i];
    if (mempool_.holds_verified(b.tx_hashes[i], tx.sig)) continue;
    if (!scheme_.verify(tx.sender, tx_sig_bytes(b.tx_hashes[i]), tx.sig)) {
      reject(Reject::BadTxSignature);
      return false;
    }
  }
  return true;
}

void Replica::insert_block(const BlockPtr& b) {
  tree_.insert(b);
  outbox_.blocks.push_back(b);
}

void Replica::try_vote(const BlockPtr& b, const std::optional<TimeoutCert>& tc) {
  if (b->round != round_) return;
  if (!may_sign()) {
    ++stats_.signatures_withheld;
    return;
  }
  // VoteRule lives in SafetyRules; it refuses a second vote in this round.
  auto vote = safety_.make_vote(*b, tc);
  if (!vote) return;
  safety_dirty_ = true;
  ++stats_.votes_sent;
  // Votes go to the leader of the next round, who forms the QC; to this node
  // too when it leads next. Counting its own vote here instead would let a
  // validator that is a quorum alone certify, enter the next round and
  // propose again inside this one input, round after round without end: the
  // loopback makes each of its rounds a new input, and the vote leaves only
  // after the record that allows it is durable, like every other.
  send(leader(round_.next()), make_message(*vote));
}

void Replica::try_propose() {
  if (round_leader_ != self_ || safety_.record().proposed_round >= round_) return;
  if (!may_sign()) return hand_on_qc();  // AmnesiaRule: no proposal before the fence
  std::optional<TimeoutCert> tc;
  if (high_qc_.round.next() != round_) {
    if (!last_tc_ || last_tc_->round.next() != round_) return;
    tc = last_tc_;
  }
  const BlockPtr parent = tree_.get(high_qc_.block);
  if (!parent || tree_.size() >= config_.tree_blocks_max) return;  // waiting for catch-up

  const std::vector<BlockPtr> ancestors = tree_.path_from_root(parent->id);
  const bool pending_txs = std::ranges::any_of(ancestors, [](const BlockPtr& a) { return !a->txs.empty(); });
  Mempool::Batch batch = mempool_.batch(ancestors, ledger_, round_);
  // With nothing to order, wait a little before an empty block, but never when
  // an ancestor's transactions still need the next rounds to commit.
  if (batch.txs.empty() && !pending_txs && now_ < round_started_ms_ + config_.idle_block_interval_ms) return;

  BlockPtr block = seal(scheme_.digest(), chain_, Block{round_, self_, high_qc_, std::move(batch.txs), {}},
                        std::move(batch.hashes));
  auto sig = safety_.sign_proposal(*block, tc);
  if (!sig) return;
  safety_dirty_ = true;
  ++stats_.proposals_sent;
  proposals_seen_.emplace(block->round, block->id);
  // Blocks are stored before the record: after a crash between the two, the
  // block proposed then is in the tree, and proposing again may rebuild it.
  if (!tree_.contains(block->id)) insert_block(block);
  broadcast(make_message(Proposal{block, tc, *sig}));
  try_vote(block, tc);
}

// AmnesiaRule 4: a leader that may not propose hands on the QC of the round
// before its own, once, so that the QC does not die with its round.
void Replica::hand_on_qc() {
  if (high_qc_.round.next() != round_ || qc_round_handed_on_ >= high_qc_.round) return;
  qc_round_handed_on_ = high_qc_.round;
  ++stats_.qcs_handed_on;
  broadcast(make_message(SyncResponse{{}, high_qc_, committed_height()}));
}

// ---- votes and quorum certificates ----------------------------------------

void Replica::on_vote(const Vote& v) {
  if (!roster_.contains(v.voter)) return reject(Reject::UnknownSigner);
  if (v.round <= high_qc_.round) return;  // a QC for this round exists already
  if (v.round.value > round_.value + config_.vote_rounds_ahead_max) return reject(Reject::BadRound);
  if (leader(v.round.next()) != self_) return reject(Reject::NotNextLeader);
  // Our own vote, back through the loopback, is the one SafetyRules just
  // signed: compared, not verified again. A twin's vote with our key differs.
  const auto& own = safety_.record().last_vote;
  const bool ours = v.voter == self_ && own && *own == v;
  if (!ours && !scheme_.verify(roster_.at(v.voter).key, vote_sign_bytes(chain_, v.block, v.round, v.height), v.sig)) {
    return reject(Reject::BadSignature);
  }
  add_vote(v);
}

void Replica::add_vote(const Vote& v) {
  auto& round_votes = votes_[v.round];
  const std::pair key(v.block, v.height);
  for (const auto& [other, signers] : round_votes) {
    if (other != key && signers.contains(v.voter)) return reject(Reject::Equivocation);
  }
  auto& signers = round_votes[key];
  if (!signers.emplace(v.voter, v.sig).second) return;  // a duplicate delivery
  std::uint64_t weight = 0;
  for (const auto& [voter, sig] : signers) weight += roster_.weight(voter).value;
  if (!roster_.is_quorum(Weight(weight))) return;

  QuorumCert qc{v.block, v.round, v.height, {}};
  for (const auto& [voter, sig] : signers) qc.votes.push_back(SignerSig{voter, sig});
  ++stats_.qcs_formed;
  remember_verified(qc);
  process_qc(qc, std::nullopt);
}

bool Replica::check_qc(const QuorumCert& qc) {
  // Only an identical copy counts as verified: a QC for the same block with
  // other signatures proves nothing until its own signatures check out.
  const auto [first, last] = verified_qcs_.equal_range(qc.round);
  if (std::any_of(first, last, [&](const auto& entry) { return entry.second == qc; })) return true;
  if (!verify_qc(CertContext{chain_, roster_, scheme_}, qc)) {
    reject(Reject::BadCertificate);
    return false;
  }
  remember_verified(qc);
  return true;
}

void Replica::remember_verified(const QuorumCert& qc) {
  // A round's QC may come signed by several sets of signers; a few are worth
  // keeping, and a peer holding many must not grow the cache without bound.
  if (verified_qcs_.count(qc.round) < verified_qcs_per_round_max) verified_qcs_.emplace(qc.round, qc);
}

bool Replica::check_tc(const TimeoutCert& tc) {
  if (!verify_tc(CertContext{chain_, roster_, scheme_}, tc)) {
    reject(Reject::BadCertificate);
    return false;
  }
  return true;
}

void Replica::process_qc(const QuorumCert& qc, std::optional<NodeId> source) {
  observe_certificate(qc.round);
  if (qc.round > high_qc_.round) high_qc_ = qc;
  const BlockPtr certified = tree_.get(qc.block);
  if (!certified) {
    if (qc.height > committed_height()) want_sync(source);
  } else if (const BlockPtr parent = tree_.get(certified->parent())) {
    // CommitRule: a block commits when a QC certifies its child and the child's
    // round is exactly one more than its own (a two-chain).
    if (parent->height() > committed_height() && certified->round == parent->round.next()) {
      commit(parent, certified->justify);
    }
  }
  advance_round(qc.round.next(), true);
}

void Replica::commit(const BlockPtr& block, const QuorumCert& block_qc) {
  const std::vector<BlockPtr> path = tree_.path_from_root(block->id);
  SYNOD_ASSERT(!path.empty());
  SYNOD_ASSERT(path.back() == block);
  SYNOD_ASSERT(block_qc.block == block->id);
  for (std::size_t i = 0; i < path.size(); ++i) {
    const BlockPtr& b = path[i];
    const QuorumCert& qc = i + 1 < path.size() ? path[i + 1]->justify : block_qc;
    SYNOD_ASSERT(qc.block == b->id);
    const CommittedBlock& c = outbox_.commits.emplace_back(CommittedBlock{b, ledger_.execute(*b), qc});
    mempool_.remove_committed(c.outcome.txs);
    compact_forwarded();
    SYNOD_ASSERT(committed_.empty() || b->parent() == committed_.back()->id);
    committed_.push_back(b);
    if (committed_.size() > config_.committed_blocks_kept_max) committed_.pop_front();
  }
  tree_.prune_to(block->id);
  root_qc_ = block_qc;
  std::erase_if(proposals_seen_, [&](const auto& e) { return e.first <= block->round; });
  std::erase_if(buffered_, [&](const auto& e) { return e.first <= block->round; });
  verified_qcs_.erase(verified_qcs_.begin(), verified_qcs_.lower_bound(block->round));
}

// ---- pacemaker: rounds, timeouts, timeout certificates ---------------------

// RoundTimeout (docs/protocol.md): linear growth per round ended by a timeout.
TimeMs Replica::round_timeout_ms() const {
  const TimeMs grown = config_.round_timeout_ms * (2 + consecutive_timeouts_) / 2;
  return std::min(grown, config_.round_timeout_ms_max);
}

NodeId Replica::leader(Round round) const {
  const std::uint64_t n = roster_.size();
  // A hit needs no division: a 64-bit divide stalls for dozens of cycles, and
  // the handlers ask for a leader several times per input.
  for (const EpochLeaders& e : epoch_leaders_) {
    if (!e.leaders.empty() && round.value - e.first_round < n) return e.leaders[round.value - e.first_round];
  }
  // Two epochs kept: the current round's and the one asked about, which is
  // usually the next (the handlers look one or two rounds ahead).
  const EpochLeaders& first = epoch_leaders_[0];
  const bool first_is_current = !first.leaders.empty() && round_.value - first.first_round < n;
  EpochLeaders& slot = epoch_leaders_[first_is_current ? 1 : 0];
  const std::uint64_t epoch = round.value / n;
  slot = EpochLeaders{epoch * n, roster_.epoch_leaders(scheme_.digest(), chain_, epoch)};
  return slot.leaders[round.value % n];
}

void Replica::advance_round(Round round, bool after_qc) {
  if (round <= round_) return;
  // RoundTimeout: the timer's growth resets on a QC; rounds ended by a TC keep it.
  if (after_qc) consecutive_timeouts_ = 0;
  round_ = round;
  round_leader_ = leader(round_);
  round_started_ms_ = now_;
  round_deadline_ms_ = now_ + round_timeout_ms();
  votes_.erase(votes_.begin(), votes_.lower_bound(Round(round.value - 1)));
  timeouts_.erase(timeouts_.begin(), timeouts_.lower_bound(round));
  // Retried at the next flush, once however many rounds this input passed.
  forward_retry_ = std::max(forward_retry_, after_qc ? ForwardRetry::Due : ForwardRetry::All);
  try_propose();
}

bool Replica::local_timeout() {
  ++consecutive_timeouts_;
  round_deadline_ms_ = now_ + round_timeout_ms();
  if (!may_sign()) {
    ++stats_.signatures_withheld;
    return false;
  }
  // TimeoutRule lives in SafetyRules; a repeated timeout resends the same bytes.
  auto timeout = safety_.make_timeout(round_, high_qc_, last_tc_);
  if (!timeout) {
    reject(Reject::Unsafe);
    return false;
  }
  safety_dirty_ = true;
  ++stats_.timeouts_sent;
  broadcast(make_message(*timeout));
  // Resend this round's vote, byte for byte, in case it was lost: the next
  // leader may still form the QC and spare the round a TC.
  const auto& last_vote = safety_.record().last_vote;
  if (last_vote && last_vote->round == round_ && leader(round_.next()) != self_) {
    send(leader(round_.next()), make_message(*last_vote));
  }
  add_timeout(*timeout);
  return true;
}

void Replica::on_timeout(const Timeout& t) {
  if (!roster_.contains(t.sender)) return reject(Reject::UnknownSigner);
  if (t.round < round_) return;  // that round is over here
  if (t.round.value > round_.value + config_.vote_rounds_ahead_max) return reject(Reject::BadRound);
  if (!(t.high_qc.round < t.round)) return reject(Reject::BadRound);
  if (!scheme_.verify(roster_.at(t.sender).key, timeout_sign_bytes(chain_, t.round, t.high_qc.round), t.sig)) {
    return reject(Reject::BadSignature);
  }
  if (!check_qc(t.high_qc)) return;
  // TimeoutCarriesTc: the TC that justified the sender's round moves a replica
  // still in an earlier round up to it.
  if (t.tc) {
    if (t.tc->round.next() != t.round) return reject(Reject::BadCertificate);
    if (!check_tc(*t.tc)) return;
  }
  process_qc(t.high_qc, t.sender);
  if (t.tc) process_tc(*t.tc);
  add_timeout(t);
}

void Replica::add_timeout(const Timeout& t) {
  if (t.round < round_) return;
  auto& round_timeouts = timeouts_[t.round];
  auto [it, inserted] = round_timeouts.emplace(t.sender, t);
  if (!inserted) {
    if (it->second.sig != t.sig || it->second.high_qc.round != t.high_qc.round) reject(Reject::Equivocation);
    return;
  }
  std::uint64_t weight = 0;
  for (const auto& [sender, timeout] : round_timeouts) weight += roster_.weight(sender).value;
  // TimeoutJoin: more than 1/3 of the weight timed out this round, so at least
  // one honest validator did; joining keeps timeouts from stalling on skew.
  const auto& own = safety_.record().last_timeout;
  if (t.round == round_ && roster_.exceeds_one_third(Weight(weight)) && !(own && own->round == round_)) {
    if (local_timeout()) return;  // it added our own timeout, which re-checked for a TC
  }
  if (!roster_.is_quorum(Weight(weight))) return;
  TimeoutCert tc{t.round, {}};
  for (const auto& [sender, timeout] : round_timeouts) {
    tc.timeouts.push_back(TimeoutSig{sender, timeout.high_qc.round, timeout.sig});
  }
  ++stats_.tcs_formed;
  process_tc(tc);
}

void Replica::process_tc(const TimeoutCert& tc) {
  observe_certificate(tc.round);
  if (!last_tc_ || tc.round > last_tc_->round) last_tc_ = tc;
  advance_round(tc.round.next(), false);
}

// ---- AmnesiaRule ----------------------------------------------------------------

void Replica::observe_certificate(Round round) {
  if (!amnesia_ || amnesia_->fence) return;
  amnesia_->observed_round = std::max(amnesia_->observed_round, round);
  if (!amnesia_->settle_until && round > amnesia_->ledger_round) {
    amnesia_->settle_until = now_ + config_.amnesia_settle_ms;
  }
}

// AmnesiaRule (docs/protocol.md): a replica that lost its record signs nothing
// until the settling window after the first certificate above its ledger has
// closed, and then only in rounds above fence = observed_round + 1.
bool Replica::may_sign() {
  if (!amnesia_) return true;
  if (!amnesia_->fence && amnesia_->settle_until && now_ >= *amnesia_->settle_until) {
    amnesia_->fence = amnesia_->observed_round.next();
  }
  if (!amnesia_->fence || round_ <= *amnesia_->fence) return false;
  amnesia_.reset();  // the first signature writes a fresh record; the other rules take over
  return true;
}

// ---- catch-up ----------------------------------------------------------------

void Replica::want_sync(std::optional<NodeId> peer) {
  const bool idle = !sync_wanted_;
  sync_wanted_ = true;
  if (!idle) return;  // a request is in flight; the tick retries elsewhere if it fails
  if (peer && *peer != self_) {
    sync_peer_ = *peer;
    send_sync_request();
  } else {
    // The missing block may still arrive on its own (a late proposal): wait a
    // retry interval before asking.
    sync_deadline_ms_ = now_ + config_.sync_retry_ms;
  }
}

void Replica::send_sync_request(std::optional<Height> after) {
  if (sync_peer_ == self_) return;
  SYNOD_ASSERT(!after || *after >= committed_height());
  ++stats_.sync_requests_sent;
  sync_deadline_ms_ = now_ + config_.sync_retry_ms;
  send(sync_peer_, make_message(SyncRequest{after.value_or(committed_height())}));
}

void Replica::finish_sync_if_connected() {
  if (sync_wanted_ && buffered_.empty() && tree_.contains(high_qc_.block)) sync_wanted_ = false;
}

void Replica::on_sync_request(NodeId from, const SyncRequest& r) {
  // Serve the chain after the requester's committed height up to our highest
  // certified block, each block certified by the next and the last by `qc`.
  SyncResponse response;
  response.committed_height = committed_height();
  const bool have_high = tree_.contains(high_qc_.block);
  const QuorumCert& tip_qc = have_high ? high_qc_ : root_qc_;
  const std::vector<BlockPtr> pending = tree_.path_from_root(tip_qc.block);

  std::vector<std::pair<BlockPtr, const QuorumCert*>> chain;
  const Height from_height = r.committed_height.next();
  if (from_height <= committed_height()) {
    SYNOD_ASSERT(!committed_.empty());  // from_height >= 1, so something committed
    if (committed_.front()->height() > from_height) {
      // Below the memory window: the store serves it, up to the committed
      // root at most (the driver stops at what the store already holds), so
      // that a response can reach into the window: one that stopped below it
      // would end on a QC that commits nothing new for a requester at the
      // window's edge, which would ask for the same blocks again. A store
      // that pruned those bodies answers with no blocks and our height, so
      // the requester asks someone else.
      ++stats_.sync_requests_from_store;
      outbox_.store_syncs.push_back(StoreSync{from, from_height, committed_height(), config_.sync_blocks_max,
                                              config_.sync_bytes_max, committed_height()});
      return;
    }
    for (std::size_t i = 0; i < committed_.size(); ++i) {
      if (committed_[i]->height() < from_height) continue;
      chain.emplace_back(committed_[i], i + 1 < committed_.size() ? &committed_[i + 1]->justify : &root_qc_);
    }
  }
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (pending[i]->height() < from_height) continue;
    chain.emplace_back(pending[i], i + 1 < pending.size() ? &pending[i + 1]->justify : &tip_qc);
  }
  // Stop at the count and byte limits so the response fits in one frame; the
  // requester asks again for the rest. The first block always goes, so a
  // chain of large blocks still makes progress.
  std::size_t bytes = 0;
  std::size_t kept = 0;
  for (; kept < chain.size() && kept < config_.sync_blocks_max; ++kept) {
    for (const Transaction& tx : chain[kept].first->txs) bytes += tx_size_bytes(tx);
    if (kept > 0 && bytes > config_.sync_bytes_max) break;
  }
  chain.resize(kept);
  for (const auto& [block, qc] : chain) response.blocks.push_back(block);
  response.qc = chain.empty() ? high_qc_ : *chain.back().second;
  send(from, make_message(std::move(response)));
}

void Replica::on_sync_response(NodeId from, const SyncResponse& r) {
  if (r.blocks.size() > config_.sync_blocks_max) return reject(Reject::BadSyncChain);
  // Skip what we hold; the rest must form one chain hanging off a known block.
  std::vector<BlockPtr> fresh;
  for (const BlockPtr& b : r.blocks) {
    if (!b) return reject(Reject::BadSyncChain);
    if (b->height() > committed_height() && !tree_.contains(b->id)) fresh.push_back(b);
  }
  if (!fresh.empty() && !tree_.contains(fresh.front()->parent())) return reject(Reject::BadSyncChain);
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    const Block& b = *fresh[i];
    if (!(b.justify.round < b.round)) return reject(Reject::BadSyncChain);
    if (i > 0 && (b.justify.block != fresh[i - 1]->id || b.justify.round != fresh[i - 1]->round)) {
      return reject(Reject::BadSyncChain);
    }
  }
  if (r.qc && !fresh.empty()) {
    const Block& last = *fresh.back();
    if (r.qc->block != last.id || r.qc->round != last.round || r.qc->height != last.height()) {
      return reject(Reject::BadSyncChain);
    }
  }
  if (!fresh.empty() && !r.qc) return reject(Reject::BadSyncChain);
  if (tree_.size() + fresh.size() > config_.tree_blocks_max) return reject(Reject::TreeFull);
  // Every block is certified by a quorum, so at least one honest validator
  // checked its transactions' signatures before voting: they are not checked again.
  for (const BlockPtr& b : fresh) {
    if (!check_qc(b->justify)) return;
  }
  if (r.qc && !check_qc(*r.qc)) return;

  for (const BlockPtr& b : fresh) {
    if (!tree_.contains(b->id) && tree_.contains(b->parent())) insert_block(b);
  }
  for (const BlockPtr& b : fresh) process_qc(b->justify, from);
  if (r.qc) process_qc(*r.qc, from);
  retry_buffered_proposals();

  // A response that stopped at or below this peer's committed root was cut
  // short by its limits: the peer holds at least the certified child of its
  // root. Keep asking it, after the last block it sent. Asking after our
  // committed height instead would bring back the same blocks whenever a
  // response is too short to commit anything (small sync_blocks_max or
  // sync_bytes_max, large blocks): every block of it held already, nothing
  // fresh, and catch-up stalled. The blocks up to the last one are in our
  // tree, as this peer's chain, so the next response links to them. A
  // response that reached above the peer's root ends the exchange; what
  // follows comes with the next proposals.
  if (!r.blocks.empty() && r.blocks.back()->height() <= r.committed_height &&
      tree_.contains(r.blocks.back()->id)) {
    sync_peer_ = from;
    send_sync_request(std::max(r.blocks.back()->height(), committed_height()));
  }
}

void Replica::retry_buffered_proposals() {
  for (auto it = buffered_.begin(); it != buffered_.end();) {
    if (!tree_.contains(it->second.block->parent())) {
      ++it;
      continue;
    }
    const Proposal proposal = it->second;
    it = buffered_.erase(it);
    if (check_txs(*proposal.block)) accept_proposal(proposal);
  }
}

void Replica::on_tx_batch(const TxBatch& b) {
  // Forwarded transactions are admitted like a client's; a rejection here is
  // normal (a duplicate of what a client sent us directly) and not counted.
  SYNOD_ASSERT(b.tx_hashes.size() == b.txs.size());  // sealed
  for (std::size_t i = 0; i < b.txs.size(); ++i) (void)mempool_.add(b.txs[i], b.tx_hashes[i], ledger_);
  try_propose();  // an idle leader proposes as soon as there is something to order
}

// ---- forwarding (docs/protocol.md section 12) -------------------------------

// Oldest first: an entry is due once tx_forward_retry_rounds rounds passed
// since its last forward, or at once when a TC ended a round (the leader a
// transaction went to may be the one that failed). Entries whose transaction
// left the pool leave here too.
void Replica::forward_again() {
  const bool all = forward_retry_ == ForwardRetry::All;
  forward_retry_ = ForwardRetry::None;
  // After a TC, what a certified block carries is on its way to commit: it is
  // only stamped again, and goes again if it is still pending four rounds on.
  std::vector<TxHash> certified;
  if (all) {
    for (const BlockPtr& b : tree_.path_from_root(high_qc_.block)) {
      certified.insert(certified.end(), b->tx_hashes.begin(), b->tx_hashes.end());
    }
    std::ranges::sort(certified);
  }
  for (std::size_t left = forwarded_.size(); left > 0; --left) {
    const Forwarded f = forwarded_.front();
    const Transaction* tx = mempool_.find(f.hash);
    const bool due = round_.value >= f.round.value + tx_forward_retry_rounds;
    if (tx != nullptr && !all && !due) break;
    forwarded_.pop_front();
    if (tx == nullptr) continue;  // committed, or failed in a block
    forwarded_.push_back(Forwarded{f.hash, round_});
    if (!due && std::ranges::binary_search(certified, f.hash)) continue;
    forward_.push_back(f.hash);
    ++stats_.txs_forwarded_again;
  }
}

// Entries whose transaction left the pool wait for the front otherwise; past
// twice the pool (plus a slack) they are swept, which keeps forwarded_ within
// the bound check_invariants asserts at a cost of O(1) per entry.
void Replica::compact_forwarded() {
  if (forwarded_.size() <= 2 * mempool_.size() + forwarded_slack) return;
  std::erase_if(forwarded_, [&](const Forwarded& f) { return !mempool_.contains(f.hash); });
}

// To the leaders of the next two proposals, in batches the wire accepts: this
// round's and the next while this round's proposal has not been seen (it may
// still come: an idle leader, or a round entered through a TC), else the next
// two rounds'.
void Replica::send_forwards() {
  const Round next = proposals_seen_.contains(round_) ? round_.next() : round_;
  const NodeId first = leader(next);
  const NodeId second = leader(next.next());
  TxBatch batch;
  std::uint64_t bytes = 0;
  const auto send_batch = [&] {
    if (batch.txs.empty()) return;  // every one committed since it was queued
    const MessagePtr m = make_message(std::exchange(batch, {}));
    if (first != self_) send(first, m);
    if (second != self_ && second != first) send(second, m);
    bytes = 0;
  };
  for (const TxHash& hash : forward_) {
    const Transaction* tx = mempool_.find(hash);
    if (tx == nullptr) continue;  // committed since it was queued here
    const std::size_t size = tx_size_bytes(*tx);
    if (!batch.txs.empty() &&
        (batch.txs.size() + 1 > params_.block_txs_max || bytes + size > params_.block_bytes_max)) {
      send_batch();
    }
    batch.txs.push_back(*tx);
    batch.tx_hashes.push_back(hash);
    bytes += size;
  }
  send_batch();
  forward_.clear();
}

// ---- output ----------------------------------------------------------------

void Replica::send(NodeId to, MessagePtr m) { outbox_.messages.push_back(Envelope{to, std::move(m)}); }

void Replica::broadcast(const MessagePtr& m) {
  for (std::uint32_t i = 0; i < roster_.size(); ++i) {
    if (NodeId(i) != self_) send(NodeId(i), m);
  }
}

void Replica::reject(Reject r) { ++stats_.rejected_by_reason[static_cast<std::size_t>(r)]; }

}  // namespace synod
