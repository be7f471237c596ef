#include "ops/attention.h"

#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/half.h"

namespace dawn {

namespace {

float dot_f16_scalar(const float* q, const uint16_t* k, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += q[i] * fp16_to_f32(k[i]);
  return s;
}

void axpy_f16_scalar(float a, const uint16_t* v, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += a * fp16_to_f32(v[i]);
}

// s = softmax(scale * s) in place; the one softmax of attend and attend_rows.
void softmax(float* s, int64_t n, float scale) {
  if (use_avx2()) {
    softmax_avx2(s, n, scale);
  } else {
    softmax_ref(s, n, scale);
  }
}

}  // namespace

void kv_store(const KvRows& rows, int64_t pos, const float* src, int64_t n) {
  if (rows.f16) {
    uint16_t* dst = static_cast<uint16_t*>(rows.base) + pos * rows.stride;
    for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_fp16(src[i]);
  } else {
    float* dst = static_cast<float*>(rows.base) + pos * rows.stride;
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

void attend(const float* q, int64_t dk, const KvRows& k, const KvRows& v, int64_t dv, int64_t n_kv, float scale,
            float* scores, float* out) {
  const bool simd = use_avx2();
  for (int64_t j = 0; j < n_kv; ++j) {
    float s = 0;
    if (k.f16) {
      const uint16_t* kj = static_cast<const uint16_t*>(k.base) + j * k.stride;
      s = simd ? dot_f32_f16_avx2(q, kj, dk) : dot_f16_scalar(q, kj, dk);
    } else {
      const float* kj = static_cast<const float*>(k.base) + j * k.stride;
      for (int64_t i = 0; i < dk; ++i) s += q[i] * kj[i];
    }
    scores[j] = s;
  }
  softmax(scores, n_kv, scale);
  for (int64_t i = 0; i < dv; ++i) out[i] = 0;
  for (int64_t j = 0; j < n_kv; ++j) {
    const float p = scores[j];
    if (v.f16) {
      const uint16_t* vj = static_cast<const uint16_t*>(v.base) + j * v.stride;
      if (simd) {
        axpy_f16_avx2(p, vj, out, dv);
      } else {
        axpy_f16_scalar(p, vj, out, dv);
      }
    } else {
      const float* vj = static_cast<const float*>(v.base) + j * v.stride;
      for (int64_t i = 0; i < dv; ++i) out[i] += p * vj[i];
    }
  }
}

void attend_rows(const float* q, int64_t q_stride, int n_q, int64_t dk, const KvRows& k, const KvRows& v, int64_t dv,
                 int64_t n_kv, float scale, float* scores, float* out, int64_t out_stride) {
  if (cpu_isa() < Isa::Avx512 || k.f16 != v.f16) {
    for (int r = 0; r < n_q; ++r) attend(q + r * q_stride, dk, k, v, dv, n_kv, scale, scores, out + r * out_stride);
    return;
  }
  qk_rows_avx512(q, q_stride, n_q, dk, k.base, k.stride, k.f16, n_kv, scores, n_kv);
  for (int r = 0; r < n_q; ++r) softmax(scores + r * n_kv, n_kv, scale);
  pv_rows_avx512(scores, n_kv, n_q, v.base, v.stride, v.f16, n_kv, dv, out, out_stride);
}

}  // namespace dawn
