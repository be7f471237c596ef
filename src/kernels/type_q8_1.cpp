// Q8_1: Q8_0 plus d * sum(qs), the activation format for Q5_1 (offset) weights.
#include "kernels/blocks.h"
#include "kernels/half.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ8_1* b = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < QK; ++j) dst[i * QK + j] = d * float(b[i].qs[j]);
  }
}

void from_float(const float* src, void* dst, int64_t n) {
  BlockQ8_1* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = quantize_q8_block(src + i * QK, b[i].qs);
    int32_t sum = 0;
    for (int j = 0; j < QK; ++j) sum += b[i].qs[j];
    b[i].d = f32_to_fp16(d);
    b[i].s = f32_to_fp16(d * float(sum));
  }
}

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ8_1* x = static_cast<const BlockQ8_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    int32_t s = 0;
    for (int j = 0; j < QK; ++j) s += int32_t(x[i].qs[j]) * int32_t(y[i].qs[j]);
    sum += float(s) * fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d);
  }
  return sum;
}

}  // namespace

extern const TypeTraits kTraitsQ8_1 = {"q8_1",   QK,         sizeof(BlockQ8_1), DType::Q8_1,
                                       to_float, from_float, vec_dot,           vec_dot};

}  // namespace dawn
