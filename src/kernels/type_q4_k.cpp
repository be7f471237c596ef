// Q4_K: 256 values in 8 sub-blocks of 32, four-bit levels, six-bit scales and mins.
#include <algorithm>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

// Level of element k (0..255) in [0, 15].
inline int level(const BlockQ4_K& b, int k) {
  const int chunk = k / 64, l = k % 32, hi = (k % 64) / 32;
  const uint8_t q = b.qs[chunk * 32 + l];
  return hi ? q >> 4 : q & 0xF;
}

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ4_K* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      get_scale_min_k4(s, b[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      for (int k = s * 32; k < s * 32 + 32; ++k) dst[i * QK_K + k] = d1 * float(level(b[i], k)) - m1;
    }
  }
}

void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  BlockQ4_K* b = static_cast<BlockQ4_K*>(dst);
  uint8_t L[QK_K];
  float scales[8], mins[8];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    float w[QK_K];
    if (imatrix) kquant_weights(x, imatrix + i * QK_K, QK_K, 2.0f, w);
    float max_scale = 0, max_min = 0;
    for (int s = 0; s < 8; ++s) {
      scales[s] = quant_asymmetric(32, 15, x + 32 * s, L + 32 * s, &mins[s], imatrix ? w + 32 * s : nullptr);
      max_scale = std::max(max_scale, scales[s]);
      max_min = std::max(max_min, mins[s]);
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    std::memset(b[i].scales, 0, 12);
    for (int s = 0; s < 8; ++s) {
      const uint8_t ls = uint8_t(std::min(63, nearest_int(inv_scale * scales[s])));
      const uint8_t lm = uint8_t(std::min(63, nearest_int(inv_min * mins[s])));
      set_scale_min_k4(s, ls, lm, b[i].scales);
    }
    b[i].d = f32_to_fp16(max_scale / 63.0f);
    b[i].dmin = f32_to_fp16(max_min / 63.0f);
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      get_scale_min_k4(s, b[i].scales, &sc, &m);
      const float ds = d * sc, dm = dmin * m;
      for (int k = 32 * s; k < 32 * s + 32; ++k) {
        L[k] = ds > 0 ? uint8_t(std::clamp(nearest_int((x[k] + dm) / ds), 0, 15)) : 0;
      }
    }
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) b[i].qs[c * 32 + l] = uint8_t(L[c * 64 + l] | (L[c * 64 + 32 + l] << 4));
    }
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ4_K* x = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int32_t sumq = 0, summ = 0;
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      get_scale_min_k4(s, x[i].scales, &sc, &m);
      int32_t p = 0;
      for (int k = 32 * s; k < 32 * s + 32; ++k) p += level(x[i], k) * y[i].qs[k];
      sumq += sc * p;
      summ += m * (y[i].bsums[2 * s] + y[i].bsums[2 * s + 1]);
    }
    sum += y[i].d * (fp16_to_f32(x[i].d) * float(sumq) - fp16_to_f32(x[i].dmin) * float(summ));
  }
  return sum;
}

void unpack_levels(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
  const BlockQ4_K* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / QK_K; ++i, q += QK_K, scale += 8, min += 8) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      get_scale_min_k4(s, b[i].scales, &sc, &m);
      scale[s] = d * sc;
      min[s] = dmin * m;
    }
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        q[c * 64 + l] = b[i].qs[c * 32 + l] & 0xF;
        q[c * 64 + 32 + l] = b[i].qs[c * 32 + l] >> 4;
      }
    }
  }
}

}  // namespace

extern const TypeTraits kTraitsQ4_K = {"q4_K",
                                       QK_K,
                                       sizeof(BlockQ4_K),
                                       DType::Q8_K,
                                       to_float,
                                       from_float,
                                       pick_dot(DType::Q4_K, vec_dot),
                                       vec_dot,
                                       unpack_levels,
                                       32,
                                       0,
                                       true,
                                       quantize};

}  // namespace dawn
