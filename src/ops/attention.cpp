#include "ops/attention.h"

#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/dispatch.h"
#include "kernels/half.h"
#include "kernels/types.h"

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

// Q8_0 rows: each block's int8 values against q in float, times the block's scale.
float dot_q8_0(const float* q, const uint8_t* k, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(k);
  float s = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    float bs = 0;
    for (int j = 0; j < QK; ++j) bs += q[i * QK + j] * float(b[i].qs[j]);
    s += bs * fp16_to_f32(b[i].d);
  }
  return s;
}

void axpy_q8_0(float a, const uint8_t* v, float* out, int64_t n) {
  const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(v);
  for (int64_t i = 0; i < n / QK; ++i) {
    const float ad = a * fp16_to_f32(b[i].d);
    for (int j = 0; j < QK; ++j) out[i * QK + j] += ad * float(b[i].qs[j]);
  }
}

// s = softmax(scale * s) in place (the one-row form).
void softmax(float* s, int64_t n, float scale) {
  if (use_avx2()) {
    softmax_avx2(s, n, scale);
  } else {
    softmax_ref(s, n, scale);
  }
}

}  // namespace

void kv_store(const KvRows& rows, int64_t pos, const float* src, int64_t n) {
  uint8_t* dst = rows.row(pos);
  switch (rows.type) {
    case KvType::F16: {
      uint16_t* d = reinterpret_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_fp16(src[i]);
      break;
    }
    case KvType::Q8_0: traits(DType::Q8_0).from_float(src, dst, n); break;
    case KvType::F32: std::memcpy(dst, src, size_t(n) * 4); break;
  }
}

float kv_dot(const float* q, const KvRows& k, int64_t j, int64_t n) {
  const uint8_t* kj = k.row(j);
  if (k.type == KvType::F16) {
    const uint16_t* h = reinterpret_cast<const uint16_t*>(kj);
    return use_avx2() ? dot_f32_f16_avx2(q, h, n) : dot_f16_scalar(q, h, n);
  }
  if (k.type == KvType::Q8_0) return dot_q8_0(q, kj, n);
  const float* f = reinterpret_cast<const float*>(kj);
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += q[i] * f[i];
  return s;
}

void kv_axpy(float a, const KvRows& v, int64_t j, float* out, int64_t n) {
  const uint8_t* vj = v.row(j);
  if (v.type == KvType::F16) {
    const uint16_t* h = reinterpret_cast<const uint16_t*>(vj);
    if (use_avx2()) {
      axpy_f16_avx2(a, h, out, n);
    } else {
      axpy_f16_scalar(a, h, out, n);
    }
  } else if (v.type == KvType::Q8_0) {
    axpy_q8_0(a, vj, out, n);
  } else {
    const float* f = reinterpret_cast<const float*>(vj);
    for (int64_t i = 0; i < n; ++i) out[i] += a * f[i];
  }
}

void attend(const float* q, int64_t dk, const KvRows& k, const KvRows& v, int64_t dv, int64_t n_kv, float scale,
            float* scores, float* out) {
  for (int64_t j = 0; j < n_kv; ++j) scores[j] = kv_dot(q, k, j, dk);
  softmax(scores, n_kv, scale);
  for (int64_t i = 0; i < dv; ++i) out[i] = 0;
  for (int64_t j = 0; j < n_kv; ++j) kv_axpy(scores[j], v, j, out, dv);
}

}  // namespace dawn
