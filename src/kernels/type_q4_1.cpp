// Q4_1: 32 four-bit values with an f16 scale and an f16 minimum (older files; llama.cpp's
// ftype 3).
#include <algorithm>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ4_1* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    for (int j = 0; j < QK / 2; ++j) {
      dst[i * QK + j] = d * float(b[i].qs[j] & 0xF) + m;
      dst[i * QK + j + QK / 2] = d * float(b[i].qs[j] >> 4) + m;
    }
  }
}

// As llama-quantize without an importance matrix: the block's range split in 15 steps.
void from_float(const float* src, void* dst, int64_t n) {
  BlockQ4_1* b = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < n / QK; ++i) {
    const float* x = src + i * QK;
    const auto [min, d, id] = min_step(x, QK, 15);
    b[i].d = f32_to_fp16(d);
    b[i].m = f32_to_fp16(min);
    for (int j = 0; j < QK / 2; ++j) {
      const int q0 = std::min(15, int((x[j] - min) * id + 0.5f));
      const int q1 = std::min(15, int((x[j + QK / 2] - min) * id + 0.5f));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

// With an importance matrix, as llama-quantize then: per block the weighted least-squares scale
// and offset over the weights imatrix * sqrt(mean x^2 of the row + x^2).
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  if (!imatrix) return from_float(src, dst, n);
  BlockQ4_1* b = static_cast<BlockQ4_1*>(dst);
  std::vector<float> w(static_cast<size_t>(n));
  kquant_weights(src, imatrix, n, 1.0f, w.data());
  uint8_t L[QK];
  for (int64_t i = 0; i < n / QK; ++i) {
    quant_asymmetric_f16(QK, 15, src + i * QK, w.data() + i * QK, L, &b[i].d, &b[i].m);
    for (int j = 0; j < QK / 2; ++j) b[i].qs[j] = uint8_t(L[j] | (L[j + QK / 2] << 4));
  }
}

// d_w d_a sum(q_w q_a) + m_w (d_a sum q_a), the second factor precomputed in the Q8_1 block.
float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    int32_t s = 0;
    for (int j = 0; j < QK / 2; ++j) s += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + QK / 2];
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) * float(s) + fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
  }
  return sum;
}

void unpack_levels(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
  const BlockQ4_1* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / QK; ++i) {
    scale[i] = fp16_to_f32(b[i].d);
    min[i] = -fp16_to_f32(b[i].m);  // the levels form subtracts its min
    for (int j = 0; j < QK / 2; ++j) {
      q[i * QK + j] = b[i].qs[j] & 0xF;
      q[i * QK + j + QK / 2] = b[i].qs[j] >> 4;
    }
  }
}

}  // namespace

extern const TypeTraits kTraitsQ4_1 = {"q4_1",
                                       QK,
                                       sizeof(BlockQ4_1),
                                       DType::Q8_1,
                                       to_float,
                                       from_float,
                                       pick_dot(DType::Q4_1, vec_dot),
                                       vec_dot,
                                       unpack_levels,
                                       32,
                                       0,
                                       true,
                                       quantize};

}  // namespace dawn
