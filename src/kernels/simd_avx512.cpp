// AVX-512 + VNNI dot products (Zen 4/5, Ice Lake and later). vpdpbusd multiplies unsigned
// weight levels by signed activations and sums groups of four in one instruction, where AVX2
// needs maddubs + madd; 512-bit registers hold 64 levels, two K-quant sub-blocks at a time.
// Compiled through target attributes so one binary still runs on AVX2-only CPUs.
// GCC 12's AVX-512 headers make "undefined" vectors by self-initialisation, which its own
// -Wuninitialized then reports from inside the intrinsics (a false positive, fixed in GCC 13).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/iq_grids.h"
#include "kernels/simd_x86.h"

#define DAWN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace dawn {

namespace {

// sum over four 64-level groups k of dpwssd(maddubs(w_k, y_k), s_k): maddubs makes int16 pair
// sums (at most 2 * 63 * 128, no saturation for levels below 64) and dpwssd multiplies them by the
// int16 scales s_k of their sub-blocks and accumulates, two instructions per 64 levels.
DAWN_AVX512 inline __m512i scaled_dots(const __m512i* w, const __m512i* s, const int8_t* y, __m512i sum) {
  for (int k = 0; k < 4; ++k) {
    sum = _mm512_dpwssd_epi32(sum, _mm512_maddubs_epi16(w[k], _mm512_loadu_si512(y + 64 * k)), s[k]);
  }
  return sum;
}

// The Q4_K scales (dwords 0-1) and mins (dwords 2-3) of block b as bytes, unpacked in vector registers:
// the block starts with d, dmin (dword 0) and then the 12 packed bytes a, b, c (dwords 1-3).
DAWN_AVX512 inline __m128i q4k_scales_mins_v(__m128i blk) {
  const __m128i p = _mm_shuffle_epi32(blk, _MM_SHUFFLE(3, 2, 3, 1));  // a c b c
  const __m128i q = _mm_shuffle_epi32(blk, _MM_SHUFFLE(2, 2, 1, 1));  // a a b b
  const __m128i lo = _mm_and_si128(_mm_srlv_epi32(p, _mm_setr_epi32(0, 0, 0, 4)),
                                   _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
  const __m128i hi = _mm_and_si128(_mm_srli_epi32(q, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(lo, hi);
}

// NT tokens against one Q4_K row; levels and scales are unpacked once per block (NT = 1: decode).
template <int NT>
DAWN_AVX512 inline void q4k_dot(int64_t n, const BlockQ4_K* x, const uint8_t* act, size_t stride, float* out) {
  const __m512i low4 = _mm512_set1_epi8(0xF);
  // Register k holds sub-blocks 2k (int16 pair sums 0-15) and 2k + 1 (16-31): byte shuffles that
  // give each 128-bit lane the int16 scale of its sub-block.
  __m512i pick[4];
  for (int k = 0; k < 4; ++k) {
    const int a = 2 * (2 * k) * 0x0101 + 0x0100, b = 2 * (2 * k + 1) * 0x0101 + 0x0100;
    pick[k] = _mm512_setr_epi32(a * 0x10001, a * 0x10001, a * 0x10001, a * 0x10001, a * 0x10001, a * 0x10001,
                                a * 0x10001, a * 0x10001, b * 0x10001, b * 0x10001, b * 0x10001, b * 0x10001,
                                b * 0x10001, b * 0x10001, b * 0x10001, b * 0x10001);
  }
  const __m128i dup_mins = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
  __m512 acc[NT];
  __m256 acc_m[NT];
  for (int t = 0; t < NT; ++t) {
    acc[t] = _mm512_setzero_ps();
    acc_m[t] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i blk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&x[i]));
    const __m128i sm = q4k_scales_mins_v(blk);
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, dup_mins));  // m0 m0 m1 m1 ... m7 m7
    const __m512i sc16 = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));           // s0..s7 in each lane
    const __m128 dd = _mm_cvtph_ps(blk);                                          // d, dmin
    __m512i w[4], s[4];
    for (int h = 0; h < 2; ++h) {
      // 64 bytes = elements 128h + 0..31 | +64..95 in the low nibbles, +32..63 | +96..127 in the high.
      const __m512i q = _mm512_loadu_si512(x[i].qs + 64 * h);
      const __m512i lo = _mm512_and_si512(q, low4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
      w[2 * h] = _mm512_shuffle_i64x2(lo, hi, 0x44);      // elements 128h + 0..63
      w[2 * h + 1] = _mm512_shuffle_i64x2(lo, hi, 0xEE);  // elements 128h + 64..127
    }
    for (int k = 0; k < 4; ++k) s[k] = _mm512_shuffle_epi8(sc16, pick[k]);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K* y = reinterpret_cast<const BlockQ8_K*>(act + stride * size_t(t)) + i;
      const __m512i sumi = scaled_dots(w, s, y->qs, _mm512_setzero_si512());
      const __m128 ddy = _mm_mul_ps(dd, _mm_broadcast_ss(&y->d));
      acc[t] = _mm512_fmadd_ps(_mm512_broadcastss_ps(ddy), _mm512_cvtepi32_ps(sumi), acc[t]);
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->bsums));
      acc_m[t] = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(ddy)),
                                 _mm256_cvtepi32_ps(_mm256_madd_epi16(bs, mins16)), acc_m[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]) - hsum8(acc_m[t]);
}

