// AVX2 dot products of the i-quants with Q8_K (IQ4_NL: Q8_0) activations. Each 32-weight chunk
// becomes unsigned magnitudes and +-1 signs; the signs go onto the activations (vpsignb), one
// vpmaddubsw multiplies, and a vpmaddwd by the chunk's integer multipliers (one per 16 weights)
// sums into int32. The block's float scale is applied once per 256 weights. Same integer sums
// as the scalar references (iq_common.h), so results agree to float rounding.
#include <immintrin.h>

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/iq_grids.h"
#include "kernels/simd_x86.h"

#define DAWN_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace dawn {

namespace {

// Byte k of s4 holds the signs of group k (8 weights): -1 where a bit is set, else +1.
DAWN_AVX2 inline __m256i signs_pm(uint32_t s4) {
  const __m256i rep = _mm256_shuffle_epi8(
      _mm256_set1_epi32(int(s4)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
  const __m256i bits = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  const __m256i neg = _mm256_cmpeq_epi8(_mm256_and_si256(rep, bits), bits);
  return _mm256_or_si256(neg, _mm256_set1_epi8(1));
}

DAWN_AVX2 inline __m256i grid4(const uint64_t* grid, int i0, int i1, int i2, int i3) {
  return _mm256_set_epi64x(int64_t(grid[i3]), int64_t(grid[i2]), int64_t(grid[i1]), int64_t(grid[i0]));
}

// Multipliers for the chunk's first and second 16 weights.
DAWN_AVX2 inline __m256i mults(int m0, int m1) {
  return _mm256_set_m128i(_mm_set1_epi16(int16_t(m1)), _mm_set1_epi16(int16_t(m0)));
}

// One chunk: magnitudes, signs (+-1 or signed values: only their sign is used) and multipliers.
struct Chunk {
  __m256i mag, sgn, mult;
};

// Signed values: the magnitude is |v| and the sign comes from v itself (v is never 0).
DAWN_AVX2 inline Chunk from_signed(__m256i v, __m256i mult) { return {_mm256_sign_epi8(v, v), v, mult}; }

DAWN_AVX2 inline uint32_t sign_bytes7(uint32_t aux) {
  return uint32_t(kSignsIq2xs[aux & 127]) | uint32_t(kSignsIq2xs[(aux >> 7) & 127]) << 8 |
         uint32_t(kSignsIq2xs[(aux >> 14) & 127]) << 16 | uint32_t(kSignsIq2xs[(aux >> 21) & 127]) << 24;
}

struct Iq2Xxs {
  using Block = BlockIQ2_XXS;
  static constexpr float kFactor = 0.125f;
  DAWN_AVX2 static Chunk chunk(const Block& b, int ib) {
    uint32_t idx, aux;
    std::memcpy(&idx, b.qs + 4 * ib, 4);
    std::memcpy(&aux, b.qs + 4 * ib + 2, 4);
    const int m = int(2 * (aux >> 28) + 1);
    return {grid4(kIq2xxsGrid.data(), idx & 0xff, (idx >> 8) & 0xff, (idx >> 16) & 0xff, idx >> 24),
            signs_pm(sign_bytes7(aux)), _mm256_set1_epi16(int16_t(m))};
  }
  DAWN_AVX2 static float d(const Block& b) { return _cvtsh_ss(b.d); }
};

struct Iq2Xs {
  using Block = BlockIQ2_XS;
  static constexpr float kFactor = 0.125f;
  DAWN_AVX2 static Chunk chunk(const Block& b, int ib) {
    const uint16_t* q = b.qs + 4 * ib;
    const uint32_t s4 = uint32_t(kSignsIq2xs[q[0] >> 9]) | uint32_t(kSignsIq2xs[q[1] >> 9]) << 8 |
                        uint32_t(kSignsIq2xs[q[2] >> 9]) << 16 | uint32_t(kSignsIq2xs[q[3] >> 9]) << 24;
    return {grid4(kIq2xsGrid.data(), q[0] & 511, q[1] & 511, q[2] & 511, q[3] & 511), signs_pm(s4),
            mults(2 * (b.scales[ib] & 0xF) + 1, 2 * (b.scales[ib] >> 4) + 1)};
  }
  DAWN_AVX2 static float d(const Block& b) { return _cvtsh_ss(b.d); }
};

struct Iq2S {
  using Block = BlockIQ2_S;
  static constexpr float kFactor = 0.125f;
  DAWN_AVX2 static Chunk chunk(const Block& b, int ib) {
    const uint8_t* q = b.qs + 4 * ib;
    const int h = b.qh[ib];
    uint32_t s4;
    std::memcpy(&s4, b.qs + QK_K / 8 + 4 * ib, 4);
    return {grid4(kIq2sGrid.data(), q[0] | (h & 3) << 8, q[1] | (h & 0xC) << 6, q[2] | (h & 0x30) << 4,
                  q[3] | (h & 0xC0) << 2),
            signs_pm(s4), mults(2 * (b.scales[ib] & 0xF) + 1, 2 * (b.scales[ib] >> 4) + 1)};
  }
  DAWN_AVX2 static float d(const Block& b) { return _cvtsh_ss(b.d); }
};

struct Iq3Xxs {
  using Block = BlockIQ3_XXS;
  static constexpr float kFactor = 0.25f;
  DAWN_AVX2 static Chunk chunk(const Block& b, int ib) {
    const uint8_t* q = b.qs + 8 * ib;
    const uint32_t* g = kIq3xxsGrid.data();
    uint32_t aux;
    std::memcpy(&aux, b.qs + QK_K / 4 + 4 * ib, 4);
    const __m256i mag = _mm256_set_epi32(int(g[q[7]]), int(g[q[6]]), int(g[q[5]]), int(g[q[4]]), int(g[q[3]]),
                                         int(g[q[2]]), int(g[q[1]]), int(g[q[0]]));
    return {mag, signs_pm(sign_bytes7(aux)), _mm256_set1_epi16(int16_t(2 * (aux >> 28) + 1))};
  }
  DAWN_AVX2 static float d(const Block& b) { return _cvtsh_ss(b.d); }
};

struct Iq3S {
  using Block = BlockIQ3_S;
  static constexpr float kFactor = 1.0f;
  DAWN_AVX2 static Chunk chunk(const Block& b, int ib) {
    const uint8_t* q = b.qs + 8 * ib;
    const uint32_t* g = kIq3sGrid.data();
    const int h = b.qh[ib];
    const auto at = [&](int k) { return int(g[q[k] | ((h >> k) & 1) << 8]); };
    const __m256i mag = _mm256_set_epi32(at(7), at(6), at(5), at(4), at(3), at(2), at(1), at(0));
    uint32_t s4;
    std::memcpy(&s4, b.signs + 4 * ib, 4);
    const int m = 2 * ((b.scales[ib / 2] >> (4 * (ib % 2))) & 0xF) + 1;
    return {mag, signs_pm(s4), _mm256_set1_epi16(int16_t(m))};
  }
  DAWN_AVX2 static float d(const Block& b) { return _cvtsh_ss(b.d); }
};

// IQ1: v = 8 g + delta (g ternary, delta +-1), the 1/8 in kFactor.
DAWN_AVX2 inline __m256i iq1_values(__m256i g, __m256i delta) {
  return _mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), g), delta);
}

