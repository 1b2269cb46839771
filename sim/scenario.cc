#include "sim/scenario.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <sstream>

#include "core/assert.h"
#include "core/roster.h"
#include "sim/report.h"

namespace synod::sim {

namespace {

constexpr std::string_view recording_magic = "# synod scenario";

std::string join(const std::vector<std::uint64_t>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out;
}

// The shortest text that reads back as the same double.
std::string exact(double value) {
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  SYNOD_ASSERT(error == std::errc());
  return std::string(buffer, end);
}

std::string hex(std::uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

// The links' settings a scenario may ask for; `what` names the asking operation.
void check_links(const LinkFaults& links, std::string_view what) {
  if (links.latency_ms_min > links.latency_ms_max || links.latency_ms_max < 1 ||
      links.latency_ms_max > Scenario::latency_ms_max) {
    throw ScenarioError(std::string(what) + " wants a latency of 0 <= min <= max, 1 <= max <= " +
                        std::to_string(Scenario::latency_ms_max) +
                        " ms (a network without delay would stop virtual time), not " +
                        std::to_string(links.latency_ms_min) + ".." + std::to_string(links.latency_ms_max));
  }
  if (!(links.loss >= 0 && links.loss <= 1)) {
    throw ScenarioError(std::string(what) + " wants a loss probability from 0 to 1, not " + exact(links.loss));
  }
}

ClusterOptions cluster_options(const ScenarioOptions& o) {
  if (o.weights.empty() || o.weights.size() > Scenario::validators_max) {
    throw ScenarioError("a cluster has 1 to " + std::to_string(Scenario::validators_max) + " validators, not " +
                        std::to_string(o.weights.size()));
  }
  std::uint64_t total = 0;
  for (std::uint64_t w : o.weights) {
    if (w == 0 || w > total_weight_max - total) {
      throw ScenarioError("validator weights are positive and total at most 2^60, not " + join(o.weights));
    }
    total += w;
  }
  if (o.accounts < 2 || o.accounts > Scenario::accounts_max) {
    throw ScenarioError("a cluster has 2 to " + std::to_string(Scenario::accounts_max) + " client accounts, not " +
                        std::to_string(o.accounts));
  }
  check_links(o.links, "a cluster");
  ClusterOptions c;
  c.weights = o.weights;
  c.seed = o.seed;
  c.links = o.links;
  c.accounts = o.accounts;
  c.timeline = true;
  return c;
}

}  // namespace

Scenario::Scenario(ScenarioOptions options) : options_(std::move(options)), cluster_(cluster_options(options_)) {
  SYNOD_ASSERT(cluster_.validators() == options_.weights.size());
  SYNOD_ASSERT(now() == 0);
}

void Scenario::check_instance(NodeId instance) const {
  if (instance.value >= cluster_.size()) {
    throw ScenarioError("no node " + std::to_string(instance.value) + ": the cluster has nodes 0 to " +
                        std::to_string(cluster_.size() - 1));
  }
}

void Scenario::check_validator(NodeId validator) const {
  if (validator.value >= cluster_.validators()) {
    throw ScenarioError("no validator " + std::to_string(validator.value) + ": the validators are 0 to " +
                        std::to_string(cluster_.validators() - 1) + " (twins cannot be compromised again)");
  }
}

void Scenario::require(NodeId instance, std::string_view operation, NodeState wanted, std::string_view hint) const {
  check_instance(instance);
  const NodeState now = cluster_.state(instance);
  if (now == wanted) return;
  throw ScenarioError(std::string(operation) + ": node " + std::to_string(instance.value) + " is " +
                      std::string(to_string(now)) + ", not " + std::string(to_string(wanted)) + std::string(hint));
}

void Scenario::require_running(NodeId instance, std::string_view operation) const {
  check_instance(instance);
  if (cluster_.node(instance).running()) return;
  throw ScenarioError(std::string(operation) + ": node " + std::to_string(instance.value) + " is " +
                      std::string(to_string(cluster_.state(instance))));
}

void Scenario::record(const std::string& operation) {
  operations_.push_back("@" + std::to_string(now()) + " " + operation);
}

void Scenario::partition(const std::vector<std::vector<NodeId>>& groups) {
  std::vector<bool> seen(cluster_.size(), false);
  std::string text = "partition";
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) throw ScenarioError("partition: group " + std::to_string(g) + " is empty");
    text += g ? " |" : "";
    std::string members;
    for (NodeId n : groups[g]) {
      check_instance(n);
      if (seen[n.value]) throw ScenarioError("partition: node " + std::to_string(n.value) + " is in two groups");
      seen[n.value] = true;
      members += (members.empty() ? " " : ",") + std::to_string(n.value);
    }
    text += members;
  }
  if (groups.empty()) throw ScenarioError("partition: name at least one group");
  record(text);
  cluster_.partition(groups);
}

