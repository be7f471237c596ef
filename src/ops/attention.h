// Causal softmax attention of query heads over cached keys and values.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dawn {

// How a KV cache stores its elements: f32; f16 (half the memory); q8_0 (blocks of 32 int8 values
// with an f16 scale, as ggml's Q8_0: 34 bytes per 32, for row lengths and slices that are
// multiples of 32). All are converted to f32 as they are read.
enum class KvType { F32, F16, Q8_0 };

// Bytes of n elements of type t (n a multiple of 32 for q8_0).
inline size_t kv_bytes(KvType t, int64_t n) {
  return t == KvType::Q8_0 ? size_t(n / 32) * 34 : size_t(n) * (t == KvType::F16 ? 2 : 4);
}

// Rows of a KV cache: position p starts `stride` elements after position p-1.
struct KvRows {
  void* base = nullptr;
  int64_t stride = 0;
  KvType type = KvType::F32;

  uint8_t* row(int64_t pos) const { return static_cast<uint8_t*>(base) + size_t(pos) * kv_bytes(type, stride); }
  // The same rows starting `off` elements further in (a head's slice).
  KvRows offset(int64_t off) const { return {static_cast<uint8_t*>(base) + kv_bytes(type, off), stride, type}; }
};

// Writes n floats as position `pos` of `rows` (converted to the rows' type).
void kv_store(const KvRows& rows, int64_t pos, const float* src, int64_t n);

// out[dv] = softmax(scale * q . k_j) . v_j over j < n_kv; scores needs n_kv floats.
void attend(const float* q, int64_t dk, const KvRows& k, const KvRows& v, int64_t dv, int64_t n_kv, float scale,
            float* scores, float* out);

// attend() for n_q query rows (q_stride floats apart) at one position over the same cache: all
// MLA heads over the latent, or the query heads of one GQA group. Each cache row is read once
// for all of them. scores needs n_q * n_kv floats; row r's result goes to out + r * out_stride.
void attend_rows(const float* q, int64_t q_stride, int n_q, int64_t dk, const KvRows& k, const KvRows& v, int64_t dv,
                 int64_t n_kv, float scale, float* scores, float* out, int64_t out_stride);

}  // namespace dawn
