// AVX2 + FMA dot products for the types that dominate real files (Q4_K/Q6_K
// mixes, Q8_0, Q4_0, F16). Compiled for AVX2 through target attributes so one
// binary runs everywhere and picks these at run time.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/simd_x86.h"

#define DAWN_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace dawn {

namespace {

// Eight int32 sums of products of signed bytes (pairs of 4).
DAWN_AVX2 inline __m256i dot_i8(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

}  // namespace

DAWN_AVX2 float vec_dot_f32_avx2(int64_t n, const void* w, const void* act) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(act);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), acc[k]);
    }
  }
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc[0]);
  float sum = hsum8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

DAWN_AVX2 float vec_dot_f16_avx2(int64_t n, const void* w, const void* act) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(act);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8 * k)));
      const __m256 b = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i + 8 * k)));
      acc[k] = _mm256_fmadd_ps(a, b, acc[k]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 b = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i)));
    acc[0] = _mm256_fmadd_ps(a, b, acc[0]);
  }
  float sum = hsum8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += fp16_to_f32(x[i]) * fp16_to_f32(y[i]);
  return sum;
}

namespace {

// NT tokens of Q8_0 activations against one row of 32-element blocks whose signed levels
// `levels(block)` unpacks: the levels, |w| and the weight scale are computed once per block.
template <int NT, class Block, class Levels>
DAWN_AVX2 inline void dot_q8_act(int64_t n, const Block* x, const uint8_t* act, size_t stride, float* out,
                                 const Levels& levels) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK; ++i) {
    const __m256i qx = levels(x[i]);
    const __m256i ax = _mm256_sign_epi8(qx, qx);
    const float dx = _cvtsh_ss(x[i].d);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0* y = reinterpret_cast<const BlockQ8_0*>(act + stride * size_t(t)) + i;
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->qs));
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(qy, qx)), ones);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(y->d)), _mm256_cvtepi32_ps(p), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum8(acc[t]);
}

struct Q8_0Levels {
  DAWN_AVX2 __m256i operator()(const BlockQ8_0& b) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
  }
};

// The fifth bit of element j is bit j of qh; levels are stored +16.
struct Q5_0Levels {
  DAWN_AVX2 Q5_0Levels()
      : low4(_mm256_set1_epi8(0xF)),
        sixteen(_mm256_set1_epi8(16)),
        // Byte j takes qh byte j / 8; then bit j % 8 of it selects the fifth bit.
        spread(_mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3,
                                3, 3, 3)),
        bit(_mm256_set1_epi64x(int64_t(0x8040201008040201ULL))) {}
  DAWN_AVX2 __m256i operator()(const BlockQ5_0& b) const {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
    const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), low4);
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    const __m256i hb = _mm256_shuffle_epi8(_mm256_set1_epi32(int(qh)), spread);
    const __m256i hi = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, bit), bit), sixteen);
    return _mm256_sub_epi8(_mm256_or_si256(nib, hi), sixteen);
  }
  __m256i low4, sixteen, spread, bit;
};

}  // namespace

DAWN_AVX2 float vec_dot_q5_0_avx2(int64_t n, const void* w, const void* act) {
  float r;
  dot_q8_act<1>(n, static_cast<const BlockQ5_0*>(w), static_cast<const uint8_t*>(act), 0, &r, Q5_0Levels());
  return r;
}

DAWN_AVX2 void vec_dot_q5_0_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  dot_q8_act<4>(n, static_cast<const BlockQ5_0*>(w), static_cast<const uint8_t*>(act), act_stride, out, Q5_0Levels());
}

DAWN_AVX2 float vec_dot_q8_0_avx2(int64_t n, const void* w, const void* act) {
  float r;
  dot_q8_act<1>(n, static_cast<const BlockQ8_0*>(w), static_cast<const uint8_t*>(act), 0, &r, Q8_0Levels());
  return r;
}

DAWN_AVX2 void vec_dot_q8_0_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  dot_q8_act<4>(n, static_cast<const BlockQ8_0*>(w), static_cast<const uint8_t*>(act), act_stride, out, Q8_0Levels());
}

DAWN_AVX2 float vec_dot_q4_0_avx2(int64_t n, const void* w, const void* act) {
  const BlockQ4_0* x = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(act);
  const __m256i low4 = _mm256_set1_epi8(0xF), eight = _mm256_set1_epi8(8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK; ++i) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].qs));
    // Low nibbles are elements 0..15, high nibbles 16..31.
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
    const __m256i qx = _mm256_sub_epi8(_mm256_and_si256(both, low4), eight);
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(x[i].d) * _cvtsh_ss(y[i].d));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qx, qy)), acc);
  }
  return hsum8(acc);
}

