// Re-encodes a GGUF model's weights: one type for every matrix, or a mixture
// chosen per tensor the way llama-quantize chooses Q2_K, Q4_K_M and Q5_K_M.
#pragma once
#include <functional>
#include <string>

namespace dawn {

// target: f32, f16, bf16, q8_0, q4_0, q5_0, q3_k, q4_k, q5_k, q6_k (pure, output
// kept at Q6_K as llama.cpp does) or the mixes q2_k, q4_k_m, q5_k_m.
void quantize_model(const std::string& in, const std::string& out, const std::string& target,
                    const std::function<void(size_t, size_t)>& progress = {});

}  // namespace dawn