// NT tokens against one Q6_K row.
template <int NT>
DAWN_AVX512 inline void q6k_dot(int64_t n, const BlockQ6_K* x, const uint8_t* act, size_t stride, float* out) {
  const __m512i low4 = _mm512_set1_epi8(0xF), three = _mm512_set1_epi8(3);
  // The two 2-bit fields of qh that belong to the low and the high 256 bits of a register.
  const __m512i shift_a = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
  const __m512i shift_b = _mm512_setr_epi64(4, 4, 4, 4, 6, 6, 6, 6);
  // Register k holds scale groups 4k..4k+3, one per 128-bit lane (8 int16 pair sums each).
  __m512i group[4];
  for (int k = 0; k < 4; ++k) {
    alignas(64) int16_t idx[32];
    for (int j = 0; j < 32; ++j) idx[j] = int16_t(4 * k + j / 8);
    group[k] = _mm512_load_si512(idx);
  }
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales)));
    const __m512i sc = _mm512_castsi256_si512(sc16);
    __m512i w[4], s[4];
    for (int h = 0; h < 2; ++h) {
      // ql bytes 64h..64h+63: low nibbles are elements 128h + 0..63, high nibbles 128h + 64..127;
      // the matching fifth and sixth bits sit in qh[32h..32h+31] at shifts 0, 2 | 4, 6.
      const __m512i l = _mm512_loadu_si512(x[i].ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * h)));
      const __m512i ha = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(qh, shift_a), three), 4);
      const __m512i hb = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(qh, shift_b), three), 4);
      w[2 * h] = _mm512_or_si512(_mm512_and_si512(l, low4), ha);
      w[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low4), hb);
    }
    for (int k = 0; k < 4; ++k) s[k] = _mm512_permutexvar_epi16(group[k], sc);
    const float d = _cvtsh_ss(x[i].d);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K* y = reinterpret_cast<const BlockQ8_K*>(act + stride * size_t(t)) + i;
      // Levels are stored +32: sum (q-32)*y = sum q*y - 32 * sum_g scale_g * bsum_g.
      const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->bsums));
      const __m256i bias = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(bs, sc16)), 5);
      const __m512i sumi = scaled_dots(w, s, y->qs, _mm512_zextsi256_si512(bias));
      acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(d * y->d), _mm512_cvtepi32_ps(sumi), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]);
}

// The f16 scales of blocks b and b + 1 (34 bytes apart in Q8_0 activations) as two floats.
template <class Block>
DAWN_AVX512 inline __m128 two_scales(const Block* b) {
  return _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(b[0].d), b[1].d, 1));
}

