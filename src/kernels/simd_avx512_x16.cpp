// The x16 kernels (x16.h): lanes are the group's 16 rows, as in the level GEMM's tile kernel,
// reading the repacked weights directly. The K-quant kernels prefetch two blocks ahead: its block's
// work is long enough that the hardware prefetchers alone leave a decode stream at ~16 GB/s per
// core here (~40 with); the lighter Q8_0 / Q5_0 kernels stream faster without.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels/iq_grids.h"
#include "kernels/x16.h"

#define DAWN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace dawn {

namespace {

constexpr int64_t kBytesQ4_K = 2304, kBytesQ6_K = 3360, kBytesQ8_0 = 544, kBytesQ5_0 = 352, kBytesIQ4_NL = 288;

template <int64_t kBytes>
DAWN_AVX512 inline void prefetch_ahead(const uint8_t* block) {
  for (int64_t l = 0; l < kBytes; l += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(block + 2 * kBytes + l), _MM_HINT_T0);
  }
}

DAWN_AVX512 inline __m512i bcast4(const int8_t* p) {
  int32_t four;
  std::memcpy(&four, p, 4);
  return _mm512_set1_epi32(four);
}

// Byte k of each 32-bit lane of v, zero-extended: a row's scale or min of sub-block 4h + k when v
// is sc[h] or mn[h] of the Q4_K kernels.
DAWN_AVX512 inline __m512i pick_byte(__m512i v, int k) {
  const __m512i byte = _mm512_set1_epi32(0xFF);
  switch (k) {
    case 0: return _mm512_and_si512(v, byte);
    case 1: return _mm512_and_si512(_mm512_srli_epi32(v, 8), byte);
    case 2: return _mm512_and_si512(_mm512_srli_epi32(v, 16), byte);
    default: return _mm512_srli_epi32(v, 24);
  }
}