struct Iq1S {
  using Block = BlockIQ1_S;
  static constexpr float kFactor = 0.125f;
  DAWN_AVX2 static Chunk chunk(const Block& b, int ib) {
    const uint8_t* q = b.qs + 4 * ib;
    const int h = b.qh[ib];
    const __m256i g = grid4(kIq1sGrid.data(), q[0] | (h & 7) << 8, q[1] | ((h >> 3) & 7) << 8,
                            q[2] | ((h >> 6) & 7) << 8, q[3] | ((h >> 9) & 7) << 8);
    const __m256i delta = _mm256_set1_epi8(h & 0x8000 ? -1 : 1);
    return from_signed(iq1_values(g, delta), _mm256_set1_epi16(int16_t(2 * ((h >> 12) & 7) + 1)));
  }
  DAWN_AVX2 static float d(const Block& b) { return _cvtsh_ss(b.d); }
};

struct Iq1M {
  using Block = BlockIQ1_M;
  static constexpr float kFactor = 0.125f;
  DAWN_AVX2 static Chunk chunk(const Block& b, int ib) {
    const uint8_t* q = b.qs + 4 * ib;
    const int h0 = b.qh[2 * ib], h1 = b.qh[2 * ib + 1];
    const __m256i g = grid4(kIq1sGrid.data(), q[0] | (h0 & 7) << 8, q[1] | (h0 & 0x70) << 4, q[2] | (h1 & 7) << 8,
                            q[3] | (h1 & 0x70) << 4);
    const auto dl = [](int bit) { return int64_t(bit ? ~0ull : 0x0101010101010101ull); };
    const __m256i delta = _mm256_set_epi64x(dl(h1 & 0x80), dl(h1 & 0x08), dl(h0 & 0x80), dl(h0 & 0x08));
    uint16_t sc[4];
    std::memcpy(sc, b.scales, 8);
    const int s = sc[ib / 2] >> (6 * (ib % 2));
    return from_signed(iq1_values(g, delta), mults(2 * (s & 7) + 1, 2 * ((s >> 3) & 7) + 1));
  }
  DAWN_AVX2 static float d(const Block& b) {
    uint16_t sc[4];
    std::memcpy(sc, b.scales, 8);
    return _cvtsh_ss(uint16_t((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000)));
  }
};

