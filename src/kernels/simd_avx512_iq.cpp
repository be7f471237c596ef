// AVX-512 (BW/VL + VBMI) dot products of the sign+magnitude i-quants with Q8_K activations. The
// AVX2 kernels spend most of their instructions turning sign bits into +-1 bytes; here the eight
// sign bits of each group of 8 weights are a mask register's bits, applied to the activations by
// one masked subtract. The sign indices of a whole block (32 of them, 7 bits each in IQ2_XXS and
// IQ3_XXS) are pulled out by one vpmultishiftqb and expanded to their even-parity bytes by one
// 128-entry vpermi2b lookup. Same integer sums as the scalar references (iq_common.h).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/iq_grids.h"
#include "kernels/simd_x86.h"

#define DAWN_AVX512_VBMI \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni,avx2,fma,f16c")))

namespace dawn {

namespace {

// kSignsIq2xs as the two halves of a vpermi2b table: index bit 6 picks the half.
struct SignTable {
  __m512i lo, hi;
  DAWN_AVX512_VBMI SignTable()
      : lo(_mm512_loadu_si512(kSignsIq2xs.data())), hi(_mm512_loadu_si512(kSignsIq2xs.data() + 64)) {}
  // Byte k of each 64-bit lane of `fields` holds a 7-bit sign index in its low bits (bit 7 is
  // ignored by the lookup); the result holds the full sign byte (bit j: weight j negative).
  DAWN_AVX512_VBMI __m512i expand(__m512i fields) const { return _mm512_permutex2var_epi8(lo, fields, hi); }
};

DAWN_AVX512_VBMI inline __m256i grid4(const uint64_t* grid, const uint8_t* ix) {
  return _mm256_set_epi64x(int64_t(grid[ix[3]]), int64_t(grid[ix[2]]), int64_t(grid[ix[1]]), int64_t(grid[ix[0]]));
}

DAWN_AVX512_VBMI inline __m256i grid8(const uint32_t* grid, const uint8_t* ix) {
  return _mm256_set_epi32(int(grid[ix[7]]), int(grid[ix[6]]), int(grid[ix[5]]), int(grid[ix[4]]), int(grid[ix[3]]),
                          int(grid[ix[2]]), int(grid[ix[1]]), int(grid[ix[0]]));
}

// Multipliers for a chunk's first and second 16 weights.
DAWN_AVX512_VBMI inline __m256i mults(int m0, int m1) {
  return _mm256_set_m128i(_mm_set1_epi16(int16_t(m1)), _mm_set1_epi16(int16_t(m0)));
}

// One 32-weight chunk: unsigned magnitudes, the activations negated where the mask says, the
// pair sums scaled by the chunk's odd multipliers.
DAWN_AVX512_VBMI inline __m256i chunk_dot(__m256i mag, uint32_t signs, const int8_t* y, __m256i mult, __m256i sum) {
  const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y));
  const __m256i q8s = _mm256_mask_sub_epi8(q8, __mmask32(signs), _mm256_setzero_si256(), q8);
  return _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(mag, q8s), mult));
}

// Each type's block: the int32 sums of its eight chunks, and its float scale (kFactor folded in).
// IQ2_XXS: chunk ib is 64 bits of qs: four grid indices, then four 7-bit sign indices at bits
// 32, 39, 46, 53 and the 4-bit scale at 60.
struct Iq2Xxs {
  using Block = BlockIQ2_XXS;
  DAWN_AVX512_VBMI static __m256i sums(const Block& b, const int8_t* y, const SignTable& t) {
    const __m512i qs = _mm512_loadu_si512(b.qs);
    alignas(64) uint64_t signs[8], scale[8];
    _mm512_store_si512(signs, t.expand(_mm512_multishift_epi64_epi8(_mm512_set1_epi64(0x352E2720352E2720ll), qs)));
    _mm512_store_si512(scale, _mm512_srli_epi64(qs, 60));
    const uint8_t* ix = reinterpret_cast<const uint8_t*>(b.qs);
    __m256i sum = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ++ib) {
      sum = chunk_dot(grid4(kIq2xxsGrid.data(), ix + 8 * ib), uint32_t(signs[ib]), y + 32 * ib,
                      _mm256_set1_epi16(int16_t(2 * scale[ib] + 1)), sum);
    }
    return sum;
  }
  DAWN_AVX512_VBMI static float d(const Block& b) { return _cvtsh_ss(b.d) * 0.125f; }
};

// IQ2_XS: per group a 16-bit word, 9 bits of grid index and a 7-bit sign index at bit 9; the
// sign indices of chunk ib are at bits 9, 25, 41, 57 of its 64 bits.
struct Iq2Xs {
  using Block = BlockIQ2_XS;
  DAWN_AVX512_VBMI static __m256i sums(const Block& b, const int8_t* y, const SignTable& t) {
    const __m512i qs = _mm512_loadu_si512(b.qs);
    alignas(64) uint64_t signs[8];
    _mm512_store_si512(signs, t.expand(_mm512_multishift_epi64_epi8(_mm512_set1_epi64(0x3929190939291909ll), qs)));
    const uint64_t* g = kIq2xsGrid.data();
    __m256i sum = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ++ib) {
      const uint16_t* q = b.qs + 4 * ib;
      const __m256i mag = _mm256_set_epi64x(int64_t(g[q[3] & 511]), int64_t(g[q[2] & 511]), int64_t(g[q[1] & 511]),
                                            int64_t(g[q[0] & 511]));
      sum = chunk_dot(mag, uint32_t(signs[ib]), y + 32 * ib,
                      mults(2 * (b.scales[ib] & 0xF) + 1, 2 * (b.scales[ib] >> 4) + 1), sum);
    }
    return sum;
  }
  DAWN_AVX512_VBMI static float d(const Block& b) { return _cvtsh_ss(b.d) * 0.125f; }
};

