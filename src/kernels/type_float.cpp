// F32, F16 and BF16 rows. llama.cpp converts activations to the weight's own
// float type before the dot product, so F16 and BF16 dot against rows of that type.
#include <cstring>

#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/types.h"

namespace dawn {

namespace {

void f32_to_float(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }
void f32_from_float(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }
float f32_dot(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(y[i]);
  return float(s);
}

void f16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(s[i]);
}
void f16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = f32_to_fp16(src[i]);
}
float f16_dot(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(fp16_to_f32(x[i])) * double(fp16_to_f32(y[i]));
  return float(s);
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
}
void bf16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
}
float bf16_dot(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(bf16_to_f32(x[i])) * double(bf16_to_f32(y[i]));
  return float(s);
}

}  // namespace

extern const TypeTraits kTraitsF32 = {
    "f32", 1, 4, DType::F32, f32_to_float, f32_from_float, pick_dot(DType::F32, f32_dot), f32_dot};
extern const TypeTraits kTraitsF16 = {
    "f16", 1, 2, DType::F16, f16_to_float, f16_from_float, pick_dot(DType::F16, f16_dot), f16_dot};
extern const TypeTraits kTraitsBF16 = {"bf16", 1, 2, DType::BF16, bf16_to_float, bf16_from_float, bf16_dot, bf16_dot};

}  // namespace dawn