namespace {

// NT tokens against one Q4_K row: the weights and scales are unpacked once per block
// and reused for every token (prefill), NT = 1 for decode.
template <int NT>
DAWN_AVX2 inline void q4k_dot(int64_t n, const BlockQ4_K* x, const uint8_t* act, size_t stride, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0xF);
  // Byte shuffles that broadcast int16 word k of each 128-bit lane.
  alignas(32) static const uint8_t kWord[8][32] = {
#define DAWN_W(k)                                                                                              \
  {2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, \
   2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, \
   2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1, 2 * k, 2 * k + 1}
      DAWN_W(0), DAWN_W(1), DAWN_W(2), DAWN_W(3), DAWN_W(4),
      DAWN_W(5), DAWN_W(6), DAWN_W(7)
#undef DAWN_W
  };
  const __m128i dup_mins = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
  __m256 acc[NT], acc_m[NT];
  for (int t = 0; t < NT; ++t) acc[t] = acc_m[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i sm = q4k_scales_mins(x[i].scales);
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, dup_mins));  // m0 m0 m1 m1 ... m7 m7
    const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));      // s0..s7 in each lane
    const float d = _cvtsh_ss(x[i].d), dmin = _cvtsh_ss(x[i].dmin);
    __m256i sumi[NT];
    for (int t = 0; t < NT; ++t) sumi[t] = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {  // 64 weights: sub-block 2j in the low nibbles, 2j+1 in the high
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * j));
      const __m256i q0 = _mm256_and_si256(q, low4), q1 = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      const __m256i s0 = _mm256_shuffle_epi8(sc16, _mm256_load_si256(reinterpret_cast<const __m256i*>(kWord[2 * j])));
      const __m256i s1 =
          _mm256_shuffle_epi8(sc16, _mm256_load_si256(reinterpret_cast<const __m256i*>(kWord[2 * j + 1])));
      for (int t = 0; t < NT; ++t) {
        const BlockQ8_K* y = reinterpret_cast<const BlockQ8_K*>(act + stride * size_t(t)) + i;
        const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->qs + 64 * j));
        const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->qs + 64 * j + 32));
        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(q0, y0), s0);
        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(q1, y1), s1);
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(p0, p1));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K* y = reinterpret_cast<const BlockQ8_K*>(act + stride * size_t(t)) + i;
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->bsums));
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * y->d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
      acc_m[t] =
          _mm256_fmadd_ps(_mm256_set1_ps(dmin * y->d), _mm256_cvtepi32_ps(_mm256_madd_epi16(bs, mins16)), acc_m[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum8(acc[t]) - hsum8(acc_m[t]);
}

}  // namespace

DAWN_AVX2 float vec_dot_q4_k_avx2(int64_t n, const void* w, const void* act) {
  float r;
  q4k_dot<1>(n, static_cast<const BlockQ4_K*>(w), static_cast<const uint8_t*>(act), 0, &r);
  return r;
}

DAWN_AVX2 void vec_dot_q4_k_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  q4k_dot<4>(n, static_cast<const BlockQ4_K*>(w), static_cast<const uint8_t*>(act), act_stride, out);
}

