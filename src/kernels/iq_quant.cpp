#include "kernels/iq_quant.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "kernels/blocks.h"
#include "kernels/half.h"
#include "kernels/iq_grids.h"

namespace dawn {

namespace {

template <size_t N, class E>
GridSearch build(const std::array<E, N>& table, int n, bool signed_bytes) {
  GridSearch g;
  g.n = n;
  g.n_points = int(N);
  g.values.resize(N * size_t(n));
  for (size_t k = 0; k < N; ++k) {
    for (int j = 0; j < n; ++j) {
      const int b = int((uint64_t(table[k]) >> (8 * j)) & 0xff);
      g.values[k * size_t(n) + size_t(j)] = float(signed_bytes ? int(int8_t(b)) : b);
    }
  }
  g.levels = g.values;
  std::sort(g.levels.begin(), g.levels.end());
  g.levels.erase(std::unique(g.levels.begin(), g.levels.end()), g.levels.end());
  const int L = int(g.levels.size());
  int n_codes = 1;
  for (int j = 0; j < n; ++j) n_codes *= L;
  g.cands.resize(size_t(n_codes) * GridSearch::kCands);
  std::vector<std::pair<float, uint16_t>> dist(N);
  std::vector<float> p(static_cast<size_t>(n));
  for (int c = 0; c < n_codes; ++c) {
    for (int j = 0, r = c; j < n; ++j, r /= L) p[size_t(j)] = g.levels[size_t(r % L)];
    for (size_t k = 0; k < N; ++k) {
      float d = 0;
      for (int j = 0; j < n; ++j) d += (p[size_t(j)] - g.values[k * size_t(n) + size_t(j)]) * (p[size_t(j)] - g.values[k * size_t(n) + size_t(j)]);
      dist[k] = {d, uint16_t(k)};
    }
    std::partial_sort(dist.begin(), dist.begin() + GridSearch::kCands, dist.end());
    for (int i = 0; i < GridSearch::kCands; ++i) g.cands[size_t(c) * GridSearch::kCands + size_t(i)] = dist[size_t(i)].second;
  }
  return g;
}

}  // namespace

const GridSearch& grid_search(IqGrid which) {
  static GridSearch grids[6];
  static std::once_flag once[6];
  const int i = int(which);
  std::call_once(once[i], [&] {
    switch (which) {
      case IqGrid::Iq2xxs: grids[i] = build(kIq2xxsGrid, 8, false); break;
      case IqGrid::Iq2xs: grids[i] = build(kIq2xsGrid, 8, false); break;
      case IqGrid::Iq2s: grids[i] = build(kIq2sGrid, 8, false); break;
      case IqGrid::Iq3xxs: grids[i] = build(kIq3xxsGrid, 4, false); break;
      case IqGrid::Iq3s: grids[i] = build(kIq3sGrid, 4, false); break;
      case IqGrid::Iq1s: grids[i] = build(kIq1sGrid, 8, true); break;
    }
  });
  return grids[i];
}

int best_point(const GridSearch& g, const float* t, const float* w) {
  const int L = int(g.levels.size());
  int code = 0;
  for (int j = g.n - 1; j >= 0; --j) {
    // Nearest level: the levels are few (3 or 8), a linear scan is cheapest.
    int best = 0;
    float bd = std::fabs(t[j] - g.levels[0]);
    for (int l = 1; l < L; ++l) {
      const float d = std::fabs(t[j] - g.levels[size_t(l)]);
      if (d < bd) bd = d, best = l;
    }
    code = code * L + best;
  }
  const uint16_t* c = g.cands.data() + size_t(code) * GridSearch::kCands;
  int best = c[0];
  float best_err = INFINITY;
  for (int i = 0; i < GridSearch::kCands; ++i) {
    const float* v = g.values.data() + size_t(c[i]) * size_t(g.n);
    float e = 0;
    for (int j = 0; j < g.n; ++j) e += w[j] * (t[j] - v[j]) * (t[j] - v[j]);
    if (e < best_err) best_err = e, best = c[i];
  }
  return best;
}

void iq_weights(const float* x, const float* imatrix, int n, float s2_factor, float* w) {
  float s2 = 0;
  for (int j = 0; j < n; ++j) s2 += x[j] * x[j];
  s2 *= s2_factor / float(n);
  for (int j = 0; j < n; ++j) w[j] = (imatrix ? imatrix[j] : 1.0f) * std::sqrt(s2 + x[j] * x[j]);
}

void assign_points(const GridSearch& g, const float* a, const float* w, int m, float D, const float* offset,
                   uint16_t* idx) {
  float t[8];
  const float id = D > 0 ? 1.0f / D : 0.0f;
  for (int k = 0; k < m; k += g.n) {
    const float off = offset ? offset[k / g.n] : 0.0f;
    for (int j = 0; j < g.n; ++j) t[j] = a[k + j] * id - off;
    idx[k / g.n] = uint16_t(best_point(g, t, w + k));
  }
}

float fit_points(const GridSearch& g, const float* a, const float* w, int m, float vmax, const float* offset,
                 uint16_t* idx, float* err, float f_max) {
  float amax = 0;
  double sxx = 0;
  for (int k = 0; k < m; ++k) {
    amax = std::max(amax, std::fabs(a[k]));
    sxx += double(w[k]) * a[k] * a[k];
  }
  const auto value = [&](const uint16_t* p, int k) {
    return g.values[size_t(p[k / g.n]) * size_t(g.n) + size_t(k % g.n)] + (offset ? offset[k / g.n] : 0.0f);
  };
  uint16_t trial[64];
  double best_gain = 0;
  float best_D = 0;
  bool found = false;
  if (amax > 0) {
    for (int f = 0; 0.6f + 0.05f * float(f) <= f_max + 1e-4f; ++f) {
      const float D = amax / (vmax * (0.6f + 0.05f * float(f)));
      assign_points(g, a, w, m, D, offset, trial);
      double sxv = 0, svv = 0;
      for (int k = 0; k < m; ++k) {
        const float v = value(trial, k);
        sxv += double(w[k]) * a[k] * v;
        svv += double(w[k]) * v * v;
      }
      if (sxv <= 0 || svv <= 0) continue;
      const double gain = sxv * sxv / svv;  // the error is sxx - gain at the least-squares scale
      if (!found || gain > best_gain) {
        found = true, best_gain = gain, best_D = float(sxv / svv);
        std::copy(trial, trial + m / g.n, idx);
      }
    }
  }
  if (!found) {
    assign_points(g, a, w, m, 0.0f, offset, idx);  // targets -offset: the points nearest to "nothing"
    if (err) *err = float(sxx);
    return 0;
  }
  if (err) *err = float(std::max(0.0, sxx - best_gain));
  return best_D;
}

uint8_t split_signs(const float* x, const float* w, bool even, float* a) {
  uint8_t s = 0;
  for (int j = 0; j < 8; ++j) {
    a[j] = std::fabs(x[j]);
    if (x[j] < 0) s = uint8_t(s | (1 << j));
  }
  if (even && (__builtin_popcount(s) & 1)) {
    int jmin = 0;
    for (int j = 1; j < 8; ++j) {
      if (w[j] * x[j] * x[j] < w[jmin] * x[jmin] * x[jmin]) jmin = j;
    }
    s = uint8_t(s ^ (1 << jmin));
    a[jmin] = -a[jmin];
  }
  return s;
}

void fit_signed_grid(const GridSearch& g, const float* x, const float* imatrix, bool even, int m, float vmax,
                     float div, SignedGridFit* f) {
  float w[QK_K], a[QK_K], D[16];
  iq_weights(x, imatrix, QK_K, 1.0f, w);
  for (int l = 0; l < QK_K / 8; ++l) f->signs[l] = split_signs(x + 8 * l, w + 8 * l, even, a + 8 * l);
  const int n_sub = QK_K / m, per_sub = m / g.n;
  float max_D = 0;
  for (int h = 0; h < n_sub; ++h) {
    D[h] = fit_points(g, a + m * h, w + m * h, m, vmax, nullptr, f->idx + per_sub * h);
    max_D = std::max(max_D, D[h]);
  }
  f->d = max_D == 0 ? 0.0f : fp16_to_f32(f32_to_fp16(div * max_D / 31.0f));
  for (int h = 0; h < n_sub; ++h) {
    f->s[h] = 0;
    if (f->d == 0) continue;
    f->s[h] = std::clamp(nearest_int(0.5f * (div * D[h] / f->d - 1.0f)), 0, 15);
    assign_points(g, a + m * h, w + m * h, m, f->d * float(2 * f->s[h] + 1) / div, nullptr, f->idx + per_sub * h);
  }
}

}  // namespace dawn