// NT tokens of Q8_0 activations against one row of 32-element blocks with signed levels
// `levels(block)`. vpdpbusd wants one unsigned operand: |w| times y with w's sign moved onto y.
// Blocks go in pairs, one per 256-bit half, so the per-block float work is shared.
template <int NT, class Block, class Levels>
DAWN_AVX512 inline void dot_q8_act(int64_t n, const Block* x, const uint8_t* act, size_t stride, float* out,
                                   const Levels& levels) {
  const __m512i halves = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const int64_t nb = n / QK;
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m512i qx = _mm512_inserti64x4(_mm512_castsi256_si512(levels(x[i])), levels(x[i + 1]), 1);
    const __m512i ax = _mm512_abs_epi8(qx);
    const __mmask64 neg = _mm512_movepi8_mask(qx);
    const __m128 dx = two_scales(x + i);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0* y = reinterpret_cast<const BlockQ8_0*>(act + stride * size_t(t)) + i;
      const __m512i qy =
          _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[0].qs))),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[1].qs)), 1);
      const __m512i sy = _mm512_mask_sub_epi8(qy, neg, _mm512_setzero_si512(), qy);
      const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ax, sy);
      const __m512 d = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(_mm_mul_ps(dx, two_scales(y))));
      acc[t] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc[t]);
    }
  }
  for (; i < nb; ++i) {  // an odd last block
    const __m256i qx = levels(x[i]);
    const __m256i ax = _mm256_abs_epi8(qx);
    const __mmask32 neg = _mm256_movepi8_mask(qx);
    const float dx = _cvtsh_ss(x[i].d);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0* y = reinterpret_cast<const BlockQ8_0*>(act + stride * size_t(t)) + i;
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y->qs));
      const __m256i sy = _mm256_mask_sub_epi8(qy, neg, _mm256_setzero_si256(), qy);
      const __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy);
      const __m256 v = _mm256_mul_ps(_mm256_set1_ps(dx * _cvtsh_ss(y->d)), _mm256_cvtepi32_ps(p));
      acc[t] = _mm512_add_ps(acc[t], _mm512_zextps256_ps512(v));
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = _mm512_reduce_add_ps(acc[t]);
}

struct Q8_0Levels {
  DAWN_AVX512 __m256i operator()(const BlockQ8_0& b) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
  }
};

// Levels are stored +16 with the fifth bit of element j in bit j of qh.
struct Q5_0Levels {
  DAWN_AVX512 __m256i operator()(const BlockQ5_0& b) const {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
    const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0xF));
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    // Elements without their fifth bit are level - 16: subtract 16 only there.
    return _mm256_mask_sub_epi8(nib, __mmask32(~qh), nib, _mm256_set1_epi8(16));
  }
};

// IQ4_NL: each nibble indexes the 16 non-linear levels (low nibbles weights 0..15, high 16..31).
struct Iq4NlLevels {
  DAWN_AVX512 __m256i operator()(const BlockIQ4_NL& b) const {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
    const __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0xF));
    const __m256i table =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kValuesIq4nl.data())));
    return _mm256_shuffle_epi8(table, nib);
  }
};

