// DeepSeekMoE expert selection: softmax or sigmoid scores, selection bias,
// group-limited top-k, renormalisation and scaling of the chosen weights.
#pragma once
#include <cstdint>

namespace dawn {

enum class Gating : uint32_t { Softmax = 1, Sigmoid = 2 };

struct RouterConfig {
  int n_expert = 0;
  int n_used = 0;
  int n_group = 1;
  int n_group_used = 1;
  Gating gating = Gating::Softmax;
  bool norm_weights = false;
  float weights_scale = 0.0f;  // applied unless 0 or 1
};

// logits: n_expert router outputs; bias: n_expert selection biases or null.
// scratch: 2 * n_expert floats. Writes n_used expert ids and weights.
void route_experts(const RouterConfig& c, const float* logits, const float* bias, float* scratch, int32_t* ids,
                   float* weights);

}  // namespace dawn
