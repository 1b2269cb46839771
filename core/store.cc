#include "core/store.h"

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

}  // namespace synod
