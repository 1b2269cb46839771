#include "node/status_view.h"

#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/assert.h"

namespace synod::node {

using nlohmann::json;

namespace {

// Columns padded to their widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) {
    SYNOD_ASSERT(row.size() == rows_.front().size());
    rows_.push_back(std::move(row));
  }
  std::string str() const {
    std::vector<std::size_t> width(rows_.front().size(), 0);
    for (const auto& row : rows_) {
      for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    std::ostringstream out;
    for (const auto& row : rows_) {
      std::string line;
      for (std::size_t c = 0; c < row.size(); ++c) {
        line += row[c];
        if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
      }
      while (line.ends_with(' ')) line.pop_back();
      out << line << "\n";
    }
    return out.str();
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string number(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->dump();
}

std::string fixed(double v, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << v;
  return out.str();
}

std::string state(const json& s) {
  std::string text = s.value("catching_up", true) ? "catching up" : "in consensus";
  if (!s.value("may_sign", true)) text += ", not signing (AmnesiaRule)";
  return text;
}

}  // namespace

std::string format_status(const json& s) {
  std::ostringstream out;
  out << "node n" << number(s, "node") << "  chain " << s.value("chain_id", "").substr(0, 16) << "  height "
      << number(s, "height") << "  round " << number(s, "round") << "  " << state(s) << "\n";
  out << "peers " << number(s, "peers_connected") << " connected, " << number(s, "validators_missing")
      << " missing, " << number(s, "failures_absorbable") << " more failures absorbable  mempool "
      << number(s, "mempool_txs") << " txs  version " << s.value("version", "") << " (" << s.value("git_hash", "")
      << ")  launched " << s.value("launched", "") << "\n\n";
  Table t({"validator", "address", "weight", "reachable", "height", "last seen", "round trip"});
  for (const json& v : s.value("validators", json::array())) {
    const bool self = v.value("self", false);
    std::string seen, rtt;
    if (!self) {
      const auto ago = v.find("last_seen_ms_ago");
      seen = ago == v.end() || ago->is_null() ? "never" : fixed(ago->get<double>() / 1000.0, 1) + " s ago";
      const auto r = v.find("rtt_ms");
      rtt = r == v.end() || r->is_null() ? "" : fixed(r->get<double>(), 2) + " ms";
    }
    t.add({"n" + number(v, "node") + (self ? " (this node)" : ""), v.value("address", ""), number(v, "weight"),
           v.value("connected", false) ? "yes" : "no", number(v, "height"), seen, rtt});
  }
  out << t.str();
  return out.str();
}

std::string format_nodes(const std::vector<std::optional<json>>& statuses, const std::vector<bool>& running) {
  SYNOD_ASSERT(statuses.size() == running.size());
  Table t({"node", "height", "round", "state", "peers", "mempool", "committed txs"});
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    const std::string name = "n" + std::to_string(i);
    if (!statuses[i]) {
      t.add({name, "", "", running[i] ? "starting" : "down", "", "", ""});
      continue;
    }
    const json& s = *statuses[i];
    t.add({name, number(s, "height"), number(s, "round"), state(s),
           number(s, "peers_connected") + "/" + std::to_string(s.value("validators", json::array()).size() - 1),
           number(s, "mempool_txs"), number(s, "committed_txs")});
  }
  return t.str();
}

}  // namespace synod::node
