// Q5_0: 32 five-bit values (offset 16; fifth bits packed in qh) and one f16 scale.
#include <cstring>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void levels(const BlockQ5_0& b, int* q) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  for (int j = 0; j < QK / 2; ++j) {
    q[j] = int((b.qs[j] & 0xF) | (((qh >> j) << 4) & 0x10)) - 16;
    q[j + QK / 2] = int((b.qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
  }
}

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ5_0* b = static_cast<const BlockQ5_0*>(src);
  int q[QK];
  for (int64_t i = 0; i < n / QK; ++i) {
    levels(b[i], q);
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < QK; ++j) dst[i * QK + j] = d * float(q[j]);
  }
}

void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  BlockQ5_0* b = static_cast<BlockQ5_0*>(dst);
  uint8_t L[QK];
  // With an imatrix, llama-quantize's weights with the row's mean square.
  std::vector<float> w(imatrix ? size_t(n) : 0);
  if (imatrix) kquant_weights(src, imatrix, n, 1.0f, w.data());
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = quant_symmetric(QK, 16, src + i * QK, L, imatrix ? w.data() + i * QK : nullptr);
    b[i].d = f32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; ++j) {
      b[i].qs[j] = uint8_t((L[j] & 0xF) | ((L[j + QK / 2] & 0xF) << 4));
      qh |= uint32_t((L[j] & 0x10) >> 4) << j;
      qh |= uint32_t((L[j + QK / 2] & 0x10) >> 4) << (j + QK / 2);
    }
    std::memcpy(b[i].qh, &qh, 4);
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ5_0* x = static_cast<const BlockQ5_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  int q[QK];
  for (int64_t i = 0; i < n / QK; ++i) {
    levels(x[i], q);
    int32_t s = 0;
    for (int j = 0; j < QK; ++j) s += q[j] * y[i].qs[j];
    sum += float(s) * fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d);
  }
  return sum;
}

void unpack_levels(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
  const BlockQ5_0* b = static_cast<const BlockQ5_0*>(src);
  int l[QK];
  for (int64_t i = 0; i < n / QK; ++i) {
    levels(b[i], l);
    scale[i] = fp16_to_f32(b[i].d);
    min[i] = 0;
    for (int j = 0; j < QK; ++j) q[i * QK + j] = uint8_t(l[j] + 16);
  }
}

}  // namespace

extern const TypeTraits kTraitsQ5_0 = {"q5_0",
                                       QK,
                                       sizeof(BlockQ5_0),
                                       DType::Q8_0,
                                       to_float,
                                       from_float,
                                       pick_dot(DType::Q5_0, vec_dot),
                                       vec_dot,
                                       unpack_levels,
                                       32,
                                       16,
                                       false,
                                       quantize};

}  // namespace dawn
