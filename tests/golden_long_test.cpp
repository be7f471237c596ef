// dawn against llama.cpp at long context (#24): 2400-token prompts on a deepseek2 (MLA) and a qwen2
// (GQA) model with YaRN over a 256-token original context, so ~2150 positions lie past it and the
// cache spans ~10 tiles of the tiled attention (split-K in the decode steps). The goldens keep the
// oracle's rows at every 8th position; the bounds are the 300-token cases' own.
#include <gtest/gtest.h>

#include "golden_cases.h"

namespace dawn {
namespace {

using namespace golden;

class GoldenLongTest : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenLongTest, MatchesLlamaCppPastYarnOriginalContext) {
  const Case& c = GetParam();
  ASSERT_GE(c.tokens.size(), 2048u + 256u) << "a long case reaches 2048 positions past the original context";
  ASSERT_EQ(c.sha256.size(), 64u) << "the manifest pins no model file for " << c.name;
  const std::vector<float> all = eval_case(c);
  ASSERT_FALSE(all.empty());
  const int n_vocab = int(all.size() / c.tokens.size());
  const std::vector<float> mapped = strided_rows(all, n_vocab, c.stride);
  const int n = int(mapped.size() / size_t(n_vocab));
  ASSERT_EQ(n, int(c.tokens.size()) / c.stride);
  const std::vector<float> ref = read_golden(c, mapped.size());
  std::printf("[golden] %-28s llama.cpp vs itself: mean %.3e argmax %.1f%%\n", c.name.c_str(), c.self_kl,
              100 * c.self_agree);
  expect_agreement(c, compare(ref, mapped.data(), n, n_vocab), "long");
  // A few tokens at a time: the decode steps' split-K over a cache of up to 2400 rows.
  const std::vector<float> stepped = strided_rows(eval_case(c, {}, WeightLoad::Map, {}, true), n_vocab, c.stride);
  expect_agreement(c, compare(ref, stepped.data(), n, n_vocab), "long steps");
}

INSTANTIATE_TEST_SUITE_P(OracleLong, GoldenLongTest, ::testing::ValuesIn(load_long_manifest()),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

// The long goldens see what the short ones cannot: YaRN's ramp over the original context only
// matters for positions past it, and only the qwen2 case has YaRN on a dense model. Each error must
// break the F32 mean-KL bound a thousandfold.
TEST(GoldenLongSensitivity, CatchesYarnMistakes) {
  Case qwen;
  for (const Case& c : load_long_manifest()) {
    if (c.name == "tiny-qwen2-yarn.f32") qwen = c;
  }
  ASSERT_FALSE(qwen.name.empty()) << "long.txt has no tiny-qwen2-yarn.f32";
  const double tol = bounds_for(qwen).mean_kl;
  const std::vector<std::pair<std::string, std::function<void(Model&)>>> mistakes = {
      {"yarn ramp off (plain linear scaling)", [](Model& m) { m.hp.rope.ext_factor = 0.0f; }},
      {"original context read as 512", [](Model& m) { m.hp.rope.n_ctx_orig = 512; }},
      {"yarn ignored", [](Model& m) { m.hp.rope.ext_factor = 0.0f, m.hp.rope.freq_scale = 1.0f; }},
  };
  for (const auto& [what, tweak] : mistakes) {
    const Agreement a = run_case(qwen, tweak);
    std::printf("[sensitivity] %-40s mean KL %.3e  (%.1ex the bound)\n", what.c_str(), a.mean_kl, a.mean_kl / tol);
    EXPECT_GE(a.mean_kl, 1000 * tol) << what;
  }
}

}  // namespace
}  // namespace dawn
