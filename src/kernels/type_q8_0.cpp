// Q8_0: 32 int8 values and one f16 scale. Also the activation format for Q4_0/Q5_0/Q8_0.
#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < QK; ++j) dst[i * QK + j] = d * float(b[i].qs[j]);
  }
}

void from_float(const float* src, void* dst, int64_t n) {
  if (cpu_isa() >= Isa::Avx512) {
    quantize_row_q8_0_avx512(src, dst, n);
  } else {
    quantize_row_q8_0_ref(src, dst, n);
  }
}

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    int32_t s = 0;
    for (int j = 0; j < QK; ++j) s += int32_t(x[i].qs[j]) * int32_t(y[i].qs[j]);
    sum += float(s) * fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d);
  }
  return sum;
}

// Levels are the int8 values moved up by 128 into the unsigned range.
void unpack_levels(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / QK; ++i) {
    scale[i] = fp16_to_f32(b[i].d);
    min[i] = 0;
    for (int j = 0; j < QK; ++j) q[i * QK + j] = uint8_t(b[i].qs[j] + 128);
  }
}

}  // namespace

void quantize_row_q8_0_ref(const float* src, void* dst, int64_t n) {
  BlockQ8_0* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / QK; ++i) b[i].d = f32_to_fp16(quantize_q8_block(src + i * QK, b[i].qs));
}

extern const TypeTraits kTraitsQ8_0 = {"q8_0",
                                       QK,
                                       sizeof(BlockQ8_0),
                                       DType::Q8_0,
                                       to_float,
                                       from_float,
                                       pick_dot(DType::Q8_0, vec_dot),
                                       vec_dot,
                                       unpack_levels,
                                       32,
                                       128};

}  // namespace dawn
