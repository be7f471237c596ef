// The level GEMM tile kernel for AVX-512 VNNI: lanes are the tile's 16 rows, so a sub-block's
// scale and min are plain vectors and no horizontal sums are needed until the very end.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels/level_gemm.h"

#define DAWN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace dawn {

namespace {

template <int NT, int SUB, bool MIN>
DAWN_AVX512 void tile_kernel(const LevelTile& w, const LevelActs& a, const int32_t* toks, float* y, int64_t ldy,
                             __mmask16 rows) {
  const int64_t n_sub = w.cols / SUB;
  const int8_t* x[NT];
  const float *d[NT], *dsum[NT];
  const int32_t* zsum[NT];
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) {
    x[t] = a.q.data() + toks[t] * a.cols;
    d[t] = a.d.data() + toks[t] * n_sub;
    dsum[t] = a.dsum.data() + toks[t] * n_sub;
    zsum[t] = a.zsum.data() + toks[t] * n_sub;
    acc[t] = _mm512_setzero_ps();
  }
  const uint8_t* wq = w.q.data();
  for (int64_t j = 0; j < n_sub; ++j, wq += SUB * kTileRows) {
    __m512i sum[NT];
    for (int t = 0; t < NT; ++t) sum[t] = _mm512_set1_epi32(zsum[t][j]);
    for (int s = 0; s < SUB / 4; ++s) {
      const __m512i q = _mm512_loadu_si512(wq + 64 * s);
      for (int t = 0; t < NT; ++t) {
        int32_t four;
        std::memcpy(&four, x[t] + j * SUB + 4 * s, 4);
        sum[t] = _mm512_dpbusd_epi32(sum[t], q, _mm512_set1_epi32(four));
      }
    }
    const __m512 scale = _mm512_loadu_ps(w.scale.data() + j * kTileRows);
    for (int t = 0; t < NT; ++t) {
      const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(sum[t]), _mm512_set1_ps(d[t][j]));
      acc[t] = _mm512_fmadd_ps(v, scale, acc[t]);
    }
    if (MIN) {
      const __m512 min = _mm512_loadu_ps(w.min.data() + j * kTileRows);
      for (int t = 0; t < NT; ++t) acc[t] = _mm512_fnmadd_ps(min, _mm512_set1_ps(dsum[t][j]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + t * ldy, rows, acc[t]);
}

template <int SUB, bool MIN>
DAWN_AVX512 void tile_nt(const LevelTile& w, const LevelActs& a, const int32_t* toks, int nt, float* y, int64_t ldy,
                         __mmask16 rows) {
  switch (nt) {
    case 1: return tile_kernel<1, SUB, MIN>(w, a, toks, y, ldy, rows);
    case 2: return tile_kernel<2, SUB, MIN>(w, a, toks, y, ldy, rows);
    case 3: return tile_kernel<3, SUB, MIN>(w, a, toks, y, ldy, rows);
    case 4: return tile_kernel<4, SUB, MIN>(w, a, toks, y, ldy, rows);
    case 5: return tile_kernel<5, SUB, MIN>(w, a, toks, y, ldy, rows);
    case 6: return tile_kernel<6, SUB, MIN>(w, a, toks, y, ldy, rows);
    case 7: return tile_kernel<7, SUB, MIN>(w, a, toks, y, ldy, rows);
    default: return tile_kernel<8, SUB, MIN>(w, a, toks, y, ldy, rows);
  }
}

}  // namespace

DAWN_AVX512 void level_gemm_avx512(const LevelTile& w, const LevelActs& a, const int32_t* toks, int nt, float* y,
                                   int64_t ldy, int n_rows) {
  const __mmask16 rows = __mmask16((1u << n_rows) - 1);
  if (w.sub == 16) {
    if (w.has_min) return tile_nt<16, true>(w, a, toks, nt, y, ldy, rows);
    return tile_nt<16, false>(w, a, toks, nt, y, ldy, rows);
  }
  if (w.has_min) return tile_nt<32, true>(w, a, toks, nt, y, ldy, rows);
  return tile_nt<32, false>(w, a, toks, nt, y, ldy, rows);
}

// One 16 x 16 transpose of dwords per 64 columns: unpack pairs of rows, then quads, then swap
// 128-bit lanes between the four quads.
DAWN_AVX512 void interleave_tile_avx512(const uint8_t* rows, int64_t cols, uint8_t* q) {
  for (int64_t c = 0; c + 64 <= cols; c += 64, q += 64 * kTileRows) {
    __m512i a[16], b[16];
    for (int r = 0; r < 16; ++r) a[r] = _mm512_loadu_si512(rows + r * cols + c);
    for (int m = 0; m < 8; ++m) {
      b[2 * m] = _mm512_unpacklo_epi32(a[2 * m], a[2 * m + 1]);
      b[2 * m + 1] = _mm512_unpackhi_epi32(a[2 * m], a[2 * m + 1]);
    }
    for (int g = 0; g < 4; ++g) {  // a[4g + s]: rows 4g..4g+3 at column 4l + s of lane l
      a[4 * g] = _mm512_unpacklo_epi64(b[4 * g], b[4 * g + 2]);
      a[4 * g + 1] = _mm512_unpackhi_epi64(b[4 * g], b[4 * g + 2]);
      a[4 * g + 2] = _mm512_unpacklo_epi64(b[4 * g + 1], b[4 * g + 3]);
      a[4 * g + 3] = _mm512_unpackhi_epi64(b[4 * g + 1], b[4 * g + 3]);
    }
    for (int s = 0; s < 4; ++s) {
      const __m512i d0 = _mm512_shuffle_i32x4(a[s], a[4 + s], 0x44), d1 = _mm512_shuffle_i32x4(a[s], a[4 + s], 0xEE);
      const __m512i d2 = _mm512_shuffle_i32x4(a[8 + s], a[12 + s], 0x44);
      const __m512i d3 = _mm512_shuffle_i32x4(a[8 + s], a[12 + s], 0xEE);
      _mm512_storeu_si512(q + 64 * s, _mm512_shuffle_i32x4(d0, d2, 0x88));
      _mm512_storeu_si512(q + 64 * (4 + s), _mm512_shuffle_i32x4(d0, d2, 0xDD));
      _mm512_storeu_si512(q + 64 * (8 + s), _mm512_shuffle_i32x4(d1, d3, 0x88));
      _mm512_storeu_si512(q + 64 * (12 + s), _mm512_shuffle_i32x4(d1, d3, 0xDD));
    }
  }
}

}  // namespace dawn
