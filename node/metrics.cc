#include "node/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/assert.h"

namespace synod::node {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {
  SYNOD_ASSERT(!bounds_.empty());
  SYNOD_ASSERT(std::is_sorted(bounds_.begin(), bounds_.end()));
}

void Histogram::observe(double seconds) {
  SYNOD_ASSERT(seconds >= 0);
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), seconds);
  if (it != bounds_.end()) ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += seconds;
}

std::vector<double> Histogram::latency_bounds() {
  return {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60};
}

std::vector<double> Histogram::fsync_bounds() {
  return {0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1};
}

namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string escape_label(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  SYNOD_ASSERT(name.starts_with("synod_"));
  SYNOD_ASSERT(type == "counter" || type == "gauge" || type == "histogram");
  SYNOD_ASSERT(type != "counter" || name.ends_with("_total"));
  SYNOD_ASSERT(help.find('\n') == std::string_view::npos);
  name_ = name;
  out_ += "# HELP " + name_ + " " + std::string(help) + "\n# TYPE " + name_ + " " + std::string(type) + "\n";
}

void PrometheusText::line(std::string_view suffix, const Labels& labels, double value) {
  SYNOD_ASSERT(!name_.empty());
  out_ += name_;
  out_ += suffix;
  if (!labels.empty()) {
    out_ += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out_ += ',';
      out_ += labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
    }
    out_ += '}';
  }
  out_ += ' ' + number(value) + '\n';
}

void PrometheusText::sample(double value, const Labels& labels) { line("", labels, value); }

void PrometheusText::histogram(const Histogram& h, const Labels& labels) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds().size(); ++i) {
    cumulative += h.counts()[i];
    Labels with = labels;
    with.emplace_back("le", number(h.bounds()[i]));
    line("_bucket", with, static_cast<double>(cumulative));
  }
  Labels inf = labels;
  inf.emplace_back("le", "+Inf");
  line("_bucket", inf, static_cast<double>(h.count()));
  line("_sum", labels, h.sum());
  line("_count", labels, static_cast<double>(h.count()));
}

}  // namespace synod::node
