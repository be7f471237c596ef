// The sampler chain (sampler.h): each stage narrows or reweights the candidates; the last picks.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "text/grammar_matcher.h"

namespace dawn {

std::vector<SamplerStage> sampler_chain(const SamplerParams& p) {
  std::vector<SamplerStage> c;
  if (!p.logit_bias.empty()) c.push_back(SamplerStage::LogitBias);
  const bool penalise = p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
  if (penalise && p.penalty_last_n != 0) c.push_back(SamplerStage::Penalties);
  if (p.temp <= 0.0f) {
    c.push_back(SamplerStage::Greedy);
    return c;
  }
  c.push_back(SamplerStage::TopK);  // also sorts the candidates when top-k is off
  c.push_back(SamplerStage::Temperature);
  if (p.min_p > 0.0f) c.push_back(SamplerStage::MinP);
  if (p.top_p < 1.0f) c.push_back(SamplerStage::TopP);
  c.push_back(SamplerStage::Draw);
  return c;
}

Sampler::Sampler(const SamplerParams& p) : p_(p), chain_(sampler_chain(p)), rng_(p.seed) {}

void Sampler::apply(SamplerStage s, int n_vocab, const std::vector<int32_t>& history) {
  switch (s) {
    case SamplerStage::LogitBias:
      for (const auto& [tok, bias] : p_.logit_bias) {
        if (tok >= 0 && tok < n_vocab) work_[size_t(tok)] += bias;
      }
      return;
    case SamplerStage::Penalties: {
      const size_t n = p_.penalty_last_n < 0 ? history.size() : std::min(history.size(), size_t(p_.penalty_last_n));
      // Counts in a vocabulary-sized table (kept between calls, reset after use: no allocation per token).
      if (count_.size() < size_t(n_vocab)) count_.assign(size_t(n_vocab), 0);
      seen_.clear();
      for (size_t i = history.size() - n; i < history.size(); ++i) {
        const int32_t tok = history[i];
        if (tok < 0 || tok >= n_vocab) continue;
        if (count_[size_t(tok)]++ == 0) seen_.push_back(tok);
      }
      for (int32_t tok : seen_) {
        float& l = work_[size_t(tok)];
        l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
        l -= float(count_[size_t(tok)]) * p_.frequency_penalty + p_.presence_penalty;
        count_[size_t(tok)] = 0;
      }
      return;
    }
    case SamplerStage::Greedy:
      chosen_ = greedy_token(work_.data(), n_vocab);
      return;
    case SamplerStage::TopK: {
      ids_.resize(size_t(n_vocab));
      for (int i = 0; i < n_vocab; ++i) ids_[size_t(i)] = i;
      n_ = n_vocab;
      const auto by_logit = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
      if (p_.top_k > 0 && p_.top_k < n_) {
        std::partial_sort(ids_.begin(), ids_.begin() + p_.top_k, ids_.end(), by_logit);
        n_ = p_.top_k;
      } else if (p_.min_p > 0.0f || p_.top_p < 1.0f) {
        std::sort(ids_.begin(), ids_.end(), by_logit);
      } else {
        // Neither min-p nor top-p looks at the order: the whole vocabulary is drawn from as it is
        // (a sort of 150k ids per token cost more than the model's decode step on small models).
        sorted_ = false;
        return;
      }
      sorted_ = true;
      return;
    }
    case SamplerStage::Temperature: {
      // Probabilities at temperature over the survivors, in descending order.
      prob_.resize(size_t(n_));
      double max = work_[size_t(ids_[0])];
      if (!sorted_) {
        for (int i = 1; i < n_; ++i) max = std::max(max, double(work_[size_t(ids_[size_t(i)])]));
      }
      double sum = 0;
      for (int i = 0; i < n_; ++i) {
        prob_[size_t(i)] = std::exp((work_[size_t(ids_[size_t(i)])] - max) / p_.temp);
        sum += prob_[size_t(i)];
      }
      for (int i = 0; i < n_; ++i) prob_[size_t(i)] /= sum;
      return;
    }
    case SamplerStage::MinP:
      for (int i = 1; i < n_; ++i) {
        if (prob_[size_t(i)] < p_.min_p * prob_[0]) {
          n_ = i;
          break;
        }
      }
      return;
    case SamplerStage::TopP: {
      double cum = 0;
      for (int i = 0; i < n_; ++i) {
        cum += prob_[size_t(i)];
        if (cum >= p_.top_p) {
          n_ = i + 1;
          break;
        }
      }
      return;
    }
    case SamplerStage::Draw: {
      double total = 0;
      for (int i = 0; i < n_; ++i) total += prob_[size_t(i)];
      std::uniform_real_distribution<double> u(0.0, total);
      double r = u(rng_);
      chosen_ = -1;
      for (int i = 0; i < n_; ++i) {
        if (prob_[size_t(i)] <= 0) continue;  // never a masked-out token, whatever r is
        chosen_ = ids_[size_t(i)];
        if (r < prob_[size_t(i)]) break;
        r -= prob_[size_t(i)];
      }
      return;
    }
  }
}

int32_t Sampler::sample(const float* logits, int n_vocab, const std::vector<int32_t>& history,
                        const TokenMask* mask) {
  work_.assign(logits, logits + n_vocab);
  if (mask) {  // the grammar stage: what it refuses can never be chosen
    constexpr float kOut = -std::numeric_limits<float>::infinity();
    for (int w = 0; w * 64 < n_vocab; ++w) {
      const uint64_t bits = size_t(w) < mask->bits.size() ? mask->bits[size_t(w)] : 0;
      if (bits == ~uint64_t(0)) continue;
      for (int i = w * 64; i < std::min(n_vocab, w * 64 + 64); ++i)
        if (!((bits >> (i - w * 64)) & 1)) work_[size_t(i)] = kOut;
    }
  }
  sorted_ = false;
  chosen_ = -1;
  for (SamplerStage s : chain_) apply(s, n_vocab, history);
  return chosen_;
}

}  // namespace dawn
