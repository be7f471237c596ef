// The form every i-quant block decodes to: int8 values v and a small integer multiplier per
// sub-block, weight k = d * mult[k / sub] * v[k]. Each type file only says how its bits give
// (d, mult, v); the dequantizer, the scalar dot product and the levels form for the prefill
// GEMM are the same few loops for all of them (templates here). The integer sums are exact,
// so the dot product equals ggml's term for term: only the float rounding of d may differ.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/half.h"

namespace dawn {

struct SignedLevels {
  float d = 0;
  int16_t mult[QK_K / 16] = {};
  int8_t v[QK_K] = {};
};

// Block: the type's struct; kElems: weights per block (32 or 256); kSub: weights per multiplier;
// Decode(block, out) fills out.d, out.mult[0 .. kElems / kSub) and out.v[0 .. kElems).
template <class Block, int kElems, int kSub, void (*Decode)(const Block&, SignedLevels&)>
struct SignedType {
  static void to_float(const void* src, float* dst, int64_t n) {
    const Block* b = static_cast<const Block*>(src);
    SignedLevels s;
    for (int64_t i = 0; i < n / kElems; ++i) {
      Decode(b[i], s);
      for (int k = 0; k < kElems; ++k) dst[i * kElems + k] = s.d * float(s.mult[k / kSub]) * float(s.v[k]);
    }
  }

  // Against Q8_K (kElems 256) or Q8_0 (kElems 32) activations: one block of each per step.
  static float vec_dot(int64_t n, const void* w, const void* a) {
    const Block* x = static_cast<const Block*>(w);
    SignedLevels s;
    float sum = 0;
    for (int64_t i = 0; i < n / kElems; ++i) {
      Decode(x[i], s);
      const int8_t* q;
      float dy;
      if constexpr (kElems == QK_K) {
        const BlockQ8_K& y = static_cast<const BlockQ8_K*>(a)[i];
        q = y.qs, dy = y.d;
      } else {
        static_assert(kElems == QK);
        const BlockQ8_0& y = static_cast<const BlockQ8_0*>(a)[i];
        q = y.qs, dy = fp16_to_f32(y.d);
      }
      int32_t bsum = 0;
      for (int j = 0; j < kElems / kSub; ++j) {
        int32_t p = 0;
        for (int k = j * kSub; k < (j + 1) * kSub; ++k) p += int32_t(s.v[k]) * q[k];
        bsum += s.mult[j] * p;
      }
      sum += s.d * dy * float(bsum);
    }
    return sum;
  }

  // Levels v + 128 with the scale d * mult of their sub-block (types.h: UnpackLevelsFn).
  static void unpack_levels(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
    const Block* b = static_cast<const Block*>(src);
    SignedLevels s;
    for (int64_t i = 0; i < n / kElems; ++i) {
      Decode(b[i], s);
      for (int k = 0; k < kElems; ++k) q[i * kElems + k] = uint8_t(s.v[k] + 128);
      for (int j = 0; j < kElems / kSub; ++j) {
        scale[i * (kElems / kSub) + j] = s.d * float(s.mult[j]);
        min[i * (kElems / kSub) + j] = 0;
      }
    }
  }
};

// Element j of an 8-value group negated where bit j of the sign byte is set.
inline int8_t apply_sign(int value, uint8_t signs, int j) { return int8_t((signs >> j) & 1 ? -value : value); }

}  // namespace dawn
