#pragma once
#include <cstdint>

namespace dawn {

// out = x / sqrt(mean(x^2) + eps) * w  (w may be null); out may alias x.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* out);

}  // namespace dawn
