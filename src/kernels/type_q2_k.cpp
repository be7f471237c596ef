// Q2_K: 256 values in 16 sub-blocks of 16, two-bit levels, four-bit scales and mins.
#include <algorithm>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/half.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

// Level of element k in [0, 3].
inline int level(const BlockQ2_K& b, int k) {
  const int n = k / 128, j = (k % 128) / 32, l = k % 32;
  return (b.qs[n * 32 + l] >> (2 * j)) & 3;
}

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ2_K* b = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    for (int s = 0; s < 16; ++s) {
      const float dl = d * float(b[i].scales[s] & 0xF), ml = dmin * float(b[i].scales[s] >> 4);
      for (int k = 16 * s; k < 16 * s + 16; ++k) dst[i * QK_K + k] = dl * float(level(b[i], k)) - ml;
    }
  }
}

void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  BlockQ2_K* b = static_cast<BlockQ2_K*>(dst);
  uint8_t L[QK_K];
  float scales[16], mins[16];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    float w[QK_K];
    if (imatrix) kquant_weights(x, imatrix + i * QK_K, QK_K, 2.0f, w);
    float max_scale = 0, max_min = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = quant_asymmetric(16, 3, x + 16 * s, L + 16 * s, &mins[s], imatrix ? w + 16 * s : nullptr);
      max_scale = std::max(max_scale, scales[s]);
      max_min = std::max(max_min, mins[s]);
    }
    std::memset(&b[i], 0, sizeof(BlockQ2_K));
    const float inv_scale = max_scale > 0 ? 15.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 15.0f / max_min : 0.0f;
    for (int s = 0; s < 16; ++s) {
      const int ls = std::min(15, nearest_int(inv_scale * scales[s]));
      const int lm = std::min(15, nearest_int(inv_min * mins[s]));
      b[i].scales[s] = uint8_t(ls | (lm << 4));
    }
    b[i].d = f32_to_fp16(max_scale / 15.0f);
    b[i].dmin = f32_to_fp16(max_min / 15.0f);
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    for (int s = 0; s < 16; ++s) {
      const float ds = d * float(b[i].scales[s] & 0xF), dm = dmin * float(b[i].scales[s] >> 4);
      for (int k = 16 * s; k < 16 * s + 16; ++k) {
        L[k] = ds > 0 ? uint8_t(std::clamp(nearest_int((x[k] + dm) / ds), 0, 3)) : 0;
      }
    }
    for (int k = 0; k < QK_K; ++k) {
      const int nn = k / 128, j = (k % 128) / 32, l = k % 32;
      b[i].qs[nn * 32 + l] |= uint8_t(L[k] << (2 * j));
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ2_K* x = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int32_t sumq = 0, summ = 0;
    for (int s = 0; s < 16; ++s) {
      int32_t p = 0;
      for (int k = 16 * s; k < 16 * s + 16; ++k) p += level(x[i], k) * y[i].qs[k];
      sumq += (x[i].scales[s] & 0xF) * p;
      summ += (x[i].scales[s] >> 4) * y[i].bsums[s];
    }
    sum += y[i].d * (fp16_to_f32(x[i].d) * float(sumq) - fp16_to_f32(x[i].dmin) * float(summ));
  }
  return sum;
}

}  // namespace

extern const TypeTraits kTraitsQ2_K = {"q2_K",   QK_K,       sizeof(BlockQ2_K), DType::Q8_K,
                                       to_float, from_float, vec_dot,           vec_dot,
                                       nullptr,  0,          0,                 false,
                                       quantize};

}  // namespace dawn