// Q4_K for up to 4 tokens: the nibbles split in registers, both nibbles of a load used at once
// (two sub-blocks' sums live per token). A Q8_K activation has one scale per 256 values, so each
// row's six-bit scales and mins are applied in integers (exact) and the block's sums converted to
// float once.
template <int NT>
DAWN_AVX512 void q4_k_few(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, float* y,
                          int64_t ldy) {
  const int64_t nb = cols / 256, n_sub = cols / 32;
  const __m512i low4 = _mm512_set1_epi8(0xF), m6 = _mm512_set1_epi32(0x3F3F3F3F);
  const __m512i m4 = _mm512_set1_epi32(0x0F0F0F0F), m2 = _mm512_set1_epi32(0x30303030);
  const int8_t* x[NT];
  const float* d[NT];
  const int32_t* qsum[NT];
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) {
    x[t] = a.q.data() + toks[t] * a.cols;
    d[t] = a.d.data() + toks[t] * n_sub;
    qsum[t] = a.qsum.data() + toks[t] * n_sub;
    acc[t] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* b = group + i * kBytesQ4_K;
    prefetch_ahead<kBytesQ4_K>(b);
    const __m512i w0 = _mm512_loadu_si512(b), wa = _mm512_loadu_si512(b + 64);
    const __m512i wb = _mm512_loadu_si512(b + 128), wc = _mm512_loadu_si512(b + 192);
    const __m512 dv = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(w0));
    const __m512 mv = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(w0, 16)));
    const __m512i sc[2] = {_mm512_and_si512(wa, m6),
                           _mm512_or_si512(_mm512_and_si512(wc, m4), _mm512_and_si512(_mm512_srli_epi32(wa, 2), m2))};
    const __m512i mn[2] = {_mm512_and_si512(wb, m6), _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(wc, 4), m4),
                                                                     _mm512_and_si512(_mm512_srli_epi32(wb, 2), m2))};
    // The mins' term first: sum over sub-blocks of min * (sum of the activation's values there).
    for (int t = 0; t < NT; ++t) {
      __m512i m = _mm512_setzero_si512();
      for (int s = 0; s < 8; ++s) {
        m = _mm512_add_epi32(m, _mm512_mullo_epi32(pick_byte(mn[s / 4], s % 4), _mm512_set1_epi32(qsum[t][i * 8 + s])));
      }
      acc[t] = _mm512_fnmadd_ps(_mm512_mul_ps(mv, _mm512_set1_ps(d[t][i * 8])), _mm512_cvtepi32_ps(m), acc[t]);
    }
    __m512i isc[NT];
    for (int t = 0; t < NT; ++t) isc[t] = _mm512_setzero_si512();
    // Quant group c * 8 + g holds four values of sub-block 2c (low nibbles) and of 2c + 1 (high).
    for (int c = 0; c < 4; ++c) {
      __m512i lo[NT], hi[NT];
      for (int t = 0; t < NT; ++t) lo[t] = hi[t] = _mm512_setzero_si512();
      for (int g = 0; g < 8; ++g) {
        const __m512i q = _mm512_loadu_si512(b + 256 + (c * 8 + g) * 64);
        const __m512i ql = _mm512_and_si512(q, low4), qh = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
        for (int t = 0; t < NT; ++t) {
          const int8_t* xc = x[t] + i * 256 + 64 * c + 4 * g;
          lo[t] = _mm512_dpbusd_epi32(lo[t], ql, bcast4(xc));
          hi[t] = _mm512_dpbusd_epi32(hi[t], qh, bcast4(xc + 32));
        }
      }
      for (int t = 0; t < NT; ++t) {
        isc[t] = _mm512_add_epi32(isc[t], _mm512_mullo_epi32(lo[t], pick_byte(sc[c / 2], 2 * c % 4)));
        isc[t] = _mm512_add_epi32(isc[t], _mm512_mullo_epi32(hi[t], pick_byte(sc[c / 2], (2 * c + 1) % 4)));
      }
    }
    for (int t = 0; t < NT; ++t) {
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dv, _mm512_set1_ps(d[t][i * 8])), _mm512_cvtepi32_ps(isc[t]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

// Q4_K for 5 to 8 tokens: one sub-block at a time, its scale and min applied in float (integer
// block sums would take a register per token more and spill).
template <int NT>
DAWN_AVX512 void q4_k_many(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, float* y,
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
    const uint8_t* b = group + i * kBytesQ4_K;
    prefetch_ahead<kBytesQ4_K>(b);
    const __m512i w0 = _mm512_loadu_si512(b), wa = _mm512_loadu_si512(b + 64);
    const __m512i wb = _mm512_loadu_si512(b + 128), wc = _mm512_loadu_si512(b + 192);
    const __m512 dv = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(w0));
    const __m512 mv = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(w0, 16)));
    // Bytes k of sc[h] and mn[h]: the six-bit scale and min of sub-block 4h + k, per row.
    const __m512i sc[2] = {_mm512_and_si512(wa, m6),
                           _mm512_or_si512(_mm512_and_si512(wc, m4), _mm512_and_si512(_mm512_srli_epi32(wa, 2), m2))};
    const __m512i mn[2] = {_mm512_and_si512(wb, m6), _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(wc, 4), m4),
                                                                     _mm512_and_si512(_mm512_srli_epi32(wb, 2), m2))};
    // Sub-block s = 2c + h: the low (h = 0) or high nibbles of quant groups 8c..8c+7.
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

