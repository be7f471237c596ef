// Q3_K: 256 values in 16 sub-blocks of 16, three-bit levels (two in qs, one in
// hmask), six-bit signed scales packed into 12 bytes.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/half.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

// Signed level of element k in [-4, 3].
inline int level(const BlockQ3_K& b, int k) {
  const int n = k / 128, j = (k % 128) / 32, l = k % 32;
  const int q = (b.qs[n * 32 + l] >> (2 * j)) & 3;
  return (b.hmask[l] >> (4 * n + j)) & 1 ? q : q - 4;
}

// Signed scale of sub-block s in [-32, 31].
inline int scale(const BlockQ3_K& b, int s) {
  const int low = s < 8 ? b.scales[s] & 0xF : b.scales[s - 8] >> 4;
  const int high = (b.scales[8 + s % 4] >> (2 * (s / 4))) & 3;
  return (low | (high << 4)) - 32;
}

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ3_K* b = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int s = 0; s < 16; ++s) {
      const float ds = d * float(scale(b[i], s));
      for (int k = 16 * s; k < 16 * s + 16; ++k) dst[i * QK_K + k] = ds * float(level(b[i], k));
    }
  }
}

void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  BlockQ3_K* b = static_cast<BlockQ3_K*>(dst);
  uint8_t L[QK_K];
  float scales[16];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    float w[QK_K];
    if (imatrix) kquant_weights(x, imatrix + i * QK_K, QK_K, 2.0f, w);
    float max_scale = 0, amax = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = quant_symmetric(16, 4, x + 16 * s, L + 16 * s, imatrix ? w + 16 * s : nullptr);
      if (std::fabs(scales[s]) > amax) {
        amax = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    std::memset(&b[i], 0, sizeof(BlockQ3_K));
    float iscale = 0;
    if (amax != 0) {
      iscale = -32.0f / max_scale;
      b[i].d = f32_to_fp16(1.0f / iscale);
    }
    for (int s = 0; s < 16; ++s) {
      const int l = std::clamp(nearest_int(iscale * scales[s]), -32, 31) + 32;
      if (s < 8) {
        b[i].scales[s] = uint8_t(l & 0xF);
      } else {
        b[i].scales[s - 8] |= uint8_t((l & 0xF) << 4);
      }
      b[i].scales[8 + s % 4] |= uint8_t((l >> 4) << (2 * (s / 4)));
    }
    const float d = fp16_to_f32(b[i].d);
    for (int s = 0; s < 16; ++s) {
      const float ds = d * float(scale(b[i], s));
      for (int k = 16 * s; k < 16 * s + 16; ++k) {
        L[k] = ds != 0 ? uint8_t(std::clamp(nearest_int(x[k] / ds), -4, 3) + 4) : 4;
      }
    }
    for (int k = 0; k < QK_K; ++k) {
      if (L[k] > 3) b[i].hmask[k % 32] |= uint8_t(1 << (k / 32));
      const int n = k / 128, j = (k % 128) / 32, l = k % 32;
      b[i].qs[n * 32 + l] |= uint8_t((L[k] & 3) << (2 * j));
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ3_K* x = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int32_t sumq = 0;
    for (int s = 0; s < 16; ++s) {
      int32_t p = 0;
      for (int k = 16 * s; k < 16 * s + 16; ++k) p += level(x[i], k) * y[i].qs[k];
      sumq += scale(x[i], s) * p;
    }
    sum += y[i].d * fp16_to_f32(x[i].d) * float(sumq);
  }
  return sum;
}

}  // namespace

extern const TypeTraits kTraitsQ3_K = {"q3_K",   QK_K,       sizeof(BlockQ3_K), DType::Q8_K,
                                       to_float, from_float, vec_dot,           vec_dot,
                                       nullptr,  0,          0,                 false,
                                       quantize};

}  // namespace dawn
