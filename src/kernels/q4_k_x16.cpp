#include "kernels/q4_k_x16.h"

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"

namespace dawn {

static_assert(sizeof(BlockQ4_K) == 144, "x16 layout assumes 144-byte Q4_K blocks");

void repack_q4_k_x16(uint8_t* rows, int64_t cols, std::vector<uint8_t>& scratch) {
  const int64_t nb = cols / QK_K;
  const size_t row = size_t(nb) * sizeof(BlockQ4_K);
  scratch.resize(16 * row);
  std::memcpy(scratch.data(), rows, 16 * row);
  for (int64_t i = 0; i < nb; ++i) {
    uint8_t* out = rows + i * kX16GroupBlockBytes;
    for (int r = 0; r < 16; ++r) {
      const uint8_t* b = scratch.data() + r * row + i * sizeof(BlockQ4_K);
      for (int w = 0; w < 4; ++w) std::memcpy(out + (16 * w + r) * 4, b + 4 * w, 4);
      for (int j = 0; j < 32; ++j) std::memcpy(out + 256 + (16 * j + r) * 4, b + 16 + 4 * j, 4);
    }
  }
}

void q4_k_x16_gemm_ref(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt, float* y,
                       int64_t ldy) {
  const int64_t nb = cols / QK_K, n_sub = cols / 32;
  for (int t = 0; t < nt; ++t) {
    const int8_t* x = a.q.data() + toks[t] * a.cols;
    const float* ad = a.d.data() + toks[t] * n_sub;
    const float* ads = a.dsum.data() + toks[t] * n_sub;
    for (int r = 0; r < 16; ++r) {
      float acc = 0;
      for (int64_t i = 0; i < nb; ++i) {
        const uint8_t* b = group + i * kX16GroupBlockBytes;
        uint16_t dh, mh;
        uint8_t scales[12];
        std::memcpy(&dh, b + r * 4, 2);
        std::memcpy(&mh, b + r * 4 + 2, 2);
        for (int w = 0; w < 3; ++w) std::memcpy(scales + 4 * w, b + (16 * (w + 1) + r) * 4, 4);
        for (int s = 0; s < 8; ++s) {
          uint8_t sc, m;
          get_scale_min_k4(s, scales, &sc, &m);
          int32_t sum = 0;
          for (int e = 0; e < 32; ++e) {
            const int j = (s / 2) * 8 + e / 4;
            const uint8_t byte = b[256 + (16 * j + r) * 4 + e % 4];
            sum += int32_t(s % 2 ? byte >> 4 : byte & 0xF) * x[i * QK_K + s * 32 + e];
          }
          acc += float(sum) * ad[i * 8 + s] * (fp16_to_f32(dh) * float(sc));
          acc -= fp16_to_f32(mh) * float(m) * ads[i * 8 + s];
        }
      }
      y[t * ldy + r] = acc;
    }
  }
}

void q4_k_x16_gemm(const uint8_t* group, int64_t cols, const LevelActs& a, const int32_t* toks, int nt, float* y,
                   int64_t ldy) {
  if (cpu_isa() >= Isa::Avx512) {
    q4_k_x16_gemm_avx512(group, cols, a, toks, nt, y, ldy);
  } else {
    q4_k_x16_gemm_ref(group, cols, a, toks, nt, y, ldy);
  }
}

}  // namespace dawn
