#include "sim/report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <sstream>

namespace synod::sim {

std::string json_result(const RunOptions& options, const RunResult& result) {
  nlohmann::json j;
  j["seed"] = options.seed;
  j["profile"] = std::string(to_string(options.profile));
  j["weights"] = options.weights;
  j["plan"] = result.plan.describe();
  j["ok"] = result.ok();
  j["violations"] = result.violations;
  j["trace_hash"] = result.trace_hash;
  j["events"] = result.events;
  j["height"] = result.height;
  j["committed_txs"] = result.committed_txs;
  j["faults"] = result.faults;
  j["virtual_ms"] = result.virtual_ms;
  j["reproduce"] = reproduce_command(options);
  return j.dump();
}

namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

const char* colour(std::size_t i) {
  static const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return palette[i % std::size(palette)];
}

std::string heights_svg(const RunResult& r) {
  const double width = 900, height = 360, left = 50, bottom = 30;
  const TimeMs t_max = std::max<TimeMs>(1, r.virtual_ms);
  std::uint64_t h_max = 1;
  std::size_t instances = 0;
  for (const auto& c : r.timeline.commits) {
    h_max = std::max(h_max, c.height);
    instances = std::max<std::size_t>(instances, c.instance + 1);
  }
  auto x = [&](TimeMs t) { return left + (width - left - 10) * static_cast<double>(t) / static_cast<double>(t_max); };
  auto y = [&](std::uint64_t h) {
    return height - bottom - (height - bottom - 10) * static_cast<double>(h) / static_cast<double>(h_max);
  };
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height << "'>";
  for (const auto& span : r.timeline.faults) {
    const TimeMs end = span.end == never ? r.virtual_ms : span.end;
    os << "<rect x='" << x(span.start) << "' y='10' width='" << std::max(1.0, x(end) - x(span.start))
       << "' height='" << height - bottom - 10 << "' fill='#d62728' opacity='0.08'><title>" << escape(span.what)
       << " (" << span.start << "-" << end << " ms)</title></rect>";
  }
  os << "<line x1='" << left << "' y1='" << height - bottom << "' x2='" << width << "' y2='" << height - bottom
     << "' stroke='black'/><line x1='" << left << "' y1='10' x2='" << left << "' y2='" << height - bottom
     << "' stroke='black'/>";
  os << "<text x='" << left << "' y='" << height - 8 << "' font-size='11'>0 s</text><text x='" << width - 60
     << "' y='" << height - 8 << "' font-size='11'>" << t_max / 1000 << " s</text><text x='4' y='20' font-size='11'>h"
     << h_max << "</text>";
  std::map<InstanceId, std::vector<const Timeline::Commit*>> by_instance;
  for (const auto& c : r.timeline.commits) by_instance[c.instance].push_back(&c);
  for (const auto& [instance, commits] : by_instance) {
    os << "<polyline fill='none' stroke='" << colour(instance) << "' stroke-width='1.5' points='";
    std::uint64_t last = 0;
    for (const auto* c : commits) {
      os << x(c->at) << "," << y(last) << " " << x(c->at) << "," << y(c->height) << " ";
      last = c->height;
    }
    os << x(r.virtual_ms) << "," << y(last) << "'><title>n" << instance << "</title></polyline>";
    os << "<text x='" << width - 40 << "' y='" << 20 + 14 * instance << "' font-size='11' fill='" << colour(instance)
       << "'>n" << instance << "</text>";
  }
  os << "</svg>";
  return os.str();
}

std::string latency_svg(const RunResult& r) {
  const std::vector<TimeMs>& samples = r.commit_latencies_ms;
  const double width = 900, height = 220, left = 50, bottom = 30;
  constexpr std::size_t bins = 40;
  TimeMs max_ms = 1;
  for (TimeMs v : samples) max_ms = std::max(max_ms, v);
  std::vector<std::size_t> counts(bins, 0);
  for (TimeMs v : samples) ++counts[std::min<std::size_t>(bins - 1, v * bins / (max_ms + 1))];
  const std::size_t peak = std::max<std::size_t>(1, *std::max_element(counts.begin(), counts.end()));
  std::ostringstream os;
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height << "'>";
  const double bar = (width - left - 10) / bins;
  for (std::size_t i = 0; i < bins; ++i) {
    const double h = (height - bottom - 10) * static_cast<double>(counts[i]) / static_cast<double>(peak);
    os << "<rect x='" << left + bar * static_cast<double>(i) << "' y='" << height - bottom - h << "' width='"
       << bar - 1 << "' height='" << h << "' fill='#1f77b4'><title>" << i * (max_ms + 1) / bins << "-"
       << (i + 1) * (max_ms + 1) / bins << " ms: " << counts[i] << "</title></rect>";
  }
  os << "<text x='" << left << "' y='" << height - 8 << "' font-size='11'>0 ms</text><text x='" << width - 80
     << "' y='" << height - 8 << "' font-size='11'>" << max_ms << " ms</text></svg>";
  return os.str();
}

}  // namespace

std::string html_report(const RunOptions& options, const RunResult& r) {
  return html_report(ReportHeading{"synod-sim, seed " + std::to_string(options.seed), reproduce_command(options),
                                   "Profile " + std::string(to_string(options.profile)) + ": " + r.plan.describe()},
                     r);
}

std::string html_report(const ReportHeading& heading, const RunResult& r) {
  std::vector<TimeMs> sorted = r.commit_latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double p) {
    return sorted.empty() ? 0 : sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))];
  };
  std::ostringstream os;
  os << "<!doctype html><html><head><meta charset='utf-8'><title>" << escape(heading.title)
     << "</title><style>body{font-family:sans-serif;margin:2em;max-width:960px}"
        "code{background:#eee;padding:2px 4px}.bad{color:#b00}.ok{color:#080}</style></head><body>";
  os << "<h1>" << escape(heading.title) << " <span class='" << (r.ok() ? "ok'>passed" : "bad'>FAILED")
     << "</span></h1>";
  os << "<p><code>" << escape(heading.reproduce) << "</code></p>";
  os << "<p>" << escape(heading.description) << "</p>";
  os << "<p>" << r.virtual_ms / 1000 << " virtual seconds, " << r.events << " events, " << r.faults
     << " fault actions; agreed height " << r.height << ", " << r.committed_txs
     << " transactions committed; trace hash " << std::hex << r.trace_hash << std::dec << ".</p>";
  if (!r.ok()) {
    os << "<h2 class='bad'>Violations</h2><ul>";
    for (const auto& v : r.violations) os << "<li>" << escape(v) << "</li>";
    os << "</ul>";
  }
  os << "<h2>Committed height per instance</h2><p>Shaded: faults (hover for what and when).</p>"
     << heights_svg(r);
  os << "<h2>Commit latency</h2><p>From submission to commit, " << sorted.size() << " transactions: p50 " << pct(0.5)
     << " ms, p90 " << pct(0.9) << " ms, p99 " << pct(0.99) << " ms.</p>" << latency_svg(r);
  os << "</body></html>\n";
  return os.str();
}

}  // namespace synod::sim
