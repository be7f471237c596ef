// Q8_K: the activation format for K-quant dot products (256 int8, f32 scale, 16-sums).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    for (int j = 0; j < QK_K; ++j) dst[i * QK_K + j] = b[i].d * float(b[i].qs[j]);
  }
}

void from_float(const float* src, void* dst, int64_t n) {
  if (cpu_isa() >= Isa::Avx512) {
    quantize_row_q8_k_avx512(src, dst, n);
  } else {
    quantize_row_q8_k_ref(src, dst, n);
  }
}

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ8_K* x = static_cast<const BlockQ8_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int32_t s = 0;
    for (int j = 0; j < QK_K; ++j) s += int32_t(x[i].qs[j]) * int32_t(y[i].qs[j]);
    sum += float(s) * x[i].d * y[i].d;
  }
  return sum;
}

}  // namespace

void quantize_row_q8_k_ref(const float* src, void* dst, int64_t n) {
  BlockQ8_K* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    float amax = 0, max = 0;
    for (int j = 0; j < QK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // The extreme value maps to -128 side sign-flipped so +127 is never exceeded.
    const float iscale = -127.0f / max;
    for (int j = 0; j < QK_K; ++j) b[i].qs[j] = int8_t(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < QK_K / 16; ++j) {
      int s = 0;
      for (int k = 0; k < 16; ++k) s += b[i].qs[j * 16 + k];
      b[i].bsums[j] = int16_t(s);
    }
    b[i].d = 1.0f / iscale;
  }
}

extern const TypeTraits kTraitsQ8_K = {"q8_k",   QK_K,       sizeof(BlockQ8_K), DType::Q8_K,
                                       to_float, from_float, vec_dot,           vec_dot};

}  // namespace dawn
