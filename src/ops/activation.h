#pragma once
#include <cstdint>

namespace dawn {

// g[i] = silu(g[i]) * u[i], the gated activation of every FFN dawn runs.
void swiglu(float* g, const float* u, int64_t n);

}  // namespace dawn
