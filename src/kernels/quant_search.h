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

}  // namespace dawn
