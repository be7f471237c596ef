#include "kernels/quant_search.h"

#include <algorithm>
#include <cmath>

#include "kernels/blocks.h"
#include "kernels/half.h"

namespace dawn {

float quant_symmetric(int n, int nmax, const float* x, uint8_t* L, const float* w_in) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax == 0) {
    for (int i = 0; i < n; ++i) L[i] = uint8_t(nmax);
    return 0;
  }
  float best_scale = 0, best_err = INFINITY;
  // The sign convention puts the extreme value on the -nmax side, which has one more level.
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(float(nmax) + 0.1f * float(step)) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      const float w = w_in ? w_in[i] : x[i] * x[i];
      sumlx += w * x[i] * float(l);
      suml2 += w * float(l) * float(l);
    }
    if (suml2 <= 0) continue;
    const float scale = sumlx / suml2;
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      const float d = x[i] - scale * float(l);
      err += (w_in ? w_in[i] : x[i] * x[i]) * d * d;
    }
    if (err < best_err) {
      best_err = err;
      best_scale = scale;
    }
  }
  const float iscale = best_scale != 0 ? 1.0f / best_scale : 0;
  for (int i = 0; i < n; ++i) {
    L[i] = uint8_t(std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1) + nmax);
  }
  return best_scale;
}

float quant_asymmetric(int n, int nmax, const float* x, uint8_t* L, float* min_out, const float* w_in) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *min_out = -lo;
    return 0;
  }
  float best_scale = (hi - lo) / float(nmax), best_min = lo, best_err = INFINITY;
  // Try shrunken ranges, refitting scale and offset by least squares on each assignment.
  for (int step = 0; step <= 12; ++step) {
    const float shrink = 1.0f - 0.02f * float(step);
    const float s0 = (hi - lo) * shrink / float(nmax);
    for (int iter = 0; iter < 2; ++iter) {
      const float scale = iter == 0 ? s0 : best_scale;
      const float off = iter == 0 ? lo : best_min;
      if (scale <= 0) break;
      const float iscale = 1.0f / scale;
      float sw = 0, sl = 0, sx = 0, sll = 0, slx = 0;
      for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearest_int(iscale * (x[i] - off)), 0, nmax);
        const float w = w_in ? w_in[i] : 1.0f + x[i] * x[i];
        sw += w;
        sl += w * float(l);
        sx += w * x[i];
        sll += w * float(l) * float(l);
        slx += w * float(l) * x[i];
      }
      const float det = sw * sll - sl * sl;
      if (det <= 0) continue;
      float a = (sw * slx - sl * sx) / det;   // scale
      float b = (sll * sx - sl * slx) / det;  // offset (= -min)
      if (b > 0) {                            // the format stores min >= 0
        b = 0;
        a = slx / sll;
      }
      if (a <= 0) continue;
      float err = 0;
      const float ia = 1.0f / a;
      for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearest_int(ia * (x[i] - b)), 0, nmax);
        const float d = x[i] - (a * float(l) + b);
        err += (w_in ? w_in[i] : 1.0f + x[i] * x[i]) * d * d;
      }
      if (err < best_err) {
        best_err = err;
        best_scale = a;
        best_min = b;
      }
    }
  }
  const float iscale = 1.0f / best_scale;
  for (int i = 0; i < n; ++i) {
    L[i] = uint8_t(std::clamp(nearest_int(iscale * (x[i] - best_min)), 0, nmax));
  }
  *min_out = -best_min;
  return best_scale;
}

void quant_asymmetric_f16(int n, int nmax, const float* x, const float* w, uint8_t* L, uint16_t* d, uint16_t* m) {
  float neg_min;
  *d = f32_to_fp16(quant_asymmetric(n, nmax, x, L, &neg_min, w));
  *m = f32_to_fp16(-neg_min);
  const float d16 = fp16_to_f32(*d), m16 = fp16_to_f32(*m);
  for (int j = 0; j < n; ++j) L[j] = d16 > 0 ? uint8_t(std::clamp(nearest_int((x[j] - m16) / d16), 0, nmax)) : 0;
}

void kquant_weights(const float* x, const float* imatrix, int64_t n, float s2_factor, float* w) {
  double s2 = 0;
  for (int64_t j = 0; j < n; ++j) s2 += double(x[j]) * x[j];
  const float v = float(s2 * s2_factor / double(n));
  for (int64_t j = 0; j < n; ++j) w[j] = imatrix[j] * std::sqrt(v + x[j] * x[j]);
}

int nearest_codebook16(const int8_t* values, float x) {
  if (x <= values[0]) return 0;
  if (x >= values[15]) return 15;
  int lo = 0, hi = 15;  // values[lo] < x < values[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (x < values[mid] ? hi : lo) = mid;
  }
  return x - float(values[lo]) < float(values[hi]) - x ? lo : hi;
}

float quant_codebook16(int n, const int8_t* values, const float* x, const float* w, int ntry, uint8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  }
  if (amax < 1e-30f) {
    for (int i = 0; i < n; ++i) L[i] = uint8_t(nearest_codebook16(values, 0.0f));
    return 0;
  }
  const auto weight = [&](int i) { return w ? w[i] : x[i] * x[i]; };
  // Scores the codes nearest to x * id: the least-squares scale and its error reduction.
  float best_scale = 0, best = -1;
  uint8_t trial[256];
  const auto evaluate = [&](float id, uint8_t* out) {
    double sumqx = 0, sumq2 = 0;
    for (int i = 0; i < n; ++i) {
      out[i] = uint8_t(nearest_codebook16(values, id * x[i]));
      const double q = values[out[i]], wi = weight(i);
      sumqx += wi * q * x[i];
      sumq2 += wi * q * q;
    }
    if (sumq2 <= 0) return;
    const double gain = sumqx * sumqx / sumq2;  // error reduction of the best scale for these codes
    if (gain > best) {
      best = float(gain), best_scale = float(sumqx / sumq2);
      if (out != L) std::copy(out, out + n, L);
    }
  };
  evaluate(-float(values[0]) / max, L);  // max on the short side of the codebook, then on the long side
  for (int t = -ntry; t <= ntry; ++t) evaluate((float(t) + float(values[0])) / max, trial);
  return best_scale;
}

}  // namespace dawn
