// Q6_K: 256 values in 16 sub-blocks of 16, six-bit levels (offset 32), int8 scales.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

// Signed level of element k (0..255) in [-32, 31].
inline int level(const BlockQ6_K& b, int k) {
  const int n = k / 128, quarter = (k % 128) / 32, l = k % 32;
  const uint8_t lo = b.ql[n * 64 + l + 32 * (quarter & 1)];
  const int low = quarter < 2 ? lo & 0xF : lo >> 4;
  const int high = (b.qh[n * 32 + l] >> (2 * quarter)) & 3;
  return (low | (high << 4)) - 32;
}

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ6_K* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int k = 0; k < QK_K; ++k) dst[i * QK_K + k] = d * float(b[i].scales[k / 16]) * float(level(b[i], k));
  }
}

void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  BlockQ6_K* b = static_cast<BlockQ6_K*>(dst);
  uint8_t L[QK_K];
  float scales[16];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    float w[QK_K];
    if (imatrix) kquant_weights(x, imatrix + i * QK_K, QK_K, 2.0f, w);
    float max_scale = 0, amax = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = quant_symmetric(16, 32, x + 16 * s, L + 16 * s, imatrix ? w + 16 * s : nullptr);
      if (std::fabs(scales[s]) > amax) {
        amax = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    std::memset(&b[i], 0, sizeof(BlockQ6_K));
    if (amax == 0) continue;
    const float iscale = -128.0f / max_scale;
    b[i].d = f32_to_fp16(1.0f / iscale);
    const float d = fp16_to_f32(b[i].d);
    for (int s = 0; s < 16; ++s) {
      b[i].scales[s] = int8_t(std::clamp(nearest_int(iscale * scales[s]), -128, 127));
      const float ds = d * float(b[i].scales[s]);
      for (int k = 16 * s; k < 16 * s + 16; ++k) {
        L[k] = ds != 0 ? uint8_t(std::clamp(nearest_int(x[k] / ds), -32, 31) + 32) : 32;
      }
    }
    for (int c = 0; c < 2; ++c) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t* q = L + 128 * c + l;
        b[i].ql[64 * c + l] = uint8_t((q[0] & 0xF) | ((q[64] & 0xF) << 4));
        b[i].ql[64 * c + l + 32] = uint8_t((q[32] & 0xF) | ((q[96] & 0xF) << 4));
        b[i].qh[32 * c + l] = uint8_t((q[0] >> 4) | ((q[32] >> 4) << 2) | ((q[64] >> 4) << 4) | ((q[96] >> 4) << 6));
      }
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int32_t sumq = 0;
    for (int s = 0; s < 16; ++s) {
      int32_t p = 0;
      for (int k = 16 * s; k < 16 * s + 16; ++k) p += level(x[i], k) * y[i].qs[k];
      sumq += x[i].scales[s] * p;
    }
    sum += y[i].d * fp16_to_f32(x[i].d) * float(sumq);
  }
  return sum;
}

void unpack_levels(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
  const BlockQ6_K* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, q += QK_K, scale += 16, min += 16) {
    const float d = fp16_to_f32(b[i].d);
    for (int s = 0; s < 16; ++s) {
      scale[s] = d * float(b[i].scales[s]);
      min[s] = 0;
    }
    for (int k = 0; k < QK_K; ++k) q[k] = uint8_t(level(b[i], k) + 32);
  }
}

}  // namespace

extern const TypeTraits kTraitsQ6_K = {"q6_K",
                                       QK_K,
                                       sizeof(BlockQ6_K),
                                       DType::Q8_K,
                                       to_float,
                                       from_float,
                                       pick_dot(DType::Q6_K, vec_dot),
                                       vec_dot,
                                       unpack_levels,
                                       16,
                                       32,
                                       false,
                                       quantize};

}  // namespace dawn
