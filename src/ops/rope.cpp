#include "ops/rope.h"

#include <algorithm>
#include <cmath>

namespace dawn {

namespace {

float corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
  return float(n_dims) * std::log(float(n_ctx_orig) / (n_rot * 2.0f * float(M_PI))) / (2.0f * std::log(base));
}

}  // namespace

void rope_cos_sin(const RopeConfig& c, int64_t pos, float* cos_out, float* sin_out) {
  const float theta_scale = std::pow(c.base, -2.0f / float(c.n_rot));
  float low = 0, high = 0;
  if (c.ext_factor != 0) {
    low = std::max(0.0f, std::floor(corr_dim(c.n_rot, c.n_ctx_orig, c.beta_fast, c.base)));
    high = std::min(float(c.n_rot - 1), std::ceil(corr_dim(c.n_rot, c.n_ctx_orig, c.beta_slow, c.base)));
  }
  float theta = float(pos);
  for (int i0 = 0; i0 < c.n_rot; i0 += 2) {
    const float ff = c.freq_factors ? c.freq_factors[i0 / 2] : 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = c.freq_scale * theta_extrap;
    float th = theta_interp;
    float mscale = c.attn_factor;
    if (c.ext_factor != 0) {
      const float y = (float(i0 / 2) - low) / std::max(0.001f, high - low);
      const float ramp_mix = (1.0f - std::min(1.0f, std::max(0.0f, y))) * c.ext_factor;
      th = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
      mscale *= 1.0f + 0.1f * std::log(1.0f / c.freq_scale);
    }
    cos_out[i0 / 2] = std::cos(th) * mscale;
    sin_out[i0 / 2] = std::sin(th) * mscale;
    theta *= theta_scale;
  }
}

void rope_apply(const RopeConfig& c, const float* cos_t, const float* sin_t, float* x, int n_heads, int64_t stride) {
  const int half = c.n_rot / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + h * stride;
    for (int i = 0; i < half; ++i) {
      const int a = c.neox ? i : 2 * i;
      const int b = c.neox ? i + half : 2 * i + 1;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * cos_t[i] - x1 * sin_t[i];
      v[b] = x0 * sin_t[i] + x1 * cos_t[i];
    }
  }
}

}  // namespace dawn