void Scenario::heal() {
  record("heal");
  cluster_.heal();
}

void Scenario::isolate(NodeId instance) {
  check_instance(instance);
  record("isolate " + std::to_string(instance.value));
  cluster_.isolate(instance);
}

void Scenario::crash(NodeId instance) {
  require_running(instance, "crash");
  record("crash " + std::to_string(instance.value));
  cluster_.crash(instance);
  SYNOD_ASSERT(!cluster_.node(instance).running());
}

void Scenario::restart(NodeId instance) {
  require(instance, "restart", NodeState::Down);
  record("restart " + std::to_string(instance.value));
  cluster_.restart(instance);
}

void Scenario::pause(NodeId instance) {
  require(instance, "pause", NodeState::Up);
  record("pause " + std::to_string(instance.value));
  cluster_.pause(instance);
  SYNOD_ASSERT(cluster_.state(instance) == NodeState::Paused);
}

void Scenario::resume(NodeId instance) {
  require(instance, "resume", NodeState::Paused);
  record("resume " + std::to_string(instance.value));
  cluster_.resume(instance);
}

namespace {
constexpr std::array<std::pair<std::string_view, Driver::Step>, 5> step_names = {{
    {"persist-blocks", Driver::Step::PersistBlocks},
    {"persist-safety", Driver::Step::PersistSafety},
    {"send", Driver::Step::Send},
    {"persist-commits", Driver::Step::PersistCommits},
    {"notify", Driver::Step::Notify},
}};
}  // namespace

void Scenario::crash_before(NodeId instance, const std::string& step) {
  require_running(instance, "crash_before");
  const auto it = std::ranges::find(step_names, step, [](const auto& named) { return named.first; });
  if (it == step_names.end()) {
    throw ScenarioError("crash_before: no step '" + step +
                        "'; one of persist-blocks, persist-safety, send, persist-commits, notify");
  }
  record("crash-before " + std::to_string(instance.value) + " " + step);
  cluster_.crash_before(instance, it->second);
}

NodeId Scenario::compromise(NodeId validator) {
  check_validator(validator);
  for (std::uint32_t i = static_cast<std::uint32_t>(cluster_.validators()); i < cluster_.size(); ++i) {
    if (cluster_.validator_of(NodeId(i)) == validator) {
      throw ScenarioError("compromise: validator " + std::to_string(validator.value) + " already has a twin, node " +
                          std::to_string(i));
    }
  }
  record("compromise " + std::to_string(validator.value));
  const NodeId twin = cluster_.compromise(validator);
  SYNOD_ASSERT(cluster_.validator_of(twin) == validator);
  SYNOD_ASSERT(!cluster_.honest(validator));
  return twin;
}

void Scenario::equivocate(NodeId validator) {
  check_validator(validator);
  record("equivocate " + std::to_string(validator.value));
  cluster_.equivocate(validator);
  SYNOD_ASSERT(!cluster_.honest(validator));
}

std::size_t Scenario::backup(NodeId instance) {
  check_instance(instance);
  record("backup " + std::to_string(instance.value));
  return cluster_.backup(instance);
}

void Scenario::restore(NodeId instance, std::size_t backup) {
  check_instance(instance);
  if (backup >= cluster_.backups()) {
    throw ScenarioError("restore: no backup " + std::to_string(backup) + " (" + std::to_string(cluster_.backups()) +
                        " taken)");
  }
  require(instance, "restore", NodeState::Down, "; crash it first");
  record("restore " + std::to_string(instance.value) + " " + std::to_string(backup));
  cluster_.restore(instance, backup);
}

