// Causal softmax attention of query heads over cached keys and values.
#pragma once
#include <cstdint>

namespace dawn {

// Rows of a KV cache: position p starts `stride` elements after position p-1.
// Elements are f32, or f16 (half the memory; converted as they are read).
struct KvRows {
  void* base = nullptr;
  int64_t stride = 0;
  bool f16 = false;

  // The same rows starting `off` elements further in (a head's slice).
  KvRows offset(int64_t off) const { return {static_cast<uint8_t*>(base) + off * (f16 ? 2 : 4), stride, f16}; }
};

// Writes n floats as position `pos` of `rows` (rounded to f16 when the rows are).
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
