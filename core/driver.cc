#include "core/driver.h"

#include "core/assert.h"

namespace synod {

Driver::Driver(Replica& replica, Clock& clock, Network& network, Store& store, Subscriber* subscriber)
    : replica_(replica), clock_(clock), network_(network), store_(store), subscriber_(subscriber) {}

void Driver::start() {
  SYNOD_ASSERT(!started_);
  started_ = true;
  flush();  // recovery may have committed what the store had not recorded yet
}

void Driver::deliver(NodeId from, const Message& message) {
  SYNOD_ASSERT(started_);
  SYNOD_ASSERT(!crashed_);
  replica_.on_tick(clock_.now());
  replica_.on_message(from, message);
  flush();
}

void Driver::request(const ClientRequest& request) {
  SYNOD_ASSERT(started_);
  SYNOD_ASSERT(!crashed_);
  replica_.on_tick(clock_.now());
  replica_.on_request(request);
  flush();
}

void Driver::tick() {
  SYNOD_ASSERT(started_);
  SYNOD_ASSERT(!crashed_);
  replica_.on_tick(clock_.now());
  flush();
}

// Committed history below the replica's window, read from the store. A store
// that cannot (pruned bodies) sends no blocks, which the requester takes as
// "ask someone else".
void Driver::serve_from_store(const StoreSync& s) {
  SYNOD_ASSERT(s.from <= s.until);
  // This input's commits become durable after the messages (step 4): the
  // store may hold fewer than the replica committed.
  const Height until = std::min(s.until, store_.committed_height());
  SyncResponse response{{}, std::nullopt, s.committed_height};
  auto range = s.from <= until ? store_.committed_range(s.from, until, s.blocks_max, s.bytes_max)
                               : std::expected<std::vector<CommittedBlock>, StoreError>{};
  if (range && !range->empty()) {
    for (const CommittedBlock& c : *range) response.blocks.push_back(c.block);
    response.qc = range->back().qc;
    ++stats_.store_syncs_served;
  } else {
    ++stats_.store_syncs_refused;
  }
  SYNOD_ASSERT(response.blocks.size() <= s.blocks_max);
  network_.send(s.peer, std::make_shared<const Message>(std::move(response)));
}

bool Driver::stop_before(Step step) {
  if (crash_before_ && crash_before_(step)) crashed_ = true;
  return crashed_;
}

void Driver::flush() {
  replica_.take_outbox(outbox_);
  if (!outbox_.empty()) carry_out(outbox_);
  outbox_.clear();
}

void Driver::carry_out(const Outbox& out) {
  // 1. Blocks are durable before the record that votes for them, so that a
  //    restart finds every QC the record's highest_qc_round names.
  if (!out.blocks.empty()) {
    if (stop_before(Step::PersistBlocks)) return;
    store_.save_blocks(out.blocks);
  }
  // 2. The safety record is durable before any vote or timeout it allows leaves.
  if (out.safety) {
    if (stop_before(Step::PersistSafety)) return;
    store_.save_safety(*out.safety);
  }
  // 3. Only now may messages leave.
  if (!out.messages.empty() || !out.store_syncs.empty()) {
    if (stop_before(Step::Send)) return;
    for (const Envelope& e : out.messages) network_.send(e.to, e.message);
    for (const StoreSync& s : out.store_syncs) serve_from_store(s);
  }
  // 4. Commits become durable in order; only then are they acknowledged.
  if (!out.commits.empty()) {
    if (stop_before(Step::PersistCommits)) return;
    store_.save_commits(out.commits);
  }
  if (subscriber_ && (!out.commits.empty() || !out.replies.empty())) {
    if (stop_before(Step::Notify)) return;
    subscriber_->on_commits(out.commits);
    subscriber_->on_replies(out.replies);
  }
}

}  // namespace synod
