// Prometheus text-format metrics (metrics.h).
#include "server/metrics.h"

#include <algorithm>
#include <cstdio>

namespace dawn::server {

namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string with_le(const std::string& labels, const std::string& le) {
  return "{" + labels + (labels.empty() ? "" : ",") + "le=\"" + le + "\"}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t i = size_t(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  ++counts_[i];
  sum_ += v;
  ++n_;
}

void Histogram::render(const std::string& name, const std::string& labels, std::string* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    *out += name + "_bucket" + with_le(labels, number(bounds_[i])) + " " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  *out += name + "_bucket" + with_le(labels, "+Inf") + " " + std::to_string(cum) + "\n";
  const std::string l = labels.empty() ? "" : "{" + labels + "}";
  *out += name + "_sum" + l + " " + number(sum_) + "\n";
  *out += name + "_count" + l + " " + std::to_string(n_) + "\n";
}

std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60};
}

void render_metric(const std::string& name, const char* type, const std::string& help,
                   const std::vector<std::pair<std::string, double>>& labelled_values, std::string* out) {
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  for (const auto& [labels, v] : labelled_values) {
    *out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(v) + "\n";
  }
}

}  // namespace dawn::server
