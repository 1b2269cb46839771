#include "core/messages.h"

#include <algorithm>
#include <sstream>

namespace synod {

std::string_view to_string(TxError e) {
  switch (e) {
    case TxError::PoolFull: return "POOL_FULL";
    case TxError::BadSignature: return "BAD_SIGNATURE";
    case TxError::BadNonce: return "BAD_NONCE";
    case TxError::TooLarge: return "TOO_LARGE";
    case TxError::Duplicate: return "DUPLICATE";
    case TxError::InsufficientBalance: return "INSUFFICIENT_BALANCE";
    case TxError::BalanceOverflow: return "BALANCE_OVERFLOW";
    case TxError::AlreadyCommitted: return "ALREADY_COMMITTED";
  }
  return "UNKNOWN";
}

Round TimeoutCert::high_qc_round() const {
  Round r;
  for (const TimeoutSig& t : timeouts) r = std::max(r, t.high_qc_round);
  return r;
}

std::string_view message_kind(const Message& m) {
  static constexpr std::string_view names[] = {"proposal", "vote", "timeout",
                                               "sync_request", "sync_response", "tx_batch"};
  return names[m.index()];
}

namespace {
struct Describe {
  std::ostringstream& os;
  void operator()(const Proposal& p) const {
    os << "proposal " << p.block->round << " " << p.block->height() << " b:" << p.block->id
       << " parent:" << p.block->parent() << " qc:" << p.block->justify.round
       << " txs:" << p.block->txs.size();
    if (p.tc) os << " tc:" << p.tc->round;
  }
  void operator()(const Vote& v) const {
    os << "vote " << v.round << " " << v.height << " b:" << v.block << " by " << v.voter;
  }
  void operator()(const Timeout& t) const {
    os << "timeout " << t.round << " qc:" << t.high_qc.round << " by " << t.sender;
  }
  void operator()(const SyncRequest& s) const { os << "sync_request after " << s.committed_height; }
  void operator()(const SyncResponse& s) const {
    os << "sync_response blocks:" << s.blocks.size();
    if (!s.blocks.empty()) os << " " << s.blocks.front()->height() << ".." << s.blocks.back()->height();
    os << " committed:" << s.committed_height;
  }
  void operator()(const TxBatch& b) const { os << "tx_batch txs:" << b.txs.size(); }
};
}  // namespace

std::string describe(const Message& m) {
  std::ostringstream os;
  std::visit(Describe{os}, m);
  return os.str();
}

}  // namespace synod
