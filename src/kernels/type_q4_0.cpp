// Q4_0: 32 four-bit values (offset 8) and one f16 scale; dots against Q8_0.
#include <cstring>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/quant_search.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void to_float(const void* src, float* dst, int64_t n) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < QK / 2; ++j) {
      dst[i * QK + j] = d * float((b[i].qs[j] & 0xF) - 8);
      dst[i * QK + j + QK / 2] = d * float((b[i].qs[j] >> 4) - 8);
    }
  }
}

void quantize(const float* src, void* dst, int64_t n, const float* imatrix) {
  BlockQ4_0* b = static_cast<BlockQ4_0*>(dst);
  uint8_t L[QK];
  // With an imatrix, llama-quantize's weights with the row's mean square.
  std::vector<float> w(imatrix ? size_t(n) : 0);
  if (imatrix) kquant_weights(src, imatrix, n, 1.0f, w.data());
  for (int64_t i = 0; i < n / QK; ++i) {
    const float d = quant_symmetric(QK, 8, src + i * QK, L, imatrix ? w.data() + i * QK : nullptr);
    b[i].d = f32_to_fp16(d);
    for (int j = 0; j < QK / 2; ++j) b[i].qs[j] = uint8_t(L[j] | (L[j + QK / 2] << 4));
  }
}

void from_float(const float* src, void* dst, int64_t n) { quantize(src, dst, n, nullptr); }

float vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ4_0* x = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    int32_t s = 0;
    for (int j = 0; j < QK / 2; ++j) {
      s += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j];
      s += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK / 2];
    }
    sum += float(s) * fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d);
  }
  return sum;
}

void unpack_levels(const void* src, int64_t n, uint8_t* q, float* scale, float* min) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / QK; ++i, q += QK) {
    scale[i] = fp16_to_f32(b[i].d);
    min[i] = 0;
    for (int j = 0; j < QK / 2; ++j) {
      q[j] = b[i].qs[j] & 0xF;
      q[j + QK / 2] = b[i].qs[j] >> 4;
    }
  }
}

}  // namespace

extern const TypeTraits kTraitsQ4_0 = {"q4_0",
                                       QK,
                                       sizeof(BlockQ4_0),
                                       DType::Q8_0,
                                       to_float,
                                       from_float,
                                       pick_dot(DType::Q4_0, vec_dot),
                                       vec_dot,
                                       unpack_levels,
                                       32,
                                       8,
                                       false,
                                       quantize};

}  // namespace dawn
