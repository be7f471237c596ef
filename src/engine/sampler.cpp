#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

namespace dawn {

Sampler::Sampler(const SamplerParams& p) : p_(p), rng_(p.seed) {}

int32_t Sampler::sample(const float* logits, int n_vocab, const std::vector<int32_t>& history) {
  work_.assign(logits, logits + n_vocab);
  const bool penalise = p_.repeat_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
  if (penalise && p_.penalty_last_n != 0) {
    const size_t n = p_.penalty_last_n < 0 ? history.size() : std::min(history.size(), size_t(p_.penalty_last_n));
    // Counts in a vocabulary-sized table (kept between calls, reset after use: no allocation per token).
    if (count_.size() < size_t(n_vocab)) count_.assign(size_t(n_vocab), 0);
    seen_.clear();
    for (size_t i = history.size() - n; i < history.size(); ++i) {
      const int32_t tok = history[i];
      if (tok < 0 || tok >= n_vocab) continue;
      if (count_[size_t(tok)]++ == 0) seen_.push_back(tok);
    }
    for (int32_t tok : seen_) {
      float& l = work_[size_t(tok)];
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
      l -= float(count_[size_t(tok)]) * p_.frequency_penalty + p_.presence_penalty;
      count_[size_t(tok)] = 0;
    }
  }
  if (p_.temp <= 0.0f) {
    return int32_t(std::max_element(work_.begin(), work_.end()) - work_.begin());
  }
  ids_.resize(n_vocab);
  for (int i = 0; i < n_vocab; ++i) ids_[i] = i;
  int n = n_vocab;
  const auto by_logit = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
  if (p_.top_k > 0 && p_.top_k < n) {
    std::partial_sort(ids_.begin(), ids_.begin() + p_.top_k, ids_.end(), by_logit);
    n = p_.top_k;
  } else {
    std::sort(ids_.begin(), ids_.end(), by_logit);
  }
  // Probabilities at temperature over the survivors, in descending order.
  prob_.resize(size_t(n));
  double* prob = prob_.data();
  const double max = work_[ids_[0]];
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    prob[i] = std::exp((work_[ids_[i]] - max) / p_.temp);
    sum += prob[i];
  }
  for (int i = 0; i < n; ++i) prob[i] /= sum;
  int keep = n;
  if (p_.min_p > 0.0f) {
    for (int i = 1; i < keep; ++i) {
      if (prob[i] < p_.min_p * prob[0]) {
        keep = i;
        break;
      }
    }
  }
  if (p_.top_p < 1.0f) {
    double cum = 0;
    for (int i = 0; i < keep; ++i) {
      cum += prob[i];
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double total = 0;
  for (int i = 0; i < keep; ++i) total += prob[i];
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_);
  for (int i = 0; i < keep; ++i) {
    r -= prob[i];
    if (r <= 0) return ids_[i];
  }
  return ids_[keep - 1];
}

}  // namespace dawn
