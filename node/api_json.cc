#include "node/api_json.h"

#include <nlohmann/json.hpp>

#include "core/assert.h"
#include "node/config.h"

namespace synod::node {

using nlohmann::json;

std::optional<Bytes> parse_hex_var(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  Bytes out(text.size() / 2);
  if (!parse_hex_bytes(text, out)) return std::nullopt;
  return out;
}

namespace {

// The field `name` of `object` as `Fixed` from exact hex; the error names it.
template <class Fixed>
std::expected<Fixed, std::string> fixed_field(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::unexpected(std::string(name) + " must be a hex string");
  Fixed out;
  if (!parse_hex(it->get_ref<const std::string&>(), out)) {
    return std::unexpected(std::string(name) + " must be exactly " + std::to_string(2 * Fixed::size) + " hex digits");
  }
  return out;
}

std::expected<std::uint64_t, std::string> u64_field(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_unsigned()) {
    return std::unexpected(std::string(name) + " must be a whole number from 0 to 2^64-1");
  }
  return it->get<std::uint64_t>();
}

std::expected<Bytes, std::string> bytes_field(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::unexpected(std::string(name) + " must be a hex string");
  auto bytes = parse_hex_var(it->get_ref<const std::string&>());
  if (!bytes) return std::unexpected(std::string(name) + " must be an even number of hex digits");
  return *bytes;
}

std::string outcome_of(const std::optional<TxError>& error) { return error ? "failed" : "executed"; }

}  // namespace

json tx_to_json(const Transaction& tx) {
  json j;
  j["sender"] = hex(tx.sender.view());
  j["nonce"] = tx.nonce;
  if (const auto* t = std::get_if<Transfer>(&tx.op)) {
    j["transfer"] = {{"to", hex(t->to.view())}, {"amount", t->amount}};
  } else {
    const auto& s = std::get<StoreValue>(tx.op);
    j["store"] = {{"key", hex(s.key)}, {"value", hex(s.value)}};
  }
  j["signature"] = hex(tx.sig.view());
  return j;
}

std::expected<Transaction, std::string> tx_from_json(const json& j) {
  if (!j.is_object()) return std::unexpected("a transaction must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "sender" && key != "nonce" && key != "transfer" && key != "store" && key != "signature") {
      return std::unexpected("unknown field " + key);
    }
  }
  Transaction tx;
  auto sender = fixed_field<PublicKey>(j, "sender");
  if (!sender) return std::unexpected(sender.error());
  tx.sender = *sender;
  auto nonce = u64_field(j, "nonce");
  if (!nonce) return std::unexpected(nonce.error());
  tx.nonce = *nonce;
  const bool transfer = j.contains("transfer"), store = j.contains("store");
  if (transfer == store) return std::unexpected("a transaction has exactly one of transfer and store");
  if (transfer) {
    const json& t = j["transfer"];
    if (!t.is_object()) return std::unexpected("transfer must be an object with to and amount");
    auto to = fixed_field<PublicKey>(t, "to");
    if (!to) return std::unexpected("transfer." + to.error());
    auto amount = u64_field(t, "amount");
    if (!amount) return std::unexpected("transfer." + amount.error());
    tx.op = Transfer{*to, *amount};
  } else {
    const json& s = j["store"];
    if (!s.is_object()) return std::unexpected("store must be an object with key and value");
    auto key = bytes_field(s, "key");
    if (!key) return std::unexpected("store." + key.error());
    auto value = bytes_field(s, "value");
    if (!value) return std::unexpected("store." + value.error());
    tx.op = StoreValue{std::move(*key), std::move(*value)};
  }
  auto sig = fixed_field<Signature>(j, "signature");
  if (!sig) return std::unexpected(sig.error());
  tx.sig = *sig;
  return tx;
}

json fate_to_json(const TxHash& hash, const TxStatus& status, std::optional<TxError> rejected) {
  json j;
  j["hash"] = hex(hash.view());
  if (status.state == TxStatus::State::Committed) {
    j["state"] = "committed";
    j["height"] = status.height.value;
    j["index"] = status.index;
    j["outcome"] = outcome_of(status.error);
    if (status.error) j["error"] = std::string(to_string(*status.error));
  } else if (status.state == TxStatus::State::Pending) {
    j["state"] = "pending";
  } else {
    SYNOD_ASSERT(rejected.has_value());
    j["state"] = "rejected";
    j["error"] = std::string(to_string(*rejected));
  }
  return j;
}

bool fate_final(const json& fate) {
  const auto state = fate.value("state", "");
  return state == "committed" || state == "rejected";
}

json block_to_json(const CommittedBlock& c) {
  const Block& b = *c.block;
  SYNOD_ASSERT(c.outcome.txs.size() == b.txs.size());
  json j;
  j["height"] = b.height().value;
  j["round"] = b.round.value;
  j["id"] = hex(b.id.view());
  j["parent"] = hex(b.parent().view());
  j["proposer"] = b.proposer.value;
  j["state_root"] = hex(c.outcome.state_root.view());
  json txs = json::array();
  for (std::size_t i = 0; i < b.txs.size(); ++i) {
    json t = tx_to_json(b.txs[i]);
    t["hash"] = hex(c.outcome.txs[i].hash.view());
    t["outcome"] = outcome_of(c.outcome.txs[i].error);
    if (c.outcome.txs[i].error) t["error"] = std::string(to_string(*c.outcome.txs[i].error));
    txs.push_back(std::move(t));
  }
  j["txs"] = std::move(txs);
  return j;
}

json commit_event(const CommittedBlock& c) {
  json j;
  j["event"] = "commit";
  j["height"] = c.block->height().value;
  j["round"] = c.block->round.value;
  j["id"] = hex(c.block->id.view());
  json txs = json::array();
  for (const TxOutcome& t : c.outcome.txs) {
    json e{{"hash", hex(t.hash.view())}, {"outcome", outcome_of(t.error)}};
    if (t.error) e["error"] = std::string(to_string(*t.error));
    txs.push_back(std::move(e));
  }
  j["txs"] = std::move(txs);
  return j;
}

}  // namespace synod::node
