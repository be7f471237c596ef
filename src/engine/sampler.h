// Token sampling: penalties, then temperature with top-k / top-p / min-p
// filtering, drawn from a seeded generator so runs are reproducible.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace dawn {

struct SamplerParams {
  float temp = 0.8f;            // <= 0: greedy
  int top_k = 40;               // <= 0: off
  float top_p = 0.95f;          // >= 1: off
  float min_p = 0.05f;          // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int penalty_last_n = 64;
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& p);
  // history: tokens so far (prompt and generated), for the penalties.
  int32_t sample(const float* logits, int n_vocab, const std::vector<int32_t>& history);

 private:
  SamplerParams p_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> ids_;
  std::vector<double> prob_;
  std::vector<int32_t> count_, seen_;  // penalty counts per token id; the ids counted
};

}  // namespace dawn