// IQ1_S against Q8_K: v = 8 g + delta with g ternary, so v . y = 8 (g + 1) . y + (delta - 8) S with
// S the sub-block's activation sum (from Q8_K's bsums): g + 1 is unsigned, one vpdpbusd per 64
// weights. The 32 11-bit grid indices of a block are built in vectors and gathered 8 at a time.
DAWN_AVX512 inline void iq1s_block(const BlockIQ1_S& b, const BlockQ8_K& y, __m512& acc) {
  const __m256i qh = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qh)));
  const __m512i qh16 = _mm512_castsi256_si512(qh);
  // Per sub-block: scale 2 s + 1 (times 8 for the grid part) and the shift term (delta - 8) S.
  const __m256i sc = _mm256_add_epi32(_mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(qh, 12), _mm256_set1_epi32(7)), 1),
                                      _mm256_set1_epi32(1));
  const __m256i dm = _mm256_sub_epi32(_mm256_set1_epi32(-7), _mm256_slli_epi32(_mm256_srli_epi32(qh, 15), 1));
  const __m256i sums =
      _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums)), _mm256_set1_epi16(1));
  __m512i total = _mm512_castsi256_si512(_mm256_mullo_epi32(_mm256_mullo_epi32(sc, dm), sums));
  total = _mm512_maskz_mov_epi32(0x00FF, total);
  const __m512i sc8 = _mm512_castsi256_si512(_mm256_slli_epi32(sc, 3));
  const __m512i lane = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  const __m512i shift = _mm512_setr_epi32(0, 3, 6, 9, 0, 3, 6, 9, 0, 3, 6, 9, 0, 3, 6, 9);
  const long long* grid = reinterpret_cast<const long long*>(kIq1sGrid.data());
  for (int h = 0; h < 2; ++h) {  // indices 16 h .. 16 h + 15: sub-blocks 4 h .. 4 h + 3
    const __m512i lo = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 16 * h)));
    const __m512i hi = _mm512_and_si512(
        _mm512_srlv_epi32(_mm512_permutexvar_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32(4 * h)), qh16), shift),
        _mm512_set1_epi32(7));
    const __m512i idx = _mm512_or_si512(lo, _mm512_slli_epi32(hi, 8));
    for (int k = 0; k < 2; ++k) {  // 8 indices: 64 weights, sub-blocks 4 h + 2 k and 4 h + 2 k + 1
      const __m256i i8 = k == 0 ? _mm512_castsi512_si256(idx) : _mm512_extracti64x4_epi64(idx, 1);
      const __m512i g1 = _mm512_add_epi8(_mm512_i32gather_epi64(i8, grid, 8), _mm512_set1_epi8(1));
      const int sb = 4 * h + 2 * k;
      const __m512i q = _mm512_loadu_si512(y.qs + 32 * sb);
      const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), g1, q);
      const __m512i m = _mm512_permutexvar_epi32(
          _mm512_setr_epi32(sb, sb, sb, sb, sb, sb, sb, sb, sb + 1, sb + 1, sb + 1, sb + 1, sb + 1, sb + 1, sb + 1, sb + 1),
          sc8);
      total = _mm512_add_epi32(total, _mm512_mullo_epi32(p, m));
    }
  }
  acc = _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(b.d) * y.d * 0.125f), _mm512_cvtepi32_ps(total), acc);
}

}  // namespace

DAWN_AVX512 float vec_dot_iq1_s_avx512(int64_t n, const void* w, const void* act) {
  const BlockIQ1_S* x = static_cast<const BlockIQ1_S*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(act);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const int64_t nb = n / QK_K;
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    iq1s_block(x[i], y[i], acc0);
    iq1s_block(x[i + 1], y[i + 1], acc1);
  }
  if (i < nb) iq1s_block(x[i], y[i], acc0);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

DAWN_AVX512 float vec_dot_iq4_nl_avx512(int64_t n, const void* w, const void* act) {
  float r;
  dot_q8_act<1>(n, static_cast<const BlockIQ4_NL*>(w), static_cast<const uint8_t*>(act), 0, &r, Iq4NlLevels());
  return r;
}

DAWN_AVX512 void vec_dot_iq4_nl_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  dot_q8_act<4>(n, static_cast<const BlockIQ4_NL*>(w), static_cast<const uint8_t*>(act), act_stride, out,
                Iq4NlLevels());
}

DAWN_AVX512 float vec_dot_q4_k_avx512(int64_t n, const void* w, const void* act) {
  float r;
  q4k_dot<1>(n, static_cast<const BlockQ4_K*>(w), static_cast<const uint8_t*>(act), 0, &r);
  return r;
}

DAWN_AVX512 void vec_dot_q4_k_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  q4k_dot<4>(n, static_cast<const BlockQ4_K*>(w), static_cast<const uint8_t*>(act), act_stride, out);
}