void Scenario::upgrade(NodeId instance) {
  require(instance, "upgrade", NodeState::Down, "; crash it first, as an operator stops a node to install the new version");
  record("upgrade " + std::to_string(instance.value));
  cluster_.upgrade(instance);
}

void Scenario::set_latency(TimeMs ms_min, TimeMs ms_max) {
  LinkFaults links = cluster_.options().links;
  links.latency_ms_min = ms_min;
  links.latency_ms_max = ms_max;
  check_links(links, "set_latency");
  record("latency " + std::to_string(ms_min) + " " + std::to_string(ms_max));
  cluster_.set_links(links);
}

void Scenario::set_loss(double probability) {
  LinkFaults links = cluster_.options().links;
  links.loss = probability;
  check_links(links, "set_loss");
  record("loss " + exact(probability));
  cluster_.set_links(links);
}

void Scenario::skew_clock(NodeId instance, std::int64_t skew_ms) {
  check_instance(instance);
  if (skew_ms < -skew_ms_max || skew_ms > skew_ms_max) {
    throw ScenarioError("skew_clock wants at most an hour either way, not " + std::to_string(skew_ms) + " ms");
  }
  record("skew " + std::to_string(instance.value) + " " + std::to_string(skew_ms));
  cluster_.skew_clock(instance, skew_ms, 0);
}

void Scenario::load(std::uint32_t tx_per_s) {
  if (tx_per_s > load_tx_per_s_max) {
    throw ScenarioError("load is at most " + std::to_string(load_tx_per_s_max) + " transactions per second, not " +
                        std::to_string(tx_per_s));
  }
  record("load " + std::to_string(tx_per_s));
  cluster_.set_load(tx_per_s);
}

SubmitResult Scenario::submit(NodeId via, std::size_t from_account, std::size_t to_account, std::uint64_t amount) {
  require(via, "submit", NodeState::Up);
  if (!cluster_.is_up(via)) throw ScenarioError("submit: node " + std::to_string(via.value) + " is still starting");
  if (from_account >= options_.accounts || to_account >= options_.accounts) {
    throw ScenarioError("submit: the accounts are 0 to " + std::to_string(options_.accounts - 1) + ", not " +
                        std::to_string(from_account) + " and " + std::to_string(to_account));
  }
  record("submit " + std::to_string(via.value) + " " + std::to_string(from_account) + " " +
         std::to_string(to_account) + " " + std::to_string(amount));
  const ClientResponse response = cluster_.submit_transfer(via, from_account, to_account, amount);
  if (const auto* rejected = std::get_if<TxRejected>(&response.body)) {
    return SubmitResult{false, std::string(synod::to_string(rejected->reason))};
  }
  SYNOD_ASSERT(std::holds_alternative<TxAccepted>(response.body));
  return SubmitResult{true, {}};
}

void Scenario::run_for(TimeMs duration_ms) {
  if (duration_ms > run_ms_max) throw ScenarioError("run_for: at most a year of virtual time at once");
  const TimeMs before = now();
  cluster_.run_for(duration_ms);
  SYNOD_ASSERT(now() == before + duration_ms);
}

std::string Scenario::recording() const {
  std::ostringstream out;
  out << recording_magic << ": replay with synod-sim --replay FILE\n";
  out << "cluster weights=" << join(options_.weights) << " seed=" << options_.seed
      << " latency=" << options_.links.latency_ms_min << "-" << options_.links.latency_ms_max
      << " loss=" << exact(options_.links.loss) << " accounts=" << options_.accounts << "\n";
  for (const std::string& op : operations_) out << op << "\n";
  out << "@" << now() << " end trace=" << hex(cluster_.trace_hash()) << "\n";
  return out.str();
}

RunResult Scenario::result() const {
  RunResult r;
  r.weights = options_.weights;
  r.violations = cluster_.violations();
  r.trace_hash = cluster_.trace_hash();
  r.events = cluster_.events_count();
  r.height = cluster_.checker().canonical_height().value;
  r.committed_txs = cluster_.checker().committed_txs();
  r.faults = operations_.size();
  r.virtual_ms = now();
  r.commit_latencies_ms = cluster_.checker().commit_latencies_ms();
  r.timeline = cluster_.timeline();
  return r;
}