// 16 nibble pairs to the 32 non-linear values: low nibbles are weights 0..15, high 16..31.
DAWN_AVX2 inline __m256i iq4_values(const uint8_t* qs) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m4 = _mm_set1_epi8(0xF);
  const __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4), _mm_and_si128(raw, m4));
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kValuesIq4nl.data())));
  return _mm256_shuffle_epi8(table, nib);
}

struct Iq4Xs {
  using Block = BlockIQ4_XS;
  static constexpr float kFactor = 1.0f;
  DAWN_AVX2 static Chunk chunk(const Block& b, int ib) {
    const int ls = ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((b.scales_h >> (2 * ib)) & 3) << 4);
    return from_signed(iq4_values(b.qs + 16 * ib), _mm256_set1_epi16(int16_t(ls - 32)));
  }
  DAWN_AVX2 static float d(const Block& b) { return _cvtsh_ss(b.d); }
};

template <class T>
DAWN_AVX2 float dot_q8_k(int64_t n, const void* w, const void* act) {
  const typename T::Block* x = static_cast<const typename T::Block*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(act);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    __m256i sum = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ++ib) {
      const Chunk c = T::chunk(x[i], ib);
      const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 32 * ib));
      const __m256i p16 = _mm256_maddubs_epi16(c.mag, _mm256_sign_epi8(q8, c.sgn));
      sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p16, c.mult));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(T::d(x[i]) * T::kFactor * y[i].d), _mm256_cvtepi32_ps(sum), acc);
  }
  return hsum8(acc);
}

// The levels form of any of the Q8_K-paired types from the same chunks the dot product reads:
// v + 128 per weight, d * mult per sub-block of kSub (16: a multiplier per half chunk).
template <class T, int kSub>
DAWN_AVX2 void unpack_chunks(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
  const typename T::Block* x = static_cast<const typename T::Block*>(src);
  const __m256i bias = _mm256_set1_epi8(char(0x80));
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const float d = T::d(x[i]) * T::kFactor;
    for (int ib = 0; ib < 8; ++ib) {
      const Chunk c = T::chunk(x[i], ib);
      const __m256i v = _mm256_sign_epi8(c.mag, c.sgn);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i * QK_K + 32 * ib), _mm256_xor_si256(v, bias));
      if (kSub == 32) {
        scale[i * 8 + ib] = d * float(int16_t(_mm256_extract_epi16(c.mult, 0)));
        min[i * 8 + ib] = 0;
      } else {
        scale[i * 16 + 2 * ib] = d * float(int16_t(_mm256_extract_epi16(c.mult, 0)));
        scale[i * 16 + 2 * ib + 1] = d * float(int16_t(_mm256_extract_epi16(c.mult, 8)));
        min[i * 16 + 2 * ib] = min[i * 16 + 2 * ib + 1] = 0;
      }
    }
  }
}

}  // namespace

