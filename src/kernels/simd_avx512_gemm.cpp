// The level GEMM tile kernel for AVX-512 VNNI: lanes are the tile's 16 rows, so a sub-block's
// scale and min are plain vectors and no horizontal sums are needed until the very end.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels/level_gemm.h"
#include "kernels/q4_k_x16.h"

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

namespace {

// The x16 Q4_K kernel (q4_k_x16.h): lanes are the group's 16 rows, as in tile_kernel, with the
// nibbles split in registers instead of unpacked to a tile first.
constexpr int64_t PF = 2 * kX16GroupBlockBytes;
template <int NT>
DAWN_AVX512 void x16_kernel(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, float* y,
                            int64_t ldy) {
  const int64_t nb = cols / 256, n_sub = cols / 32;
  const __m512i low4 = _mm512_set1_epi8(0xF), m6 = _mm512_set1_epi32(0x3F3F3F3F);
  const __m512i m4 = _mm512_set1_epi32(0x0F0F0F0F), m2 = _mm512_set1_epi32(0x30303030), byte = _mm512_set1_epi32(0xFF);
  const int8_t* x[NT];
  const float *d[NT], *dsum[NT];
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) {
    x[t] = a.q.data() + toks[t] * a.cols;
    d[t] = a.d.data() + toks[t] * n_sub;
    dsum[t] = a.dsum.data() + toks[t] * n_sub;
    acc[t] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* b = group + i * kX16GroupBlockBytes;
    for (int l = 0; l < 36; ++l) _mm_prefetch(reinterpret_cast<const char*>(b + PF + 64 * l), _MM_HINT_T0);
    const __m512i w0 = _mm512_loadu_si512(b), wa = _mm512_loadu_si512(b + 64);
    const __m512i wb = _mm512_loadu_si512(b + 128), wc = _mm512_loadu_si512(b + 192);
    const __m512 dv = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(w0));
    const __m512 mv = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(w0, 16)));
    // Bytes k of sc[h] and mn[h]: the six-bit scale and min of sub-block 4h + k, per row.
    const __m512i sc[2] = {_mm512_and_si512(wa, m6),
                           _mm512_or_si512(_mm512_and_si512(wc, m4), _mm512_and_si512(_mm512_srli_epi32(wa, 2), m2))};
    const __m512i mn[2] = {_mm512_and_si512(wb, m6), _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(wc, 4), m4),
                                                                     _mm512_and_si512(_mm512_srli_epi32(wb, 2), m2))};
    // Sub-block s = 2c + h: the low (h = 0) or high nibbles of quant groups 8c..8c+7. One
    // sub-block at a time keeps NT sums live, not 2 NT (NT = 8 would spill).
    for (int s = 0; s < 8; ++s) {
      const int c = s / 2, h = s % 2;
      __m512i sum[NT];
      for (int t = 0; t < NT; ++t) sum[t] = _mm512_setzero_si512();
      for (int g = 0; g < 8; ++g) {
        const __m512i q = _mm512_loadu_si512(b + 256 + (c * 8 + g) * 64);
        const __m512i v = _mm512_and_si512(h ? _mm512_srli_epi16(q, 4) : q, low4);
        for (int t = 0; t < NT; ++t) {
          int32_t four;
          std::memcpy(&four, x[t] + i * 256 + s * 32 + 4 * g, 4);
          sum[t] = _mm512_dpbusd_epi32(sum[t], v, _mm512_set1_epi32(four));
        }
      }
      const __m512i shift = _mm512_set1_epi32(8 * (s % 4));
      const __m512 scv =
          _mm512_mul_ps(dv, _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srlv_epi32(sc[s / 4], shift), byte)));
      const __m512 mnv =
          _mm512_mul_ps(mv, _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srlv_epi32(mn[s / 4], shift), byte)));
      for (int t = 0; t < NT; ++t) {
        const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(sum[t]), _mm512_set1_ps(d[t][i * 8 + s]));
        acc[t] = _mm512_fmadd_ps(v, scv, acc[t]);
        acc[t] = _mm512_fnmadd_ps(mnv, _mm512_set1_ps(dsum[t][i * 8 + s]), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

}  // namespace

DAWN_AVX512 void q4_k_x16_gemm_avx512(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks,
                                      int nt, float* y, int64_t ldy) {
  switch (nt) {
    case 1: return x16_kernel<1>(group, cols, a, toks, y, ldy);
    case 2: return x16_kernel<2>(group, cols, a, toks, y, ldy);
    case 3: return x16_kernel<3>(group, cols, a, toks, y, ldy);
    case 4: return x16_kernel<4>(group, cols, a, toks, y, ldy);
    case 5: return x16_kernel<5>(group, cols, a, toks, y, ldy);
    case 6: return x16_kernel<6>(group, cols, a, toks, y, ldy);
    case 7: return x16_kernel<7>(group, cols, a, toks, y, ldy);
    default: return x16_kernel<8>(group, cols, a, toks, y, ldy);
  }
}

}  // namespace dawn
