// The two products of attention for several query rows that share one cache (all MLA heads over
// the latent, the heads of a GQA group): each cache row is loaded and converted once per block
// of query rows instead of once per row, and the accumulators are held in registers. Rows are
// f32, f16 or q8_0.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "kernels/dispatch.h"

#define DAWN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

namespace dawn {

namespace {

// Element kinds of a cache row (dispatch.h's kv_elem).
constexpr int kF32 = 0, kF16 = 1, kQ8 = 2;

// Elements i .. i + 15 of a row (those under m) as floats. A q8_0 row's 16 sit in one block
// (i is a multiple of 16 and blocks hold 32): its int8 values times its scale.
template <int E>
DAWN_AVX512 inline __m512 load16(const uint8_t* row, int64_t i, __mmask16 m) {
  if constexpr (E == kF16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(row) + i));
  } else if constexpr (E == kQ8) {
    const uint8_t* b = row + (i / 32) * 34;
    uint16_t d;
    __builtin_memcpy(&d, b, 2);
    const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, b + 2 + i % 32)));
    return _mm512_mul_ps(q, _mm512_set1_ps(_cvtsh_ss(d)));
  } else {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + i);
  }
}

// Bytes between cache rows `stride` elements apart.
size_t cache_row_bytes(int e, int64_t stride) {
  return e == kQ8 ? size_t(stride / 32) * 34 : size_t(stride) * (e == kF16 ? 2 : 4);
}

// Rows this far ahead are prefetched: at depth the cache streams from memory, one thread per
// block, and the hardware prefetcher alone left the products waiting on their loads (measured:
// ~85 % of qk_block's samples on the K loads at depth 4096, GQA).
constexpr int64_t kPrefetchRows = 16;

DAWN_AVX512 inline void prefetch_row(const uint8_t* row, size_t bytes) {
  for (size_t o = 0; o < bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(row + o), _MM_HINT_T0);
}

DAWN_AVX512 inline __mmask16 tail_mask(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// Sixteen sums at once: lane i of the result is the sum of v[i]'s lanes. A transposing tree (45
// shuffles and adds) instead of sixteen separate reductions (~130): with GQA's 128-wide heads a
// 4 x 4 block's reductions would cost as much as its 128 FMAs.
DAWN_AVX512 inline __m512 reduce16(const __m512* v) {
  __m512 w[8], x[4];
  for (int k = 0; k < 8; ++k)  // per 128-bit chunk: [a0+a2, b0+b2, a1+a3, b1+b3]
    w[k] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * k], v[2 * k + 1]), _mm512_unpackhi_ps(v[2 * k], v[2 * k + 1]));
  for (int k = 0; k < 4; ++k) {  // chunk c: the chunk's sums of v[4k .. 4k + 3]
    const __m512d a = _mm512_castps_pd(w[2 * k]), b = _mm512_castps_pd(w[2 * k + 1]);
    x[k] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
  }
  // Chunks summed across: y0 = [x0 c0+c1, x0 c2+c3, x1 c0+c1, x1 c2+c3], then z chunk k = x[k]'s total.
  const __m512 y0 = _mm512_add_ps(_mm512_shuffle_f32x4(x[0], x[1], 0x88), _mm512_shuffle_f32x4(x[0], x[1], 0xDD));
  const __m512 y1 = _mm512_add_ps(_mm512_shuffle_f32x4(x[2], x[3], 0x88), _mm512_shuffle_f32x4(x[2], x[3], 0xDD));
  return _mm512_add_ps(_mm512_shuffle_f32x4(y0, y1, 0x88), _mm512_shuffle_f32x4(y0, y1, 0xDD));
}

