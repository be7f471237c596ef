#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace dawn {

Sampler::Sampler(const SamplerParams& p) : p_(p), rng_(p.seed) {}

int32_t Sampler::sample(const float* logits, int n_vocab, const std::vector<int32_t>& history) {
  work_.assign(logits, logits + n_vocab);
  const bool penalise = p_.repeat_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
  if (penalise && p_.penalty_last_n != 0) {
    const size_t n = p_.penalty_last_n < 0 ? history.size() : std::min(history.size(), size_t(p_.penalty_last_n));
    std::unordered_map<int32_t, int> counts;
    for (size_t i = history.size() - n; i < history.size(); ++i) counts[history[i]]++;
    for (const auto& [tok, cnt] : counts) {
      if (tok < 0 || tok >= n_vocab) continue;
      float& l = work_[tok];
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
      l -= float(cnt) * p_.frequency_penalty + p_.presence_penalty;
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
  std::vector<double> prob(n);
  const double max = work_[ids_[0]];
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    prob[i] = std::exp((work_[ids_[i]] - max) / p_.temp);
    sum += prob[i];
  }
  for (double& x : prob) x /= sum;
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
