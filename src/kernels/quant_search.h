// Scale searches shared by the weight quantizers: pick the block scale (and min)
// that minimise the weighted squared error, rather than taking max/nmax blindly.
#pragma once
#include <cstdint>

namespace dawn {

// x ~ scale * q with q in [-nmax, nmax-1]; writes q + nmax into L. Returns scale.
float quant_symmetric(int n, int nmax, const float* x, uint8_t* L);

// x ~ scale * q - min with q in [0, nmax], min >= 0; writes q into L.
// Returns scale and stores min in *min_out.
float quant_asymmetric(int n, int nmax, const float* x, uint8_t* L, float* min_out);

// x ~ scale * values[L] over a sorted 16-entry codebook (IQ4_NL's non-linear levels), each
// element weighted by w (x^2 when w is null): 2 * ntry + 1 trial scales around max / values[0],
// nearest codebook entry per element, least-squares scale per trial, the best kept. Writes the
// 4-bit indices into L and returns the scale (0 for an all-zero input).
float quant_codebook16(int n, const int8_t* values, const float* x, const float* w, int ntry, uint8_t* L);

// Index of the entry of the sorted 16-entry codebook nearest to x.
int nearest_codebook16(const int8_t* values, float x);

}  // namespace dawn