namespace {

// NT tokens against one Q6_K row; the 6-bit levels and the scales are unpacked once per block.
template <int NT>
DAWN_AVX2 inline void q6k_dot(int64_t n, const BlockQ6_K* x, const uint8_t* act, size_t stride, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0xF), two = _mm256_set1_epi8(3);
  // Shuffles giving 16-element group g (even) its scale in the low lane and g + 1's in the high lane.
  alignas(32) static const uint8_t kPair[4][32] = {
#define DAWN_P(k)                                                                          \
  {2 * k,     2 * k + 1, 2 * k,     2 * k + 1, 2 * k,     2 * k + 1, 2 * k,     2 * k + 1, \
   2 * k,     2 * k + 1, 2 * k,     2 * k + 1, 2 * k,     2 * k + 1, 2 * k,     2 * k + 1, \
   2 * k + 2, 2 * k + 3, 2 * k + 2, 2 * k + 3, 2 * k + 2, 2 * k + 3, 2 * k + 2, 2 * k + 3, \
   2 * k + 2, 2 * k + 3, 2 * k + 2, 2 * k + 3, 2 * k + 2, 2 * k + 3, 2 * k + 2, 2 * k + 3}
      DAWN_P(0), DAWN_P(2), DAWN_P(4), DAWN_P(6)
#undef DAWN_P
  };
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);  // 16 scales as int16
    const __m256i half[2] = {_mm256_broadcastsi128_si256(_mm256_castsi256_si128(sc16)),
                             _mm256_broadcastsi128_si256(_mm256_extracti128_si256(sc16, 1))};
    const float d = _cvtsh_ss(x[i].d);
    __m256i sumi[NT];
    // Levels are stored +32: sum (q-32)*y = sum q*y - 32 * sum_g scale_g * bsum_g.
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K* y = reinterpret_cast<const BlockQ8_K*>(act + stride * size_t(t)) + i;
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->bsums));
      sumi[t] = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(bs, sc16)), 5);
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * h));
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4)),
          _mm256_or_si256(_mm256_and_si256(l1, low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4)),
      };
      for (int k = 0; k < 4; ++k) {  // 32 elements = scale groups g and g + 1
        const int g = 8 * h + 2 * k;
        const __m256i s =
            _mm256_shuffle_epi8(half[g / 8], _mm256_load_si256(reinterpret_cast<const __m256i*>(kPair[(g % 8) / 2])));
        for (int t = 0; t < NT; ++t) {
          const BlockQ8_K* y = reinterpret_cast<const BlockQ8_K*>(act + stride * size_t(t)) + i;
          const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->qs + 16 * g));
          sumi[t] = _mm256_add_epi32(sumi[t], _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], yv), s));
        }
      }
    }
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K* y = reinterpret_cast<const BlockQ8_K*>(act + stride * size_t(t)) + i;
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * y->d), _mm256_cvtepi32_ps(sumi[t]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = hsum8(acc[t]);
}

}  // namespace

DAWN_AVX2 float vec_dot_q6_k_avx2(int64_t n, const void* w, const void* act) {
  float r;
  q6k_dot<1>(n, static_cast<const BlockQ6_K*>(w), static_cast<const uint8_t*>(act), 0, &r);
  return r;
}

DAWN_AVX2 void vec_dot_q6_k_x4_avx2(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  q6k_dot<4>(n, static_cast<const BlockQ6_K*>(w), static_cast<const uint8_t*>(act), act_stride, out);
}

DAWN_AVX2 float dot_f32_f16_avx2(const float* q, const uint16_t* k, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i),
                         _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k + i))), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8),
                         _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k + i + 8))), a1);
  }
  float s = hsum8(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += q[i] * fp16_to_f32(k[i]);
  return s;
}

DAWN_AVX2 void axpy_f16_avx2(float a, const uint16_t* v, float* out, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + i)));
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(av, x, _mm256_loadu_ps(out + i)));
  }
  for (; i < n; ++i) out[i] += a * fp16_to_f32(v[i]);
}

namespace {

// e^x for x in [-87.3, 88]: x = k ln2 + r with |r| <= ln2/2 (ln2 in two parts, so r is exact),
// e^r = 1 + r + r^2 P(r) with Cephes' degree-5 minimax P, 2^k built in the exponent bits. The
// clamp keeps 2^k a normal float; below it e^x is under 2^-126, which SwiGLU and softmax treat
// as the zero it nearly is.
DAWN_AVX2 inline __m256 exp8(__m256 x) {
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.0f)), _mm256_set1_ps(-87.3f));
  const __m256 k =
      _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i two_k = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(two_k));
}

}  // namespace

DAWN_AVX2 void swiglu_avx2(float* g, const float* u, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(g + i);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
    _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(x, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
  }
  swiglu_ref(g + i, u + i, n - i);
}

DAWN_AVX2 float softmax_step_avx2(float* s, int64_t n, float scale, float* m) {
  const __m256 vscale = _mm256_set1_ps(scale);
  __m256 vmax = _mm256_set1_ps(*m);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_mul_ps(_mm256_loadu_ps(s + i), vscale);
    _mm256_storeu_ps(s + i, x);
    vmax = _mm256_max_ps(vmax, x);
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  float max = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
  for (int64_t j = i; j < n; ++j) {
    s[j] *= scale;
    max = std::max(max, s[j]);
  }
  const __m256 vm = _mm256_set1_ps(max);
  __m256 vsum = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + i), vm));
    _mm256_storeu_ps(s + i, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  float sum = hsum8(vsum);
  for (; i < n; ++i) {
    s[i] = std::exp(s[i] - max);
    sum += s[i];
  }
  *m = max;
  return sum;
}

DAWN_AVX2 void softmax_avx2(float* s, int64_t n, float scale) {
  float m = -INFINITY;
  const float inv = 1.0f / softmax_step_avx2(s, n, scale, &m);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(s + i, _mm256_mul_ps(_mm256_loadu_ps(s + i), _mm256_set1_ps(inv)));
  for (; i < n; ++i) s[i] *= inv;
}

}  // namespace dawn
