// Prometheus text exposition (format 0.0.4) for the admin port's /metrics,
// and the histogram type the node's timings are kept in. Every name starts
// with synod_; every family has HELP and TYPE lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synod::node {

// Cumulative buckets over fixed upper bounds, in seconds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double seconds);
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<std::uint64_t>& counts() const { return counts_; }  // per bound, not cumulative
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

  // 1 ms to 60 s, roughly doubling: latencies of commits and rounds.
  static std::vector<double> latency_bounds();
  // 50 µs to 1 s: fsyncs.
  static std::vector<double> fsync_bounds();

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

using Labels = std::vector<std::pair<std::string, std::string>>;

class PrometheusText {
 public:
  // Starts a family; its samples follow. `type`: counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(double value, const Labels& labels = {});
  void histogram(const Histogram& h, const Labels& labels = {});
  // A family with one sample.
  void counter(std::string_view name, std::string_view help, double value) {
    family(name, "counter", help);
    sample(value);
  }
  void gauge(std::string_view name, std::string_view help, double value) {
    family(name, "gauge", help);
    sample(value);
  }
  const std::string& text() const { return out_; }

 private:
  void line(std::string_view suffix, const Labels& labels, double value);
  std::string out_;
  std::string name_;
};

}  // namespace synod::node
