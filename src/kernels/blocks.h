// Quantized block layouts, byte-for-byte those of ggml.
#pragma once
#include <cmath>
#include <cstdint>

namespace dawn {

constexpr int QK = 32;     // legacy quant block
constexpr int QK_K = 256;  // K-quant super-block

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[QK / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[QK / 2];
};
struct BlockQ5_1 {
  uint16_t d, m;  // value = d * q + m
  uint8_t qh[4];
  uint8_t qs[QK / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[QK];
};
struct BlockQ8_1 {
  uint16_t d, s;  // s = d * sum(qs), so an offset weight block needs no second pass
  int8_t qs[QK];
};
struct BlockQ2_K {
  uint8_t scales[QK_K / 16];  // low nibble scale, high nibble min
  uint8_t qs[QK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
struct BlockQ3_K {
  uint8_t hmask[QK_K / 8];
  uint8_t qs[QK_K / 4];
  uint8_t scales[12];  // 16 six-bit scales
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];  // 8 six-bit scales and 8 six-bit mins
  uint8_t qs[QK_K / 2];
};
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[QK_K / 2];
  uint8_t qh[QK_K / 4];
  int8_t scales[QK_K / 16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];
};

// Q4_1 and the i-quants (docs/iquants.md has the bit layouts).
struct BlockQ4_1 {
  uint16_t d, m;  // value = d * q + m
  uint8_t qs[QK / 2];
};
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[QK / 2];  // 4-bit indices into the 16 non-linear levels
};
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;     // high 2 bits of the 8 six-bit sub-scales
  uint8_t scales_l[4];   // their low 4 bits
  uint8_t qs[QK_K / 2];
};
struct BlockIQ2_XXS {
  uint16_t d;
  uint16_t qs[QK_K / 8];  // per 32: four 8-bit grid indices, four 7-bit sign indices, 4-bit scale
};
struct BlockIQ2_XS {
  uint16_t d;
  uint16_t qs[QK_K / 8];  // 9-bit grid index and 7-bit sign index per group of 8
  uint8_t scales[QK_K / 32];
};
struct BlockIQ2_S {
  uint16_t d;
  uint8_t qs[QK_K / 4];  // 32 low index bytes, then 32 sign bytes
  uint8_t qh[QK_K / 32];
  uint8_t scales[QK_K / 32];
};
struct BlockIQ3_XXS {
  uint16_t d;
  uint8_t qs[3 * QK_K / 8];  // 64 grid indices, then per 32 a word of signs and scale
};
struct BlockIQ3_S {
  uint16_t d;
  uint8_t qs[QK_K / 4];
  uint8_t qh[QK_K / 32];
  uint8_t signs[QK_K / 8];
  uint8_t scales[QK_K / 64];
};
struct BlockIQ1_S {
  uint16_t d;
  uint8_t qs[QK_K / 8];
  uint16_t qh[QK_K / 32];  // index high bits, 3-bit scale, delta sign
};
struct BlockIQ1_M {
  uint8_t qs[QK_K / 8];
  uint8_t qh[QK_K / 16];
  uint8_t scales[QK_K / 32];  // 3-bit scales; the f16 block scale in the top nibbles
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);
static_assert(sizeof(BlockIQ2_XXS) == 66);
static_assert(sizeof(BlockIQ2_XS) == 74);
static_assert(sizeof(BlockIQ2_S) == 82);
static_assert(sizeof(BlockIQ3_XXS) == 98);
static_assert(sizeof(BlockIQ3_S) == 110);
static_assert(sizeof(BlockIQ1_S) == 50);
static_assert(sizeof(BlockIQ1_M) == 56);

// One block of 32 activations to int8 as llama.cpp's SIMD path does it
// (id = 127/amax, not 1/d; round half to even). Returns d = amax/127.
inline float quantize_q8_block(const float* x, int8_t* qs) {
  float amax = 0;
  for (int j = 0; j < QK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float id = amax != 0 ? 127.0f / amax : 0.0f;
  for (int j = 0; j < QK; ++j) qs[j] = int8_t(std::lrintf(x[j] * id));
  return amax / 127.0f;
}

// Round half to even, as ggml's nearest_int.
inline int nearest_int(float f) {
  float v = f + 12582912.f;
  int32_t i;
  __builtin_memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// 6-bit scale/min pair j of a Q4_K/Q5_K scales array.
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

inline void set_scale_min_k4(int j, uint8_t d, uint8_t m, uint8_t* q) {
  if (j < 4) {
    q[j] = d;
    q[j + 4] = m;
  } else {
    q[j + 4] = uint8_t((d & 0xF) | ((m & 0xF) << 4));
    q[j - 4] |= uint8_t((d >> 4) << 6);
    q[j] |= uint8_t((m >> 4) << 6);
  }
}

}  // namespace dawn
