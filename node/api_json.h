// The client API's JSON forms (docs/client_api.md): transactions, fates,
// accounts and blocks, written by the node and read by it and by `synod tx`.
// nlohmann's full header stays in the .cc files that build JSON.
#pragma once

#include <expected>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "core/messages.h"
#include "core/store.h"

namespace synod::node {

// Any even number of hex digits (upper or lower case); nullopt otherwise.
std::optional<Bytes> parse_hex_var(std::string_view text);

nlohmann::json tx_to_json(const Transaction& tx);
// A transaction as POST /v1/tx takes it; the error names the field.
std::expected<Transaction, std::string> tx_from_json(const nlohmann::json& json);

// A transaction's fate; a rejection is passed as `rejected`.
nlohmann::json fate_to_json(const TxHash& hash, const TxStatus& status, std::optional<TxError> rejected = std::nullopt);
// True for a final fate (committed or rejected).
bool fate_final(const nlohmann::json& fate);

// The block with each transaction and its outcome.
nlohmann::json block_to_json(const CommittedBlock& committed);
// The commit event: the block's header and each transaction's hash and outcome.
nlohmann::json commit_event(const CommittedBlock& committed);

}  // namespace synod::node
