// Token sampling as a chain of stages over one candidate set, as llama.cpp's sampler chain:
// logit bias, penalties, then greedy, or top-k, temperature, min-p, top-p and a seeded draw
// (reproducible runs). Stages are plain data run by one switch (no virtual calls per token);
// a grammar stage (the constrained-output issue) masks candidates before the choice.
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace dawn {

struct TokenMask;

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
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to those tokens' logits first
};

// The most likely of n logits (the first of equals): the greedy choice, and a deterministic draft.
inline int32_t greedy_token(const float* logits, int n) {
  return int32_t(std::max_element(logits, logits + n) - logits);
}

// The stages a chain runs, in order.
enum class SamplerStage { LogitBias, Penalties, Greedy, TopK, Temperature, MinP, TopP, Draw };

// The chain SamplerParams ask for: [LogitBias] [Penalties] then Greedy, or TopK? Temperature
// MinP? TopP? Draw.
std::vector<SamplerStage> sampler_chain(const SamplerParams& p);

class Sampler {
 public:
  explicit Sampler(const SamplerParams& p);
  // history: tokens so far (prompt and generated), for the penalties. mask: when given, the
  // only tokens that may be chosen (a grammar's; it must allow at least one), applied first.
  int32_t sample(const float* logits, int n_vocab, const std::vector<int32_t>& history,
                 const TokenMask* mask = nullptr);

 private:
  // The candidate set the stages narrow: logits over the whole vocabulary until TopK/Temperature
  // sort the survivors into ids_[0, n_), whose probabilities are prob_[0, n_) once Temperature ran.
  void apply(SamplerStage s, int n_vocab, const std::vector<int32_t>& history);

  SamplerParams p_;
  std::vector<SamplerStage> chain_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> ids_;
  std::vector<double> prob_;
  std::vector<int32_t> count_, seen_;  // penalty counts per token id; the ids counted
  int n_ = 0;
  bool sorted_ = false;
  int32_t chosen_ = -1;
};

}  // namespace dawn
