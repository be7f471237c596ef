// The search the i-quant quantizers share: for a group of 4 or 8 target values (in grid units)
// with importance weights, the grid point of least weighted squared error. Every possible
// vector of per-element nearest levels (3^8 or 8^4 of them) has a precomputed short list of the
// grid points nearest to it, built on first use; the weighted error picks among those. Then the
// scale search per sub-block: trial scales around the one that maps the largest magnitude to the
// largest level, each trial's codes refit by least squares, the best kept.
#pragma once
#include <cstdint>
#include <vector>

namespace dawn {

enum class IqGrid { Iq2xxs, Iq2xs, Iq2s, Iq3xxs, Iq3s, Iq1s };

struct GridSearch {
  int n = 0;                    // elements per grid point
  int n_points = 0;
  std::vector<float> values;    // [point][n]: element values (IQ1: -1, 0, 1)
  std::vector<float> levels;    // the sorted distinct element values
  std::vector<uint16_t> cands;  // [level code][kCands]: the nearest grid points
  static constexpr int kCands = 32;
};

const GridSearch& grid_search(IqGrid g);

// Index of the point minimising sum_j w[j] (t[j] - value[j])^2 among the candidates of t's
// nearest-level vector.
int best_point(const GridSearch& g, const float* t, const float* w);

// Grid points for m targets a (m a multiple of g.n) at a fixed scale D: group k (g.n values)
// picks the point nearest to a / D - offset[k] (a point stands for its elements + offset[k];
// offset null: 0, as for all but IQ1's shifted grid).
void assign_points(const GridSearch& g, const float* a, const float* w, int m, float D, const float* offset,
                   uint16_t* idx);

// The scale D > 0 and points for m targets with a ~ D (value + offset): trial scales that map the
// largest |a| to between 0.6 and f_max times vmax, in steps of 0.05, each refit by least squares;
// 0 (and the points nearest to 0) when no trial fits a positive scale. *err (if given): the
// weighted squared error. The ternary IQ1 grids take f_max 2.6: their best scales clip the largest
// values (on the Brown model's IQ1_S, perplexity 151.9 at 1.3, 145.6 at 2.6; llama.cpp's 146.0).
float fit_points(const GridSearch& g, const float* a, const float* w, int m, float vmax, const float* offset,
                 uint16_t* idx, float* err = nullptr, float f_max = 1.3f);

// Signs of a group of 8 (bit j set where x[j] < 0) and the magnitudes into a. With `even` the
// count of negatives is made even, as the 7-bit sign indices require, by flipping the least
// important element: its target magnitude becomes negative, so the search pays for the error.
uint8_t split_signs(const float* x, const float* w, bool even, float* a);

// Importance weights of a super-block's values, as ggml forms them: imatrix[j] * sqrt(s2 + x^2)
// with s2 the block's mean square (scaled by s2_factor); without an imatrix, as if it were all
// ones (on Gaussian rows that beats ggml's own no-imatrix weights for every grid type).
void iq_weights(const float* x, const float* imatrix, int n, float s2_factor, float* w);

// The block search the five sign + magnitude grid types share (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS,
// IQ3_S), each type only packing the result its own way: signs split off per 8 (made even where
// the type keeps 7 bits of them), each sub-block of m weights fitted on its own (fit_points,
// largest level vmax), the block scale d = div * (largest sub-block scale) / 31 rounded to f16,
// each sub-block's scale rounded to d (2 s + 1) / div with s in 0..15, and its points chosen
// again for that rounded scale.
struct SignedGridFit {
  float d = 0;        // the f16-rounded block scale; 0: an all-zero block (store zeros)
  int s[16] = {};     // per sub-block (QK_K / m of them)
  uint16_t idx[64];   // grid points, QK_K / g.n of them
  uint8_t signs[32];  // per group of 8: bit j set where weight j is negative
};
void fit_signed_grid(const GridSearch& g, const float* x, const float* imatrix, bool even, int m, float vmax,
                     float div, SignedGridFit* f);

}  // namespace dawn
