#include "ops/moe.h"

#include <algorithm>
#include <cmath>

namespace dawn {

void route_experts(const RouterConfig& c, const float* logits, const float* bias, float* scratch, int32_t* ids,
                   float* weights) {
  const int n = c.n_expert;
  float* p = scratch;      // probabilities that weight the experts
  float* s = scratch + n;  // scores that select them
  if (c.gating == Gating::Softmax) {
    float max = -INFINITY;
    for (int e = 0; e < n; ++e) max = std::fmax(max, logits[e]);
    double sum = 0;
    for (int e = 0; e < n; ++e) {
      p[e] = std::exp(logits[e] - max);
      sum += p[e];
    }
    const float inv = float(1.0 / sum);
    for (int e = 0; e < n; ++e) p[e] *= inv;
  } else {
    for (int e = 0; e < n; ++e) p[e] = 1.0f / (1.0f + std::exp(-logits[e]));
  }
  for (int e = 0; e < n; ++e) s[e] = bias ? p[e] + bias[e] : p[e];

  if (c.n_group > 1 && c.n_group_used < c.n_group) {
    const int per = n / c.n_group;
    float group_score[64];
    for (int g = 0; g < c.n_group; ++g) {
      float a = -INFINITY, b = -INFINITY;  // the two best in the group
      for (int e = g * per; e < (g + 1) * per; ++e) {
        if (s[e] > a) {
          b = a;
          a = s[e];
        } else if (s[e] > b) {
          b = s[e];
        }
      }
      group_score[g] = per > 1 ? a + b : a;
    }
    int order[64];
    for (int g = 0; g < c.n_group; ++g) order[g] = g;
    std::stable_sort(order, order + c.n_group, [&](int x, int y) { return group_score[x] > group_score[y]; });
    for (int k = c.n_group_used; k < c.n_group; ++k) {
      for (int e = order[k] * per; e < (order[k] + 1) * per; ++e) s[e] = -INFINITY;
    }
  }

  // Top-k by selection score; ties go to the lower id.
  for (int k = 0; k < c.n_used; ++k) {
    int best = -1;
    for (int e = 0; e < n; ++e) {
      bool taken = false;
      for (int j = 0; j < k && !taken; ++j) taken = ids[j] == e;
      if (!taken && (best < 0 || s[e] > s[best])) best = e;
    }
    ids[k] = best;
    weights[k] = p[best];
  }
  if (c.norm_weights) {
    float sum = 0;
    for (int k = 0; k < c.n_used; ++k) sum += weights[k];
    sum = std::max(sum, 6.103515625e-5f);
    for (int k = 0; k < c.n_used; ++k) weights[k] /= sum;
  }
  if (c.weights_scale != 0.0f && c.weights_scale != 1.0f) {
    for (int k = 0; k < c.n_used; ++k) weights[k] *= c.weights_scale;
  }
}

}  // namespace dawn
