// Element-wise activations: plain references (libm exp) that the SIMD forms are tested against.
#include <cmath>

#include "kernels/dispatch.h"

namespace dawn {

void swiglu_ref(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

namespace {

// m = max(m, scale * s), s = exp(scale * s - m); returns the sum in double.
double exp_shifted(float* s, int64_t n, float scale, float* m) {
  float max = *m;
  for (int64_t j = 0; j < n; ++j) {
    s[j] *= scale;
    max = std::fmax(max, s[j]);
  }
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    s[j] = std::exp(s[j] - max);
    sum += s[j];
  }
  *m = max;
  return sum;
}

}  // namespace

void softmax_ref(float* s, int64_t n, float scale) {
  float m = -INFINITY;
  const float inv = float(1.0 / exp_shifted(s, n, scale, &m));
  for (int64_t j = 0; j < n; ++j) s[j] *= inv;
}

float softmax_step_ref(float* s, int64_t n, float scale, float* m) { return float(exp_shifted(s, n, scale, m)); }

}  // namespace dawn