// IQ2_S: 10-bit grid indices (2 high bits per index in qh), the sign bytes stored as they are.
struct Iq2S {
  using Block = BlockIQ2_S;
  DAWN_AVX512_VBMI static __m256i sums(const Block& b, const int8_t* y, const SignTable&) {
    const uint64_t* g = kIq2sGrid.data();
    __m256i sum = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* q = b.qs + 4 * ib;
      const int h = b.qh[ib];
      const __m256i mag = _mm256_set_epi64x(int64_t(g[q[3] | (h & 0xC0) << 2]), int64_t(g[q[2] | (h & 0x30) << 4]),
                                            int64_t(g[q[1] | (h & 0xC) << 6]), int64_t(g[q[0] | (h & 3) << 8]));
      uint32_t signs;
      std::memcpy(&signs, b.qs + QK_K / 8 + 4 * ib, 4);
      sum = chunk_dot(mag, signs, y + 32 * ib, mults(2 * (b.scales[ib] & 0xF) + 1, 2 * (b.scales[ib] >> 4) + 1), sum);
    }
    return sum;
  }
  DAWN_AVX512_VBMI static float d(const Block& b) { return _cvtsh_ss(b.d) * 0.125f; }
};

// IQ3_XXS: 64 grid indices (four weights each), then per chunk a word: four 7-bit sign indices
// at bits 0, 7, 14, 21 and the scale at 28; two words per 64-bit lane.
struct Iq3Xxs {
  using Block = BlockIQ3_XXS;
  DAWN_AVX512_VBMI static __m256i sums(const Block& b, const int8_t* y, const SignTable& t) {
    const __m256i aux = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + QK_K / 4));
    alignas(64) uint32_t signs[16];
    alignas(32) uint32_t scale[8];
    _mm512_store_si512(signs, t.expand(_mm512_multishift_epi64_epi8(_mm512_set1_epi64(0x352E2720150E0700ll),
                                                                    _mm512_castsi256_si512(aux))));
    _mm256_store_si256(reinterpret_cast<__m256i*>(scale), _mm256_srli_epi32(aux, 28));
    __m256i sum = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ++ib) {
      sum = chunk_dot(grid8(kIq3xxsGrid.data(), b.qs + 8 * ib), signs[ib], y + 32 * ib,
                      _mm256_set1_epi16(int16_t(2 * scale[ib] + 1)), sum);
    }
    return sum;
  }
  DAWN_AVX512_VBMI static float d(const Block& b) { return _cvtsh_ss(b.d) * 0.25f; }
};

// IQ3_S: 9-bit grid indices (the high bit in qh), the sign bytes stored as they are, a 4-bit
// scale per chunk.
struct Iq3S {
  using Block = BlockIQ3_S;
  DAWN_AVX512_VBMI static __m256i sums(const Block& b, const int8_t* y, const SignTable&) {
    const uint32_t* g = kIq3sGrid.data();
    __m256i sum = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* q = b.qs + 8 * ib;
      const int h = b.qh[ib];
      const auto at = [&](int k) { return int(g[q[k] | ((h >> k) & 1) << 8]); };
      const __m256i mag = _mm256_set_epi32(at(7), at(6), at(5), at(4), at(3), at(2), at(1), at(0));
      uint32_t signs;
      std::memcpy(&signs, b.signs + 4 * ib, 4);
      const int m = 2 * ((b.scales[ib / 2] >> (4 * (ib % 2))) & 0xF) + 1;
      sum = chunk_dot(mag, signs, y + 32 * ib, _mm256_set1_epi16(int16_t(m)), sum);
    }
    return sum;
  }
  DAWN_AVX512_VBMI static float d(const Block& b) { return _cvtsh_ss(b.d); }
};

template <class T>
DAWN_AVX512_VBMI float dot_q8_k(int64_t n, const void* w, const void* act) {
  const typename T::Block* x = static_cast<const typename T::Block*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(act);
  const SignTable t;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m256i sum = T::sums(x[i], y[i].qs, t);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(T::d(x[i]) * y[i].d), _mm256_cvtepi32_ps(sum), acc);
  }
  return hsum8(acc);
}

}  // namespace

DAWN_AVX512_VBMI float vec_dot_iq2_xxs_avx512(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq2Xxs>(n, w, a); }
DAWN_AVX512_VBMI float vec_dot_iq2_xs_avx512(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq2Xs>(n, w, a); }
DAWN_AVX512_VBMI float vec_dot_iq2_s_avx512(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq2S>(n, w, a); }
DAWN_AVX512_VBMI float vec_dot_iq3_xxs_avx512(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq3Xxs>(n, w, a); }
DAWN_AVX512_VBMI float vec_dot_iq3_s_avx512(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq3S>(n, w, a); }

}  // namespace dawn
