#include "sim/checker.h"

#include "core/assert.h"
#include "core/sign_bytes.h"
#include "sim/trace.h"

namespace synod::sim {

Checker::Checker(const Genesis& genesis, const SignatureScheme& scheme, std::vector<bool> honest)
    : chain_(genesis.chain_id()),
      scheme_(scheme),
      honest_(std::move(honest)),
      acknowledged_(honest_.size(), 0),
      forked_(honest_.size(), false),
      last_progress_(honest_.size(), 0),
      signed_(genesis.validators.size()) {
  for (const Allocation& a : genesis.allocations) total_ += a.balance;
}

void Checker::violate(TimeMs at, std::string what) {
  if (violations_.size() < violations_max_) violations_.push_back(Violation{at, std::move(what)});
}

void Checker::on_submitted(const TxHash& hash, const Signature& sig, TimeMs at) {
  submitted_.emplace(hash, Submitted{sig, at});
}

void Checker::extend_canonical(TimeMs now, const CommittedBlock& c) {
  canonical_.push_back(Entry{c.block->id, c.outcome.state_root});
  SYNOD_ASSERT(c.outcome.txs.size() == c.block->txs.size());
  // A hint only, from the node's hashes: the checks below use the checker's own.
  for (const TxOutcome& outcome : c.outcome.txs) committed_.prefetch(outcome.hash);
  for (std::size_t i = 0; i < c.block->txs.size(); ++i) {
    const TxOutcome& outcome = c.outcome.txs[i];
    if (outcome.error) continue;  // failed deterministically: moved nothing
    const Transaction& tx = c.block->txs[i];
    const auto where = [&] { return " at height " + std::to_string(c.block->height().value); };
    // Hashed again here, not taken from the outcome: the checker trusts no node.
    const TxHash hash = tx_hash(scheme_.digest(), chain_, tx, scratch_);
    if (!committed_.insert(hash, TxLocation{c.block->height(), static_cast<std::uint32_t>(i), std::nullopt})) {
      violate(now, "integrity: a transaction executed twice" + where());
    }
    const std::optional<Submitted> submitted = submitted_.take(hash);
    // Exactly what a client signed, with its signature, needs no second verification.
    const bool as_submitted = submitted && submitted->sig == tx.sig;
    if (!as_submitted && !scheme_.verify(tx.sender, tx_sig_bytes(hash), tx.sig)) {
      violate(now, "validity: a transaction with a bad signature executed" + where());
    }
    if (!submitted) {
      violate(now, "validity: a transaction no client submitted executed" + where());
    } else {
      latencies_ms_.push_back(now - submitted->at);
    }
    ++committed_txs_;
  }
}

void Checker::on_commits(InstanceId id, TimeMs now, const std::vector<CommittedBlock>& commits,
                         BalanceSum total_balance) {
  const std::string node = "n" + std::to_string(id);
  for (const CommittedBlock& c : commits) {
    const std::uint64_t h = c.block->height().value;
    if (h != acknowledged_[id] + 1) {
      violate(now, node + " committed height " + std::to_string(h) + " after " + std::to_string(acknowledged_[id]));
    }
    acknowledged_[id] = h;
    last_progress_[id] = now;
    // A forked instance's later blocks extend its fork: they are not the
    // canonical chain's, and comparing them would only repeat the violation.
    if (!honest_[id] || forked_[id]) continue;
    if (h == canonical_.size() + 1) {
      extend_canonical(now, c);
    } else if (h <= canonical_.size()) {
      const Entry& e = canonical_[h - 1];
      if (e.block != c.block->id) {
        forked_[id] = true;
        violate(now, "agreement: " + node + " committed a different block at height " + std::to_string(h));
      } else if (e.root != c.outcome.state_root) {
        violate(now, "state: " + node + " has a different state root at height " + std::to_string(h));
      }
    }
  }
  if (honest_[id] && total_balance != total_) violate(now, "conservation: " + node + " changed the total balance");
}

void Checker::on_boot(InstanceId id, TimeMs now, const Recovery& recovery) {
  // Durability: what was acknowledged before the crash is still there.
  const std::uint64_t recovered = recovery.committed.size();
  if (recovered < acknowledged_[id]) {
    violate(now, "durability: n" + std::to_string(id) + " acknowledged height " +
                     std::to_string(acknowledged_[id]) + " but recovered only " + std::to_string(recovered));
  }
  if (honest_[id]) {
    for (std::size_t h = 0; h < std::min(recovered, canonical_.size()); ++h) {
      if (recovery.committed[h].block->id != canonical_[h].block) {
        violate(now, "durability: n" + std::to_string(id) + " recovered a different block at height " +
                         std::to_string(h + 1));
        break;
      }
    }
  }
  // The replica replays what it recovered without acknowledging it again.
  acknowledged_[id] = std::max<std::uint64_t>(acknowledged_[id], recovered);
}

void Checker::compromise(InstanceId id) {
  SYNOD_ASSERT(id < honest_.size());
  honest_[id] = false;
  std::erase(healed_, id);
}

InstanceId Checker::add_instance(bool honest) {
  SYNOD_ASSERT(honest_.size() == acknowledged_.size());
  honest_.push_back(honest);
  acknowledged_.push_back(0);
  forked_.push_back(false);
  last_progress_.push_back(0);
  SYNOD_ASSERT(honest_.size() == forked_.size() && honest_.size() == last_progress_.size());
  return static_cast<InstanceId>(honest_.size() - 1);
}

void Checker::on_sent(InstanceId id, NodeId validator, TimeMs now, const Message& message) {
  SYNOD_ASSERT(id < honest_.size());
  SYNOD_ASSERT(validator.value < signed_.size());
  if (!honest_[id]) return;
  std::uint8_t kind = 0;
  std::uint64_t round = 0, what = 0;
  if (const auto* p = std::get_if<Proposal>(&message)) {
    kind = 0;
    round = p->block->round.value;
    what = fingerprint(p->block->id);
  } else if (const auto* v = std::get_if<Vote>(&message)) {
    kind = 1;
    round = v->round.value;
    what = fingerprint(v->block);
  } else if (const auto* t = std::get_if<Timeout>(&message)) {
    kind = 2;
    round = t->round.value;
    what = t->high_qc.round.value;
  } else {
    return;
  }
  auto& rounds = signed_[validator.value];
  const auto [it, inserted] = rounds.emplace(std::pair{round, kind}, what);
  if (!inserted && it->second != what) {
    static constexpr const char* kinds[] = {"proposals", "votes", "timeouts"};
    violate(now, "equivocation: n" + std::to_string(id) + " (validator " + std::to_string(validator.value) +
                     ") signed two different " + kinds[kind] + " for round " + std::to_string(round));
  }
  while (rounds.size() > signed_kept_max) rounds.erase(rounds.begin());
  SYNOD_ASSERT(rounds.size() <= signed_kept_max);
}

void Checker::on_restore(InstanceId id, Height height) {
  SYNOD_ASSERT(id < acknowledged_.size());
  acknowledged_[id] = std::min(acknowledged_[id], height.value);
}

void Checker::start_liveness(TimeMs now, std::vector<InstanceId> healed, TimeMs bound_ms) {
  liveness_ = true;
  healed_ = std::move(healed);
  liveness_bound_ms_ = bound_ms;
  for (InstanceId id : healed_) last_progress_[id] = now;
}

void Checker::check_liveness(TimeMs now) {
  if (!liveness_) return;
  for (InstanceId id : healed_) {
    if (now - last_progress_[id] > liveness_bound_ms_) {
      violate(now, "liveness: n" + std::to_string(id) + " committed nothing for " +
                       std::to_string(now - last_progress_[id]) + " ms (bound " + std::to_string(liveness_bound_ms_) +
                       " ms)");
      last_progress_[id] = now;  // report each stall once
    }
  }
}

}  // namespace synod::sim
