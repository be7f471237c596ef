// Causal softmax attention of one query head over cached keys and values.
#pragma once
#include <cstdint>

namespace dawn {

// out[dv] = softmax(scale * q . k_j) . v_j over j < n_kv.
// k rows and v rows are `k_stride` / `v_stride` floats apart; scores needs n_kv floats.
void attend(const float* q, int64_t dk, const float* k, int64_t k_stride, const float* v, int64_t v_stride, int64_t dv,
            int64_t n_kv, float scale, float* scores, float* out);

}  // namespace dawn
