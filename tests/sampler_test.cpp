#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace dawn {
namespace {

std::vector<float> random_logits(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<float> l(static_cast<size_t>(n));
  for (float& x : l) x = d(rng);
  return l;
}

TEST(Sampler, GreedyTakesTheArgmaxAfterPenalties) {
  std::vector<float> l = {1.0f, 5.0f, 4.9f, -2.0f};
  SamplerParams p;
  p.temp = 0;
  EXPECT_EQ(Sampler(p).sample(l.data(), 4, {}), 1);
  p.repeat_penalty = 1.1f;  // 5 / 1.1 < 4.9
  EXPECT_EQ(Sampler(p).sample(l.data(), 4, {1}), 2);
  p.repeat_penalty = 1.0f;
  p.frequency_penalty = 0.05f;  // 5 - 3 * 0.05 = 4.85 < 4.9; counted per occurrence
  EXPECT_EQ(Sampler(p).sample(l.data(), 4, {1, 1, 1}), 2);
  EXPECT_EQ(Sampler(p).sample(l.data(), 4, {1}), 1);
  p.frequency_penalty = 0;
  p.presence_penalty = 0.2f;  // once, whatever the count
  EXPECT_EQ(Sampler(p).sample(l.data(), 4, {1, 1, 1, 1}), 2);
  p.penalty_last_n = 1;  // only the last token is looked at
  EXPECT_EQ(Sampler(p).sample(l.data(), 4, {1, 0}), 1);
}

TEST(Sampler, SameSeedSameTokensAndPenaltiesResetBetweenCalls) {
  const auto l = random_logits(500, 3);
  SamplerParams p;
  p.seed = 42;
  p.repeat_penalty = 1.3f;
  p.frequency_penalty = 0.1f;
  Sampler a(p), b(p);
  std::vector<int32_t> ha, hb;
  for (int i = 0; i < 100; ++i) {
    ha.push_back(a.sample(l.data(), 500, ha));
    hb.push_back(b.sample(l.data(), 500, hb));
  }
  EXPECT_EQ(ha, hb);
  // A fresh sampler given the same history reproduces the last draw's distribution inputs:
  // penalties must not leak from one call into the next.
  SamplerParams g = p;
  g.temp = 0;
  Sampler s(g);
  const int32_t first = s.sample(l.data(), 500, ha);
  EXPECT_EQ(s.sample(l.data(), 500, ha), first);
}

TEST(Sampler, TopKOneIsGreedyAndTopPMinPRestrictTheSet) {
  const auto l = random_logits(1000, 9);
  const int32_t argmax = int32_t(std::max_element(l.begin(), l.end()) - l.begin());
  SamplerParams p;
  p.top_k = 1;
  p.seed = 1;
  Sampler s(p);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(l.data(), 1000, {}), argmax);
  p.top_k = 0;
  p.min_p = 0;
  p.top_p = 1e-6f;  // only the most likely survives
  Sampler t(p);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(t.sample(l.data(), 1000, {}), argmax);
  p.top_p = 1.0f;
  p.min_p = 0.5f;  // only tokens at least half as likely as the best
  p.temp = 1.0f;
  Sampler u(p);
  for (int i = 0; i < 200; ++i) {
    const int32_t t2 = u.sample(l.data(), 1000, {});
    EXPECT_GE(l[size_t(t2)], l[size_t(argmax)] - std::log(2.0f) - 1e-5f);
  }
  p.min_p = 0;
  p.temp = 1.5f;
  Sampler v(p);
  std::set<int32_t> seen;
  for (int i = 0; i < 300; ++i) seen.insert(v.sample(l.data(), 1000, {}));
  EXPECT_GT(seen.size(), 5u);  // a real distribution, not a constant
}

}  // namespace
}  // namespace dawn

namespace dawn {
namespace {

// The chain holds the stages the parameters ask for, in order; the bias stage forces and bans.
TEST(SamplerChain, StagesFollowTheParametersAndBiasForcesOrBans) {
  SamplerParams p;
  p.temp = 0;
  EXPECT_EQ(sampler_chain(p), std::vector<SamplerStage>{SamplerStage::Greedy});
  p.temp = 0.7f;
  p.repeat_penalty = 1.1f;
  p.logit_bias = {{3, 5.0f}};
  EXPECT_EQ(sampler_chain(p), (std::vector<SamplerStage>{SamplerStage::LogitBias, SamplerStage::Penalties,
                                                         SamplerStage::TopK, SamplerStage::Temperature,
                                                         SamplerStage::MinP, SamplerStage::TopP, SamplerStage::Draw}));
  const std::vector<float> l = {1.0f, 5.0f, 4.9f, -2.0f};
  SamplerParams g;
  g.temp = 0;
  g.logit_bias = {{3, 100.0f}};
  EXPECT_EQ(Sampler(g).sample(l.data(), 4, {}), 3);
  g.logit_bias = {{1, -100.0f}};
  EXPECT_EQ(Sampler(g).sample(l.data(), 4, {}), 2);
  SamplerParams s;
  s.seed = 9;
  s.logit_bias = {{1, -100.0f}, {2, -100.0f}};
  Sampler sampled(s);
  for (int i = 0; i < 50; ++i) {
    const int32_t t = sampled.sample(l.data(), 4, {});
    EXPECT_TRUE(t != 1 && t != 2) << "banned token " << t << " was drawn";
  }
}

}  // namespace
}  // namespace dawn

namespace dawn {
namespace {

// With no top-k, top-p or min-p the whole vocabulary is drawn from unsorted: still the softmax.
TEST(SamplerChain, UnsortedDrawFollowsTheSoftmax) {
  const std::vector<float> l = {0.0f, 1.0f, 2.0f, 3.0f, -1.0f};
  SamplerParams p;
  p.temp = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 17;
  Sampler s(p);
  std::vector<int> count(l.size(), 0);
  const int n = 40000;
  for (int i = 0; i < n; ++i) ++count[size_t(s.sample(l.data(), int(l.size()), {}))];
  double z = 0;
  for (float x : l) z += std::exp(double(x));
  for (size_t i = 0; i < l.size(); ++i) EXPECT_NEAR(double(count[i]) / n, std::exp(double(l[i])) / z, 0.01) << i;
}

}  // namespace
}  // namespace dawn