DAWN_AVX512 float vec_dot_q6_k_avx512(int64_t n, const void* w, const void* act) {
  float r;
  q6k_dot<1>(n, static_cast<const BlockQ6_K*>(w), static_cast<const uint8_t*>(act), 0, &r);
  return r;
}

DAWN_AVX512 void vec_dot_q6_k_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  q6k_dot<4>(n, static_cast<const BlockQ6_K*>(w), static_cast<const uint8_t*>(act), act_stride, out);
}

DAWN_AVX512 float vec_dot_q8_0_avx512(int64_t n, const void* w, const void* act) {
  float r;
  dot_q8_act<1>(n, static_cast<const BlockQ8_0*>(w), static_cast<const uint8_t*>(act), 0, &r, Q8_0Levels());
  return r;
}

DAWN_AVX512 void vec_dot_q8_0_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  dot_q8_act<4>(n, static_cast<const BlockQ8_0*>(w), static_cast<const uint8_t*>(act), act_stride, out, Q8_0Levels());
}

DAWN_AVX512 float vec_dot_q5_0_avx512(int64_t n, const void* w, const void* act) {
  float r;
  dot_q8_act<1>(n, static_cast<const BlockQ5_0*>(w), static_cast<const uint8_t*>(act), 0, &r, Q5_0Levels());
  return r;
}

DAWN_AVX512 void vec_dot_q5_0_x4_avx512(int64_t n, const void* w, const void* act, size_t act_stride, float* out) {
  dot_q8_act<4>(n, static_cast<const BlockQ5_0*>(w), static_cast<const uint8_t*>(act), act_stride, out, Q5_0Levels());
}

// quantize_row_q8_k_ref with the block's scan, scaling and 16-sums in vectors. The extreme is the
// first value of the largest magnitude, as the scalar scan finds it; cvtps rounds half to even, as
// nearest_int does.
DAWN_AVX512 void quantize_row_q8_k_avx512(const float* src, void* dst, int64_t n) {
  BlockQ8_K* b = static_cast<BlockQ8_K*>(dst);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512i top = _mm512_set1_epi32(127);
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float* x = src + i * QK_K;
    __m512 amax = _mm512_setzero_ps();
    for (int k = 0; k < QK_K / 16; ++k) amax = _mm512_max_ps(amax, _mm512_andnot_ps(sign, _mm512_loadu_ps(x + 16 * k)));
    const float m = _mm512_reduce_max_ps(amax);
    if (m == 0) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const __m512 mv = _mm512_set1_ps(m);
    int first = 0;
    for (int k = 0; k < QK_K / 16; ++k) {
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_andnot_ps(sign, _mm512_loadu_ps(x + 16 * k)), mv, _CMP_EQ_OQ);
      if (hit) {
        first = 16 * k + __builtin_ctz(hit);
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m512 s = _mm512_set1_ps(iscale);
    for (int k = 0; k < QK_K / 16; ++k) {
      const __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(s, _mm512_loadu_ps(x + 16 * k))), top);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16 * k), _mm512_cvtepi32_epi8(q));
      b[i].bsums[k] = int16_t(_mm512_reduce_add_epi32(q));
    }
    b[i].d = 1.0f / iscale;
  }
}

// quantize_q8_block per block of 32 in vectors: the same magnitude maximum, reciprocal and
// round-half-even (lrintf in the default rounding mode; so is cvtps).
DAWN_AVX512 void quantize_row_q8_0_avx512(const float* src, void* dst, int64_t n) {
  BlockQ8_0* b = static_cast<BlockQ8_0*>(dst);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / QK; ++i) {
    const __m512 x0 = _mm512_loadu_ps(src + i * QK), x1 = _mm512_loadu_ps(src + i * QK + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, x0), _mm512_andnot_ps(sign, x1)));
    const __m512 id = _mm512_set1_ps(amax != 0 ? 127.0f / amax : 0.0f);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs),
                     _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x0, id))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16),
                     _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x1, id))));
    b[i].d = f32_to_fp16(amax / 127.0f);
  }
}

}  // namespace dawn
