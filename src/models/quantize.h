// Re-encodes a GGUF model's weights: one type for every matrix, or a mixture chosen per tensor
// the way llama-quantize chooses its K-quant mixes (Q2_K, Q4_K_M, Q5_K_M) and its i-quant ones
// (IQ1_S ... IQ4_XS), optionally weighted by an importance matrix and overridden per tensor.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace dawn {

struct QuantizeOptions {
  std::string imatrix;                    // importance matrix file (GGUF or .dat); empty: none
  std::vector<std::string> tensor_types;  // "REGEX=TYPE": tensors whose name matches get TYPE (last match wins)
};

// target: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q3_k, q4_k, q5_k, q6_k (pure, output kept
// at Q6_K as llama.cpp does), the mixes q2_k, q4_k_m, q5_k_m, or the i-quant mixes iq1_s, iq1_m,
// iq2_xxs, iq2_xs, iq2_s, iq2_m, iq3_xxs, iq3_s, iq4_nl, iq4_xs. Throws Error.
void quantize_model(const std::string& in, const std::string& out, const std::string& target,
                    const std::function<void(size_t, size_t)>& progress = {}, const QuantizeOptions& opts = {});

}  // namespace dawn