DAWN_AVX2 void unpack_iq4_nl_avx2(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
  const BlockIQ4_NL* x = static_cast<const BlockIQ4_NL*>(src);
  const __m256i bias = _mm256_set1_epi8(char(0x80));
  for (int64_t i = 0; i < n / QK; ++i) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i * QK), _mm256_xor_si256(iq4_values(x[i].qs), bias));
    scale[i] = _cvtsh_ss(x[i].d);
    min[i] = 0;
  }
}
DAWN_AVX2 void unpack_iq4_xs_avx2(const void* s, int64_t n, uint8_t* q, float* sc, float* m) {
  unpack_chunks<Iq4Xs, 32>(s, n, q, sc, m);
}
DAWN_AVX2 void unpack_iq2_xxs_avx2(const void* s, int64_t n, uint8_t* q, float* sc, float* m) {
  unpack_chunks<Iq2Xxs, 32>(s, n, q, sc, m);
}
DAWN_AVX2 void unpack_iq2_xs_avx2(const void* s, int64_t n, uint8_t* q, float* sc, float* m) {
  unpack_chunks<Iq2Xs, 16>(s, n, q, sc, m);
}
DAWN_AVX2 void unpack_iq2_s_avx2(const void* s, int64_t n, uint8_t* q, float* sc, float* m) {
  unpack_chunks<Iq2S, 16>(s, n, q, sc, m);
}
DAWN_AVX2 void unpack_iq3_xxs_avx2(const void* s, int64_t n, uint8_t* q, float* sc, float* m) {
  unpack_chunks<Iq3Xxs, 32>(s, n, q, sc, m);
}
DAWN_AVX2 void unpack_iq3_s_avx2(const void* s, int64_t n, uint8_t* q, float* sc, float* m) {
  unpack_chunks<Iq3S, 32>(s, n, q, sc, m);
}
DAWN_AVX2 void unpack_iq1_s_avx2(const void* s, int64_t n, uint8_t* q, float* sc, float* m) {
  unpack_chunks<Iq1S, 32>(s, n, q, sc, m);
}
DAWN_AVX2 void unpack_iq1_m_avx2(const void* s, int64_t n, uint8_t* q, float* sc, float* m) {
  unpack_chunks<Iq1M, 16>(s, n, q, sc, m);
}

DAWN_AVX2 float vec_dot_iq2_xxs_avx2(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq2Xxs>(n, w, a); }
DAWN_AVX2 float vec_dot_iq2_xs_avx2(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq2Xs>(n, w, a); }
DAWN_AVX2 float vec_dot_iq2_s_avx2(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq2S>(n, w, a); }
DAWN_AVX2 float vec_dot_iq3_xxs_avx2(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq3Xxs>(n, w, a); }
DAWN_AVX2 float vec_dot_iq3_s_avx2(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq3S>(n, w, a); }
DAWN_AVX2 float vec_dot_iq1_s_avx2(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq1S>(n, w, a); }
DAWN_AVX2 float vec_dot_iq1_m_avx2(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq1M>(n, w, a); }
DAWN_AVX2 float vec_dot_iq4_xs_avx2(int64_t n, const void* w, const void* a) { return dot_q8_k<Iq4Xs>(n, w, a); }

DAWN_AVX2 float vec_dot_iq4_nl_avx2(int64_t n, const void* w, const void* act) {
  const BlockIQ4_NL* x = static_cast<const BlockIQ4_NL*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(act);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK; ++i) {
    const __m256i v = iq4_values(x[i].qs);
    const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(v, v), _mm256_sign_epi8(q8, v));
    const __m256i sum = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x[i].d) * _cvtsh_ss(y[i].d)), _mm256_cvtepi32_ps(sum), acc);
  }
  return hsum8(acc);
}

DAWN_AVX2 float vec_dot_q4_1_avx2(int64_t n, const void* w, const void* act) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(act);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0;
  const __m128i m4 = _mm_set1_epi8(0xF);
  for (int64_t i = 0; i < n / QK; ++i) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].qs));
    const __m256i q4 = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4), _mm_and_si128(raw, m4));
    const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256i sum = _mm256_madd_epi16(_mm256_maddubs_epi16(q4, q8), _mm256_set1_epi16(1));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x[i].d) * _cvtsh_ss(y[i].d)), _mm256_cvtepi32_ps(sum), acc);
    mins += _cvtsh_ss(x[i].m) * _cvtsh_ss(y[i].s);
  }
  return hsum8(acc) + mins;
}

}  // namespace dawn
