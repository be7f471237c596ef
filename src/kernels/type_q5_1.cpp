// Q5_1: 32 five-bit values with an f16 scale and an f16 minimum (llama.cpp's
// fallback for Q5_K rows that are not a multiple of 256).
#include <cstring>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/half.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void levels(const BlockQ5_1& b, int* q) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < QK / 2; ++j) {
    q[j] = int((b.qs[j] & 0xF) | (((qh >> j) << 4) & 0x10));
    q[j + QK / 2] = int((b.qs[j] >> 4) | ((qh >> (j + 12)) & 0x10));
  }
}

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ5_1* b = static_cast<const BlockQ5_1*>(src);
  int q[QK];
  for (int64_t i = 0; i < n / QK; ++i) {
    levels(b[i], q);
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    for (int j = 0; j < QK; ++j) dst[i * QK + j] = d * float(q[j]) + m;
  }
}

// The 32 five-bit levels L into the block: low nibbles in qs, fifth bits in qh.
void pack(const uint8_t* L, BlockQ5_1* b) {
  uint32_t qh = 0;
  for (int j = 0; j < QK / 2; ++j) {
    const int q0 = L[j], q1 = L[j + QK / 2];
    b->qs[j] = uint8_t((q0 & 0xF) | ((q1 & 0xF) << 4));
    qh |= uint32_t((q0 & 0x10) >> 4) << j;
    qh |= uint32_t((q1 & 0x10) >> 4) << (j + QK / 2);
  }
  std::memcpy(b->qh, &qh, 4);
}

// As llama-quantize without an importance matrix: the block's range split in 31 steps.
void from_float(const float* src, void* dst, int64_t n) {
  BlockQ5_1* b = static_cast<BlockQ5_1*>(dst);
  for (int64_t i = 0; i < n / QK; ++i) {
    const float* x = src + i * QK;
    const auto [min, d, id] = min_step(x, QK, 31);
    b[i].d = f32_to_fp16(d);
    b[i].m = f32_to_fp16(min);
    uint8_t L[QK];
    for (int j = 0; j < QK; ++j) L[j] = uint8_t((x[j] - min) * id + 0.5f);
    pack(L, &b[i]);
  }
}

// With an importance matrix, as llama-quantize then: per block the weighted least-squares scale
// and offset over the weights imatrix * sqrt(mean x^2 of the row + x^2).
void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  if (!imatrix) return from_float(src, dst, n);
  BlockQ5_1* b = static_cast<BlockQ5_1*>(dst);
  std::vector<float> w(static_cast<size_t>(n));
  kquant_weights(src, imatrix, n, 1.0f, w.data());
  uint8_t L[QK];
  for (int64_t i = 0; i < n / QK; ++i) {
    quant_asymmetric_f16(QK, 31, src + i * QK, w.data() + i * QK, L, &b[i].d, &b[i].m);
    pack(L, &b[i]);
  }
}

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  int q[QK];
  for (int64_t i = 0; i < n / QK; ++i) {
    levels(x[i], q);
    int32_t s = 0;
    for (int j = 0; j < QK; ++j) s += q[j] * y[i].qs[j];
    sum += fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d) * float(s) + fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
  }
  return sum;
}

}  // namespace

extern const TypeTraits kTraitsQ5_1 = {
    "q5_1", QK, sizeof(BlockQ5_1), DType::Q8_1, to_float, from_float, vec_dot, vec_dot, nullptr, 0, 0, true, quantize};

}  // namespace dawn