// s[h * ss + j] = q_h . k_j for NH query rows and NJ cache rows.
template <int E, int NH, int NJ>
DAWN_AVX512 void qk_block(const float* q, int64_t qs, const uint8_t* k, size_t kb, int64_t dk, float* s, int64_t ss) {
  __m512 acc[NH][NJ];
  for (int h = 0; h < NH; ++h)
    for (int j = 0; j < NJ; ++j) acc[h][j] = _mm512_setzero_ps();
  for (int64_t i = 0; i < dk; i += 16) {
    const __mmask16 m = tail_mask(dk - i);
    __m512 kv[NJ];
    for (int j = 0; j < NJ; ++j) kv[j] = load16<E>(k + j * kb, i, m);
    for (int h = 0; h < NH; ++h) {
      const __m512 qv = _mm512_maskz_loadu_ps(m, q + h * qs + i);
      for (int j = 0; j < NJ; ++j) acc[h][j] = _mm512_fmadd_ps(qv, kv[j], acc[h][j]);
    }
  }
  if constexpr (NH == 4 && NJ == 4) {
    const __m512 z = reduce16(&acc[0][0]);  // lane 4h + j: q_h . k_j
    _mm_storeu_ps(s, _mm512_extractf32x4_ps(z, 0));
    _mm_storeu_ps(s + ss, _mm512_extractf32x4_ps(z, 1));
    _mm_storeu_ps(s + 2 * ss, _mm512_extractf32x4_ps(z, 2));
    _mm_storeu_ps(s + 3 * ss, _mm512_extractf32x4_ps(z, 3));
  } else {
    for (int h = 0; h < NH; ++h)
      for (int j = 0; j < NJ; ++j) s[h * ss + j] = _mm512_reduce_add_ps(acc[h][j]);
  }
}

template <int E, int NJ>
DAWN_AVX512 void qk_rows_nj(const float* q, int64_t qs, int nh, const uint8_t* k, size_t kb, int64_t dk, float* s,
                            int64_t ss) {
  switch (nh) {
    case 1: return qk_block<E, 1, NJ>(q, qs, k, kb, dk, s, ss);
    case 2: return qk_block<E, 2, NJ>(q, qs, k, kb, dk, s, ss);
    case 3: return qk_block<E, 3, NJ>(q, qs, k, kb, dk, s, ss);
    default: return qk_block<E, 4, NJ>(q, qs, k, kb, dk, s, ss);
  }
}

template <int E>
DAWN_AVX512 void qk_rows(const float* q, int64_t q_stride, int n_q, int64_t dk, const uint8_t* k, size_t kb,
                         int64_t n_kv, float* s, int64_t s_stride) {
  constexpr int NJ = 4;
  int64_t j = 0;
  // Cache rows outer: a block of NJ rows stays in L1 while every query row passes over it.
  const size_t used = cache_row_bytes(E, dk);
  for (; j + NJ <= n_kv; j += NJ) {
    for (int64_t a = j + kPrefetchRows; a < std::min(n_kv, j + kPrefetchRows + NJ); ++a) prefetch_row(k + a * kb, used);
    for (int h = 0; h < n_q; h += 4) {
      qk_rows_nj<E, NJ>(q + h * q_stride, q_stride, std::min(4, n_q - h), k + j * kb, kb, dk, s + h * s_stride + j,
                        s_stride);
    }
  }
  for (; j < n_kv; ++j) {
    for (int h = 0; h < n_q; h += 4) {
      qk_rows_nj<E, 1>(q + h * q_stride, q_stride, std::min(4, n_q - h), k + j * kb, kb, dk, s + h * s_stride + j,
                       s_stride);
    }
  }
}

// out_h[c0, c0 + 32) = sum_j p[h][j] v_j[c0, c0 + 32) for NH query rows.
template <int E, int NH>
DAWN_AVX512 void pv_block(const float* p, int64_t ps, const uint8_t* v, size_t vb, int64_t n_kv, int64_t c0,
                          __mmask16 m0, __mmask16 m1, float* out, int64_t os, bool accumulate, size_t prefetch) {
  __m512 acc[NH][2];
  for (int h = 0; h < NH; ++h) {
    if (accumulate) {
      acc[h][0] = _mm512_maskz_loadu_ps(m0, out + h * os + c0);
      acc[h][1] = _mm512_maskz_loadu_ps(m1, out + h * os + c0 + 16);
    } else {
      acc[h][0] = acc[h][1] = _mm512_setzero_ps();
    }
  }
  for (int64_t j = 0; j < n_kv; ++j) {
    const uint8_t* vj = v + j * vb;
    if (prefetch && j + 2 * kPrefetchRows < n_kv) prefetch_row(vj + 2 * kPrefetchRows * vb, prefetch);
    const __m512 v0 = load16<E>(vj, c0, m0), v1 = load16<E>(vj, c0 + 16, m1);
    for (int h = 0; h < NH; ++h) {
      const __m512 pj = _mm512_set1_ps(p[h * ps + j]);
      acc[h][0] = _mm512_fmadd_ps(pj, v0, acc[h][0]);
      acc[h][1] = _mm512_fmadd_ps(pj, v1, acc[h][1]);
    }
  }
  for (int h = 0; h < NH; ++h) {
    _mm512_mask_storeu_ps(out + h * os + c0, m0, acc[h][0]);
    _mm512_mask_storeu_ps(out + h * os + c0 + 16, m1, acc[h][1]);
  }
}

