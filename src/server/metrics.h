// Prometheus text-format metrics of `dawn serve`: counters, gauges and histograms (time to first
// token, inter-token latency, request duration), rendered for GET /metrics.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace dawn::server {

// Cumulative buckets with fixed upper bounds, as Prometheus histograms are.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // The # TYPE line and the _bucket / _sum / _count samples of `name` (labels: "" or `model="x"`).
  void render(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last: +Inf
  double sum_ = 0;
  uint64_t n_ = 0;
};

// Latency buckets from 1 ms to 60 s.
std::vector<double> latency_buckets();

// "# HELP name help\n# TYPE name type\n" then `name{labels} value` lines.
void render_metric(const std::string& name, const char* type, const std::string& help,
                   const std::vector<std::pair<std::string, double>>& labelled_values, std::string* out);

}  // namespace dawn::server