// Q6_K: the four low bits from ql and the two high ones from qh joined in registers; a sub-block
// is 16 elements (four quant groups) with one int8 scale per row; levels are stored + 32. For up
// to 4 tokens, as in Q4_K, the scales are applied in integers and a block's sum converted once.
template <int NT>
DAWN_AVX512 void q6_k_kernel(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, float* y,
                             int64_t ldy) {
  const int64_t nb = cols / 256, n_sub = cols / 16;
  const __m512i low4 = _mm512_set1_epi8(0xF), bits45 = _mm512_set1_epi8(0x30);
  const int8_t* x[NT];
  const float* d[NT];
  const int32_t* zsum[NT];
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) {
    x[t] = a.q.data() + toks[t] * a.cols;
    d[t] = a.d.data() + toks[t] * n_sub;
    zsum[t] = a.zsum.data() + toks[t] * n_sub;
    acc[t] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* b = group + i * kBytesQ6_K;
    prefetch_ahead<kBytesQ6_K>(b);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)));
    __m512i isc[NT <= 4 ? NT : 1];
    for (__m512i& v : isc) v = _mm512_setzero_si512();
    for (int n = 0; n < 2; ++n) {
      for (int qq = 0; qq < 4; ++qq) {  // sub-blocks 8n + qq (low nibbles) and 8n + 4 + qq (high)
        __m512i sl[NT], sh[NT];
        for (int t = 0; t < NT; ++t) {
          sl[t] = _mm512_set1_epi32(zsum[t][i * 16 + 8 * n + qq]);
          sh[t] = _mm512_set1_epi32(zsum[t][i * 16 + 8 * n + 4 + qq]);
        }
        for (int k = 0; k < 4; ++k) {
          const int lg = 4 * qq + k;  // ql group within the half: bytes 4 lg .. 4 lg + 3
          const __m512i q = _mm512_loadu_si512(b + 288 + (16 * n + lg) * 64);
          const __m512i qh = _mm512_loadu_si512(b + 2336 + (8 * n + lg % 8) * 64);
          // Bits 2 (lg / 8) and 4 + 2 (lg / 8) of qh moved to bits 4-5 of each byte.
          __m512i hl, hh;
          if (lg < 8) {
            hl = _mm512_slli_epi16(qh, 4);
            hh = qh;
          } else {
            hl = _mm512_slli_epi16(qh, 2);
            hh = _mm512_srli_epi16(qh, 2);
          }
          const __m512i lo = _mm512_ternarylogic_epi32(_mm512_and_si512(q, low4), hl, bits45, 0xF8);
          const __m512i hi =
              _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(q, 4), low4), hh, bits45, 0xF8);
          for (int t = 0; t < NT; ++t) {
            sl[t] = _mm512_dpbusd_epi32(sl[t], lo, bcast4(x[t] + i * 256 + 128 * n + 4 * lg));
            sh[t] = _mm512_dpbusd_epi32(sh[t], hi, bcast4(x[t] + i * 256 + 128 * n + 64 + 4 * lg));
          }
        }
        for (int h = 0; h < 2; ++h) {
          const int s = 8 * n + 4 * h + qq;
          const __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 32 + 16 * s)));
          if constexpr (NT <= 4) {
            for (int t = 0; t < NT; ++t) isc[t] = _mm512_add_epi32(isc[t], _mm512_mullo_epi32(h ? sh[t] : sl[t], sc));
          } else {  // a register per token more would spill: the scale applied in float
            const __m512 scf = _mm512_mul_ps(dw, _mm512_cvtepi32_ps(sc));
            for (int t = 0; t < NT; ++t) {
              const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(h ? sh[t] : sl[t]), _mm512_set1_ps(d[t][i * 16 + s]));
              acc[t] = _mm512_fmadd_ps(v, scf, acc[t]);
            }
          }
        }
      }
    }
    if constexpr (NT <= 4) {
      for (int t = 0; t < NT; ++t) {
        acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(d[t][i * 16])), _mm512_cvtepi32_ps(isc[t]), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

// Q8_0, Q5_0 and IQ4_NL: one sub-block per block; the zero level is taken out through the
// activations' zsum, as in the tile kernel. IQ4_NL's nibbles index its 16 values + 128 (vpshufb).
enum class Q32 { Q8_0, Q5_0, IQ4_NL };
template <int NT, Q32 kType>
DAWN_AVX512 void q32_kernel(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, float* y,
                            int64_t ldy) {
  constexpr bool Q5 = kType == Q32::Q5_0;
  constexpr int64_t kBytes = Q5 ? kBytesQ5_0 : kType == Q32::IQ4_NL ? kBytesIQ4_NL : kBytesQ8_0;
  const int64_t nb = cols / 32;
  const __m512i low4 = _mm512_set1_epi8(0xF), sixteen = _mm512_set1_epi8(16);
  // Fifth bits: byte g of each row's dword copied to all four of its bytes, then tested per byte.
  __m512i pick[4];
  for (int g = 0; g < 4; ++g) {
    pick[g] = _mm512_set4_epi32(0x01010101 * (12 + g), 0x01010101 * (8 + g), 0x01010101 * (4 + g), 0x01010101 * g);
  }
  const __m512i bits_lo = _mm512_set1_epi32(0x08040201), bits_hi = _mm512_set1_epi32(int32_t(0x80402010u));
  const __m512i nl_levels = _mm512_xor_si512(
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kValuesIq4nl.data()))),
      _mm512_set1_epi8(char(0x80)));
  const int8_t* x[NT];
  const float* d[NT];
  const int32_t* zsum[NT];
  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) {
    x[t] = a.q.data() + toks[t] * a.cols;
    d[t] = a.d.data() + toks[t] * nb;
    zsum[t] = a.zsum.data() + toks[t] * nb;
    acc[t] = _mm512_setzero_ps();
  }
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* b = group + i * kBytes;
    __m512i sum[NT];
    for (int t = 0; t < NT; ++t) sum[t] = _mm512_set1_epi32(zsum[t][i]);
    if constexpr (Q5) {
      const __m512i qh = _mm512_loadu_si512(b + 32);
      for (int g = 0; g < 4; ++g) {
        const __m512i q = _mm512_loadu_si512(b + 96 + 64 * g);
        const __m512i hb = _mm512_shuffle_epi8(qh, pick[g]);
        const __m512i lo = _mm512_mask_add_epi8(_mm512_and_si512(q, low4), _mm512_test_epi8_mask(hb, bits_lo),
                                                _mm512_and_si512(q, low4), sixteen);
        const __m512i hn = _mm512_and_si512(_mm512_srli_epi16(q, 4), low4);
        const __m512i hi = _mm512_mask_add_epi8(hn, _mm512_test_epi8_mask(hb, bits_hi), hn, sixteen);
        for (int t = 0; t < NT; ++t) {
          sum[t] = _mm512_dpbusd_epi32(sum[t], lo, bcast4(x[t] + i * 32 + 4 * g));
          sum[t] = _mm512_dpbusd_epi32(sum[t], hi, bcast4(x[t] + i * 32 + 16 + 4 * g));
        }
      }
    } else if constexpr (kType == Q32::IQ4_NL) {
      for (int g = 0; g < 4; ++g) {
        const __m512i q = _mm512_loadu_si512(b + 32 + 64 * g);
        const __m512i lo = _mm512_shuffle_epi8(nl_levels, _mm512_and_si512(q, low4));
        const __m512i hi = _mm512_shuffle_epi8(nl_levels, _mm512_and_si512(_mm512_srli_epi16(q, 4), low4));
        for (int t = 0; t < NT; ++t) {
          sum[t] = _mm512_dpbusd_epi32(sum[t], lo, bcast4(x[t] + i * 32 + 4 * g));
          sum[t] = _mm512_dpbusd_epi32(sum[t], hi, bcast4(x[t] + i * 32 + 16 + 4 * g));
        }
      }
    } else {
      for (int g = 0; g < 8; ++g) {
        const __m512i q = _mm512_loadu_si512(b + 32 + 64 * g);
        for (int t = 0; t < NT; ++t) sum[t] = _mm512_dpbusd_epi32(sum[t], q, bcast4(x[t] + i * 32 + 4 * g));
      }
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)));
    for (int t = 0; t < NT; ++t) {
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sum[t]), _mm512_set1_ps(d[t][i])), dw, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

