#include "ops/activation.h"

#include "kernels/dispatch.h"

namespace dawn {

void swiglu(float* g, const float* u, int64_t n) {
  if (use_avx2()) {
    swiglu_avx2(g, u, n);
  } else {
    swiglu_ref(g, u, n);
  }
}

}  // namespace dawn