std::string Scenario::report(const std::string& command) const {
  std::string description = "validators " + join(options_.weights) + ", latency " +
                            std::to_string(cluster_.options().links.latency_ms_min) + "-" +
                            std::to_string(cluster_.options().links.latency_ms_max) + " ms; " +
                            std::to_string(operations_.size()) + " operations:";
  for (const std::string& op : operations_) description += " " + op + ";";
  return html_report(ReportHeading{"synod scenario, seed " + std::to_string(options_.seed), command, description},
                     result());
}

// ---- replay ----------------------------------------------------------------

namespace {

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t v = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> signed_number(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::optional<double> real(std::string_view text) {
  double v = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

struct Line {
  std::vector<std::string> words;
  std::uint64_t word(std::size_t i) const {
    const auto v = i < words.size() ? number(words[i]) : std::nullopt;
    if (!v) throw ScenarioError("word " + std::to_string(i + 1) + " should be a number");
    return *v;
  }
  void arity(std::size_t count) const {
    if (words.size() != count) {
      throw ScenarioError(words[0] + " takes " + std::to_string(count - 1) + " arguments, not " +
                          std::to_string(words.size() - 1));
    }
  }
};

NodeId node_id(std::uint64_t value) {
  if (value > UINT32_MAX) throw ScenarioError("no node " + std::to_string(value));
  return NodeId(static_cast<std::uint32_t>(value));
}

ScenarioOptions parse_cluster(const std::vector<std::string>& header) {
  if (header.empty() || header[0] != "cluster") throw ScenarioError("the first line should start with 'cluster'");
  ScenarioOptions o;
  for (std::size_t i = 1; i < header.size(); ++i) {
    const std::size_t eq = header[i].find('=');
    if (eq == std::string::npos) throw ScenarioError("'" + header[i] + "' is not key=value");
    const std::string key = header[i].substr(0, eq);
    const std::string value = header[i].substr(eq + 1);
    const auto bad = [&] { return ScenarioError("bad " + key + " '" + value + "'"); };
    if (key == "weights") {
      o.weights.clear();
      std::istringstream in(value);
      for (std::string part; std::getline(in, part, ',');) {
        const auto w = number(part);
        if (!w) throw bad();
        o.weights.push_back(*w);
      }
    } else if (key == "seed") {
      const auto v = number(value);
      if (!v) throw bad();
      o.seed = *v;
    } else if (key == "latency") {
      const std::size_t dash = value.find('-');
      const auto lo = dash == std::string::npos ? std::nullopt : number(std::string_view(value).substr(0, dash));
      const auto hi = lo ? number(std::string_view(value).substr(dash + 1)) : std::nullopt;
      if (!hi) throw bad();
      o.links.latency_ms_min = *lo;
      o.links.latency_ms_max = *hi;
    } else if (key == "loss") {
      const auto v = real(value);
      if (!v) throw bad();
      o.links.loss = *v;
    } else if (key == "accounts") {
      const auto v = number(value);
      if (!v) throw bad();
      o.accounts = *v;
    } else {
      throw ScenarioError("unknown cluster option '" + key + "'");
    }
  }
  return o;
}

// Applies one operation line; returns the recorded hash if it was the end.
std::optional<std::uint64_t> apply(Scenario& s, const Line& line) {
  const std::string& op = line.words[0];
  if (op == "partition") {
    std::vector<std::vector<NodeId>> groups(1);
    for (std::size_t i = 1; i < line.words.size(); ++i) {
      if (line.words[i] == "|") {
        groups.emplace_back();
        continue;
      }
      std::istringstream in(line.words[i]);
      for (std::string part; std::getline(in, part, ',');) {
        const auto v = number(part);
        if (!v) throw ScenarioError("partition: '" + part + "' is not a node");
        groups.back().push_back(node_id(*v));
      }
    }
    s.partition(groups);
  } else if (op == "heal") {
    line.arity(1);
    s.heal();
  } else if (op == "isolate" || op == "crash" || op == "restart" || op == "pause" || op == "resume" ||
             op == "compromise" || op == "equivocate") {
    line.arity(2);
    const NodeId n = node_id(line.word(1));
    if (op == "isolate") s.isolate(n);
    if (op == "crash") s.crash(n);
    if (op == "restart") s.restart(n);
    if (op == "pause") s.pause(n);
    if (op == "resume") s.resume(n);
    if (op == "compromise") s.compromise(n);
    if (op == "equivocate") s.equivocate(n);
  } else if (op == "upgrade") {
    line.arity(2);
    s.upgrade(node_id(line.word(1)));
  } else if (op == "backup") {
    line.arity(2);
    s.backup(node_id(line.word(1)));
  } else if (op == "restore") {
    line.arity(3);
    s.restore(node_id(line.word(1)), line.word(2));
  } else if (op == "crash-before") {
    line.arity(3);
    s.crash_before(node_id(line.word(1)), line.words[2]);
  } else if (op == "latency") {
    line.arity(3);
    s.set_latency(line.word(1), line.word(2));
  } else if (op == "loss") {
    line.arity(2);
    const auto p = real(line.words[1]);
    if (!p) throw ScenarioError("loss: '" + line.words[1] + "' is not a probability");
    s.set_loss(*p);
  } else if (op == "skew") {
    line.arity(3);
    const auto ms = signed_number(line.words[2]);
    if (!ms) throw ScenarioError("skew: '" + line.words[2] + "' is not a number of milliseconds");
    s.skew_clock(node_id(line.word(1)), *ms);
  } else if (op == "load") {
    line.arity(2);
    const std::uint64_t rate = line.word(1);
    s.load(static_cast<std::uint32_t>(std::min<std::uint64_t>(rate, UINT32_MAX)));
  } else if (op == "submit") {
    line.arity(5);
    s.submit(node_id(line.word(1)), line.word(2), line.word(3), line.word(4));
  } else if (op == "end") {
    line.arity(2);
    if (!line.words[1].starts_with("trace=")) throw ScenarioError("end wants trace=HEX");
    std::uint64_t hash = 0;
    const std::string_view digits = std::string_view(line.words[1]).substr(6);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), hash, 16);
    if (error != std::errc() || end != digits.data() + digits.size()) throw ScenarioError("bad trace hash");
    return hash;
  } else {
    throw ScenarioError("unknown operation '" + op + "'");
  }
  return std::nullopt;
}

}  // namespace

