// Rotary position embedding with YaRN and per-dimension frequency factors,
// computed the way ggml does (float theta, iterated), so logits match llama.cpp.
#pragma once
#include <cstdint>

namespace dawn {

struct RopeConfig {
  int n_rot = 0;      // rotated dimensions at the start of each head
  bool neox = false;  // pairs (i, i + n_rot/2) instead of adjacent (2i, 2i+1)
  float base = 10000.0f;
  float freq_scale = 1.0f;   // 1 / YaRN factor
  float ext_factor = 0.0f;   // 1 enables YaRN's ramp between interpolation and extrapolation
  float attn_factor = 1.0f;  // magnitude applied to cos/sin
  float beta_fast = 32.0f, beta_slow = 1.0f;
  int n_ctx_orig = 0;
  const float* freq_factors = nullptr;  // n_rot/2 divisors (llama3 rope_freqs)
};

// Fills cos/sin tables (n_rot/2 each) for one position.
void rope_cos_sin(const RopeConfig& c, int64_t pos, float* cos_out, float* sin_out);

// Rotates n_heads vectors of `stride` floats in place with precomputed tables.
void rope_apply(const RopeConfig& c, const float* cos_t, const float* sin_t, float* x, int n_heads, int64_t stride);

}  // namespace dawn
