// Scale searches shared by the weight quantizers: pick the block scale (and min)
// that minimise the weighted squared error, rather than taking max/nmax blindly.
#pragma once
#include <cfloat>
#include <cstdint>

namespace dawn {

// ggml's plain asymmetric blocks (Q4_1, Q5_1): x ~ min + d * q, q in [0, nmax], d = (max - min) /
// nmax over the block; id = 1 / d (0 for a constant block).
struct MinStep {
  float min, d, id;
};
inline MinStep min_step(const float* x, int n, int nmax) {
  float min = FLT_MAX, max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    min = x[j] < min ? x[j] : min;
    max = x[j] > max ? x[j] : max;
  }
  const float d = (max - min) / float(nmax);
  return {min, d, d != 0 ? 1.0f / d : 0.0f};
}

// x ~ scale * q with q in [-nmax, nmax-1]; writes q + nmax into L. Returns scale. Each
// element's squared error is weighted by w (an importance, see kquant_weights), x^2 when null.
float quant_symmetric(int n, int nmax, const float* x, uint8_t* L, const float* w = nullptr);

// x ~ scale * q - min with q in [0, nmax], min >= 0; writes q into L.
// Returns scale and stores min in *min_out. Weights w as above (1 + x^2 when null).
float quant_asymmetric(int n, int nmax, const float* x, uint8_t* L, float* min_out, const float* w = nullptr);

// Q4_1 / Q5_1 with an importance matrix, as llama-quantize: the weighted least-squares scale and
// offset of one 32-value block (quant_asymmetric), stored as f16 in *d and *m, and the levels
// re-chosen for the rounded pair, written into L (n values in [0, nmax]).
void quant_asymmetric_f16(int n, int nmax, const float* x, const float* w, uint8_t* L, uint16_t* d, uint16_t* m);

// llama-quantize's error weights with an importance matrix: imatrix[j] * sqrt(s2 + x[j]^2),
// s2 = s2_factor * mean(x^2) over the n values (2 over a K-quant super-block, 1 over a row).
void kquant_weights(const float* x, const float* imatrix, int64_t n, float s2_factor, float* w);

// x ~ scale * values[L] over a sorted 16-entry codebook (IQ4_NL's non-linear levels), each
// element weighted by w (x^2 when w is null): 2 * ntry + 1 trial scales around max / values[0],
// nearest codebook entry per element, least-squares scale per trial, the best kept. Writes the
// 4-bit indices into L and returns the scale (0 for an all-zero input).
float quant_codebook16(int n, const int8_t* values, const float* x, const float* w, int ntry, uint8_t* L);

// Index of the entry of the sorted 16-entry codebook nearest to x.
int nearest_codebook16(const int8_t* values, float x);

}  // namespace dawn
