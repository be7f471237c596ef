#include "ops/attention.h"

#include <cmath>

namespace dawn {

void attend(const float* q, int64_t dk, const float* k, int64_t k_stride, const float* v, int64_t v_stride, int64_t dv,
            int64_t n_kv, float scale, float* scores, float* out) {
  float max = -INFINITY;
  for (int64_t j = 0; j < n_kv; ++j) {
    const float* kj = k + j * k_stride;
    float s = 0;
    for (int64_t i = 0; i < dk; ++i) s += q[i] * kj[i];
    scores[j] = s * scale;
    max = std::fmax(max, scores[j]);
  }
  double sum = 0;
  for (int64_t j = 0; j < n_kv; ++j) {
    scores[j] = std::exp(scores[j] - max);
    sum += scores[j];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < dv; ++i) out[i] = 0;
  for (int64_t j = 0; j < n_kv; ++j) {
    const float p = scores[j] * inv;
    const float* vj = v + j * v_stride;
    for (int64_t i = 0; i < dv; ++i) out[i] += p * vj[i];
  }
}

}  // namespace dawn
