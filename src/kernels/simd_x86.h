// Helpers shared by the x86 SIMD kernel files (each compiles its own ISA through target attributes).
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace dawn {

// The sum of a vector's 8 floats (AVX only: inlines into the AVX2 and AVX-512 kernels alike).
__attribute__((target("avx"))) inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The 8 six-bit scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K block, unpacked
// with 32-bit operations (get_scale_min_k4 for all eight sub-blocks at once). SSE2 only.
inline __m128i q4k_scales_mins(const uint8_t* p) {
  uint32_t a, b, c;
  std::memcpy(&a, p, 4);
  std::memcpy(&b, p + 4, 4);
  std::memcpy(&c, p + 8, 4);
  const uint32_t sc_lo = a & 0x3F3F3F3F, mn_lo = b & 0x3F3F3F3F;
  const uint32_t sc_hi = (c & 0x0F0F0F0F) | ((a >> 2) & 0x30303030);
  const uint32_t mn_hi = ((c >> 4) & 0x0F0F0F0F) | ((b >> 2) & 0x30303030);
  return _mm_set_epi32(int(mn_hi), int(mn_lo), int(sc_hi), int(sc_lo));
}

}  // namespace dawn