template <int E>
DAWN_AVX512 void pv_rows(const float* p, int64_t p_stride, int n_q, const uint8_t* v, size_t vb, int64_t n_kv,
                         int64_t dv, float* out, int64_t out_stride, bool accumulate) {
  for (int64_t c0 = 0; c0 < dv; c0 += 32) {
    const __mmask16 m0 = tail_mask(dv - c0), m1 = dv - c0 > 16 ? tail_mask(dv - c0 - 16) : __mmask16(0);
    for (int h = 0; h < n_q; h += 8) {
      // The first pass over the rows fetches them (their bytes ahead); the later ones find them in cache.
      const size_t pf = c0 == 0 && h == 0 ? cache_row_bytes(E, dv) : 0;
      const float* ph = p + h * p_stride;
      float* oh = out + h * out_stride;
      switch (std::min(8, n_q - h)) {
        case 1: pv_block<E, 1>(ph, p_stride, v, vb, n_kv, c0, m0, m1, oh, out_stride, accumulate, pf); break;
        case 2: pv_block<E, 2>(ph, p_stride, v, vb, n_kv, c0, m0, m1, oh, out_stride, accumulate, pf); break;
        case 3: pv_block<E, 3>(ph, p_stride, v, vb, n_kv, c0, m0, m1, oh, out_stride, accumulate, pf); break;
        case 4: pv_block<E, 4>(ph, p_stride, v, vb, n_kv, c0, m0, m1, oh, out_stride, accumulate, pf); break;
        case 5: pv_block<E, 5>(ph, p_stride, v, vb, n_kv, c0, m0, m1, oh, out_stride, accumulate, pf); break;
        case 6: pv_block<E, 6>(ph, p_stride, v, vb, n_kv, c0, m0, m1, oh, out_stride, accumulate, pf); break;
        case 7: pv_block<E, 7>(ph, p_stride, v, vb, n_kv, c0, m0, m1, oh, out_stride, accumulate, pf); break;
        default: pv_block<E, 8>(ph, p_stride, v, vb, n_kv, c0, m0, m1, oh, out_stride, accumulate, pf); break;
      }
    }
  }
}

}  // namespace

DAWN_AVX512 void qk_rows_avx512(const float* q, int64_t q_stride, int n_q, int64_t dk, const void* k, int64_t k_stride,
                                int kv_elem, int64_t n_kv, float* s, int64_t s_stride) {
  const auto* kb = static_cast<const uint8_t*>(k);
  const size_t row = cache_row_bytes(kv_elem, k_stride);
  switch (kv_elem) {
    case kF16: return qk_rows<kF16>(q, q_stride, n_q, dk, kb, row, n_kv, s, s_stride);
    case kQ8: return qk_rows<kQ8>(q, q_stride, n_q, dk, kb, row, n_kv, s, s_stride);
    default: return qk_rows<kF32>(q, q_stride, n_q, dk, kb, row, n_kv, s, s_stride);
  }
}

DAWN_AVX512 void pv_rows_avx512(const float* p, int64_t p_stride, int n_q, const void* v, int64_t v_stride, int kv_elem,
                                int64_t n_kv, int64_t dv, float* out, int64_t out_stride, bool accumulate) {
  const auto* vb = static_cast<const uint8_t*>(v);
  const size_t row = cache_row_bytes(kv_elem, v_stride);
  switch (kv_elem) {
    case kF16: return pv_rows<kF16>(p, p_stride, n_q, vb, row, n_kv, dv, out, out_stride, accumulate);
    case kQ8: return pv_rows<kQ8>(p, p_stride, n_q, vb, row, n_kv, dv, out, out_stride, accumulate);
    default: return pv_rows<kF32>(p, p_stride, n_q, vb, row, n_kv, dv, out, out_stride, accumulate);
  }
}

}  // namespace dawn
