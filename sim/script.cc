#include "sim/script.h"

#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "sim/cluster.h"

namespace synod::sim {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

std::uint32_t parse_node(const std::string& s) { return static_cast<std::uint32_t>(std::stoul(s)); }

// "A->B" with either side "*": which queued messages a command applies to.
std::function<bool(const Packet&)> link_filter(const std::vector<std::string>& args) {
  if (args.size() < 2) return [](const Packet&) { return true; };
  const auto ends = split(args[1], '-');
  if (ends.size() != 2 || ends[1].empty() || ends[1][0] != '>') throw std::runtime_error("expected A->B");
  const std::string from = ends[0], to = ends[1].substr(1);
  return [=](const Packet& m) {
    return (from == "*" || m.source == parse_node(from)) && (to == "*" || m.target == parse_node(to));
  };
}

class Session {
 public:
  std::string run(const std::string& script) {
    std::istringstream in(script);
    std::string line;
    bool pending_blank = false;
    while (std::getline(in, line)) {
      if (line.rfind("# ", 0) == 0 || line == "#") {
        if (pending_blank) out_ << "\n";
        pending_blank = false;
        out_ << line << "\n";
      } else if (line.rfind("> ", 0) == 0) {
        if (pending_blank) out_ << "\n";
        pending_blank = false;
        out_ << line << "\n";
        execute(line.substr(2));
      } else if (line.empty()) {
        pending_blank = true;
      }
    }
    return out_.str();
  }

 private:
  Cluster& cluster() {
    if (!cluster_) make_cluster({});
    return *cluster_;
  }

  void make_cluster(const std::vector<std::string>& args) {
    ClusterOptions options;
    options.auto_deliver = false;
    options.real_crypto = true;  // the golden ids and signatures are Ed25519's
    options.accounts = 4;
    options.replica.round_timeout_ms = 1000;
    // An idle leader waits for a tick before an empty block, so `stabilize` ends.
    options.replica.idle_block_interval_ms = 100;
    for (std::size_t i = 1; i < args.size(); ++i) {
      const auto kv = split(args[i], '=');
      if (kv.size() != 2) throw std::runtime_error("expected key=value: " + args[i]);
      if (kv[0] == "weights") {
        options.weights.clear();
        for (const auto& w : split(kv[1], ',')) options.weights.push_back(std::stoull(w));
      } else if (kv[0] == "timeout") {
        options.replica.round_timeout_ms = std::stoull(kv[1]);
      } else {
        throw std::runtime_error("unknown cluster option " + kv[0]);
      }
    }
    cluster_ = std::make_unique<Cluster>(options);
    cluster_->set_trace([this](const std::string& l) { out_ << l << "\n"; });
    // The boot of every node already ran (the first leader proposed); show who leads.
    out_ << "leaders r1..r8:";
    for (std::uint64_t r = 1; r <= 8; ++r) {
      out_ << " " << cluster_->replica(NodeId(0))->leader(Round(r));
    }
    out_ << "\n";
  }

  void execute(const std::string& command) {
    const std::vector<std::string> args = split(command, ' ');
    if (args.empty()) return;
    const std::string& verb = args[0];
    try {
      if (verb == "cluster") {
        if (cluster_) throw std::runtime_error("cluster must be the first command");
        make_cluster(args);
      } else if (verb == "status") {
        status();
      } else if (verb == "queued") {
        for (const Packet& m : cluster().in_flight()) {
          out_ << NodeId(m.source) << " -> " << NodeId(m.target) << " " << describe(*m.message) << "\n";
        }
      } else if (verb == "deliver") {
        cluster().deliver_queued(link_filter(args));
      } else if (verb == "stabilize") {
        for (int i = 0; i < 1000 && !cluster().in_flight().empty(); ++i) {
          cluster().deliver_queued([](const Packet&) { return true; });
        }
      } else if (verb == "drop") {
        cluster().drop_queued(link_filter(args));
      } else if (verb == "tick") {
        cluster().advance(std::stoull(args.at(1)));
      } else if (verb == "partition") {
        std::vector<std::vector<NodeId>> groups;
        for (const auto& g : split(command.substr(verb.size()), '|')) {
          groups.emplace_back();
          for (const auto& n : split(g, ',')) {
            const auto trimmed = split(n, ' ');
            if (!trimmed.empty()) groups.back().push_back(NodeId(parse_node(trimmed[0])));
          }
        }
        cluster().partition(groups);
      } else if (verb == "heal") {
        cluster().heal();
      } else if (verb == "crash") {
        cluster().crash(NodeId(parse_node(args.at(1))));
      } else if (verb == "restart") {
        cluster().restart(NodeId(parse_node(args.at(1))));
      } else if (verb == "submit") {
        const ClientResponse r = cluster().submit_transfer(NodeId(parse_node(args.at(1))), std::stoul(args.at(2)),
                                                           std::stoul(args.at(3)), std::stoull(args.at(4)));
        if (const auto* ok = std::get_if<TxAccepted>(&r.body)) out_ << "accepted tx:" << ok->hash << "\n";
        if (const auto* no = std::get_if<TxRejected>(&r.body)) out_ << "rejected " << to_string(no->reason) << "\n";
      } else {
        throw std::runtime_error("unknown command");
      }
    } catch (const std::exception& e) {
      out_ << "error: " << e.what() << "\n";
    }
  }

  void status() {
    for (std::uint32_t i = 0; i < cluster().size(); ++i) {
      const Replica* r = cluster().replica(NodeId(i));
      out_ << NodeId(i) << ": ";
      if (!r) {
        out_ << "down, committed " << cluster().committed_height(NodeId(i)) << "\n";
        continue;
      }
      out_ << r->round() << " committed " << r->committed_height() << " b:" << r->committed_block()->id
           << " high_qc " << r->high_qc().round << " voted " << r->safety_record().voted_round
           << (r->catching_up() ? " catching-up" : "") << " root:" << r->ledger().state_root() << "\n";
    }
    for (const std::string& v : cluster().violations()) out_ << "VIOLATION " << v << "\n";
  }

  std::unique_ptr<Cluster> cluster_;
  std::ostringstream out_;
};

}  // namespace

std::string run_script(const std::string& script) { return Session().run(script); }

}  // namespace synod::sim