std::expected<Replayed, std::string> replay_scenario(const std::string& recording, const ReplayOutputs& outputs) {
  std::istringstream in(recording);
  std::optional<Scenario> scenario;
  std::optional<std::uint64_t> recorded;
  std::size_t line_number = 0;
  try {
    for (std::string text; std::getline(in, text);) {
      ++line_number;
      if (recorded) throw ScenarioError("nothing may follow the end line");
      const std::vector<std::string> w = words(text);
      if (w.empty() || w[0].starts_with("#")) continue;
      if (!scenario) {
        scenario.emplace(parse_cluster(w));
        if (outputs.trace_sink) scenario->set_trace(outputs.trace_sink);
        continue;
      }
      if (!w[0].starts_with("@") || w.size() < 2) throw ScenarioError("an operation line starts with @TIME");
      const auto at = number(std::string_view(w[0]).substr(1));
      if (!at || *at < scenario->now() || *at - scenario->now() > Scenario::run_ms_max) {
        throw ScenarioError("bad time '" + w[0] + "': times only go forward");
      }
      // Operations recorded at one instant follow each other with nothing
      // run between them, as in the recorded run: even run_for(0) would fire
      // what is due now (a packet sent with no latency).
      if (*at > scenario->now()) scenario->run_for(*at - scenario->now());
      recorded = apply(*scenario, Line{{w.begin() + 1, w.end()}});
    }
  } catch (const ScenarioError& e) {
    return std::unexpected("line " + std::to_string(line_number) + ": " + e.what());
  }
  if (!scenario) return std::unexpected(std::string("no cluster line: not a scenario recording"));
  if (!recorded) return std::unexpected(std::string("no end line: the recording is cut short"));
  Replayed r;
  r.trace_hash = scenario->cluster().trace_hash();
  r.recorded_hash = *recorded;
  r.virtual_ms = scenario->now();
  r.height = scenario->cluster().checker().canonical_height();
  r.violations = scenario->cluster().violations();
  if (!outputs.report_command.empty()) r.report_html = scenario->report(outputs.report_command);
  return r;
}

}  // namespace synod::sim