template <int NT>
DAWN_AVX512 void x16_nt(DType t, const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, float* y,
                        int64_t ldy) {
  if (t == DType::Q4_K) {
    if constexpr (NT <= 4) {
      return q4_k_few<NT>(group, cols, a, toks, y, ldy);
    } else {
      return q4_k_many<NT>(group, cols, a, toks, y, ldy);
    }
  }
  if (t == DType::Q6_K) return q6_k_kernel<NT>(group, cols, a, toks, y, ldy);
  if (t == DType::Q5_0) return q32_kernel<NT, Q32::Q5_0>(group, cols, a, toks, y, ldy);
  if (t == DType::IQ4_NL) return q32_kernel<NT, Q32::IQ4_NL>(group, cols, a, toks, y, ldy);
  return q32_kernel<NT, Q32::Q8_0>(group, cols, a, toks, y, ldy);
}

}  // namespace

DAWN_AVX512 void x16_gemm_avx512(DType t, const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks,
                                 int nt, float* y, int64_t ldy) {
  switch (nt) {
    case 1: return x16_nt<1>(t, group, cols, a, toks, y, ldy);
    case 2: return x16_nt<2>(t, group, cols, a, toks, y, ldy);
    case 3: return x16_nt<3>(t, group, cols, a, toks, y, ldy);
    case 4: return x16_nt<4>(t, group, cols, a, toks, y, ldy);
    case 5: return x16_nt<5>(t, group, cols, a, toks, y, ldy);
    case 6: return x16_nt<6>(t, group, cols, a, toks, y, ldy);
    case 7: return x16_nt<7>(t, group, cols, a, toks, y, ldy);
    default: return x16_nt<8>(t, group, cols, a, toks, y, ldy);
  }
}

}  // namespace dawn
