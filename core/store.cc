#include "core/store.h"

#include "core/assert.h"
#include "core/sign_bytes.h"

namespace synod {

std::string_view to_string(StoreErrorKind kind) {
  switch (kind) {
    case StoreErrorKind::Io: return "io";
    case StoreErrorKind::Locked: return "locked";
    case StoreErrorKind::MissingSafetyRecord: return "missing_safety_record";
    case StoreErrorKind::CorruptSafetyRecord: return "corrupt_safety_record";
    case StoreErrorKind::CorruptLedger: return "corrupt_ledger";
    case StoreErrorKind::WrongChain: return "wrong_chain";
    case StoreErrorKind::WrongNode: return "wrong_node";
    case StoreErrorKind::SchemaTooNew: return "schema_too_new";
    case StoreErrorKind::Pruned: return "pruned";
  }
  return "unknown";
}

std::string to_string(const StoreError& error) {
  std::string out(to_string(error.kind));
  if (!error.detail.empty()) out += ": " + error.detail;
  return out;
}

std::expected<std::vector<CommittedBlock>, StoreError> Store::committed_range(Height from, Height until,
                                                                               std::size_t blocks_max,
                                                                               std::size_t bytes_max) const {
  SYNOD_ASSERT(from > Height(0));
  SYNOD_ASSERT(until <= committed_height());
  SYNOD_ASSERT(blocks_max > 0);
  std::vector<CommittedBlock> out;
  std::size_t bytes = 0;
  for (Height h = from; h <= until && out.size() < blocks_max; h = h.next()) {
    auto c = committed_block(h);
    if (!c) return std::unexpected(c.error());
    for (const Transaction& tx : c->block->txs) bytes += tx_size_bytes(tx);
    if (!out.empty() && bytes > bytes_max) break;
    SYNOD_ASSERT(out.empty() || c->block->parent() == out.back().block->id);
    out.push_back(std::move(*c));
  }
  SYNOD_ASSERT(out.size() <= blocks_max);
  return out;
}

}  // namespace synod
