// /status as text for people: `synod status` (one node and its view of the
// roster) and `synod testnet`'s live view (one line per node).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace synod::node {

std::string format_status(const nlohmann::json& status);
// Nodes that did not answer are shown as "down" (or `starting` if running[i]).
std::string format_nodes(const std::vector<std::optional<nlohmann::json>>& statuses, const std::vector<bool>& running);

}  // namespace synod::node
