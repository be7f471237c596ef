// Speculative decoding: with the MTP layer or prompt lookup drafting, the output is the one plain
// decoding gives (greedy, and sampled with the same seed), missed drafts leave the cache as if never
// seen, and the shipped reasoning model's MTP layer guesses well (its forward is right). One thread
// each: CTest runs two tests at once on two cores, and two spinning pools slow each other ~20x.
#include "engine/speculative.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include "engine/generate.h"
#include "synth_files.h"
#include "text/vocab.h"
#include "util/error.h"

namespace dawn {
namespace {

const std::string kR1 = std::string(DAWN_MODELS) + "/dawn-r1-tiny.gguf";

std::string synth_file(const std::string& preset, int n_nextn = 0) { return synth_test_file(preset, 23, n_nextn); }

struct Drafted {
  GenerateResult r;
  DraftStats stats;
};

Drafted run(const Model& m, const Vocab& v, const std::vector<int32_t>& prompt, const GenerateParams& p,
        const DraftParams& d, int n_ctx = 512) {
  Session s(m, n_ctx, 1, KvType::F32, d.kind == DraftKind::Mtp);
  DraftParams dp = d;
  const auto draft_model = d.kind == DraftKind::Model ? open_draft_model(dp, s, v, KvType::F32) : nullptr;
  Drafted out;
  out.r = generate_with_draft(s, v, prompt, p, dp, [](const std::string&) {}, &out.stats);
  return out;
}

// The two runs give the same tokens, or part where the plain run's top two logits tie to within
// 1e-3 (the batched check rounds its products differently from one token at a time).
void expect_same_or_tie(const Model& m, const std::vector<int32_t>& prompt, const GenerateResult& plain,
                        const GenerateResult& drafted, const std::string& what) {
  size_t k = 0;
  while (k < plain.tokens.size() && k < drafted.tokens.size() && plain.tokens[k] == drafted.tokens[k]) ++k;
  if (k == plain.tokens.size() && k == drafted.tokens.size()) {
    EXPECT_EQ(plain.stop_reason, drafted.stop_reason) << what;
    return;
  }
  ASSERT_LT(k, plain.tokens.size()) << what << ": the drafted run is longer";
  Session s(m, 1024, 1);
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), plain.tokens.begin(), plain.tokens.begin() + long(k));
  const float* l = s.eval(seq.data(), int(seq.size()));
  std::vector<float> sorted(l, l + m.hp.n_vocab);
  std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
  EXPECT_LE(sorted[0] - sorted[1], 1e-3f) << what << ": first differs at token " << k << " where the top two are "
                                          << sorted[0] - sorted[1] << " apart";
}

// A random prompt that repeats itself, so that prompt lookup has matches to propose.
std::vector<int32_t> repeating_prompt(int n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> unit(size_t(6 + rng() % 10));
  for (int32_t& t : unit) t = int32_t(3 + rng() % uint32_t(n_vocab - 3));
  std::vector<int32_t> p;
  for (int i = 0; i < 3; ++i) p.insert(p.end(), unit.begin(), unit.end());
  return p;
}

GenerateParams greedy(int n) {
  GenerateParams p;
  p.n_predict = n;
  p.sampling.temp = 0;
  return p;
}

TEST(Speculative, NgramDraftProposesWhatFollowedTheLatestMatch) {
  std::vector<int32_t> out;
  ngram_draft({1, 2, 3, 9, 1, 2, 3, 7, 8, 1, 2, 3}, 3, 4, &out);
  EXPECT_EQ(out, (std::vector<int32_t>{7, 8, 1, 2}));  // the later of the two matches of 1 2 3
  ngram_draft({5, 6, 7, 5, 6, 4, 6}, 3, 2, &out);
  EXPECT_EQ(out, (std::vector<int32_t>{4, 6}));  // no 3- or 2-token match: the latest 6 before
  ngram_draft({1, 2, 3}, 3, 4, &out);
  EXPECT_TRUE(out.empty());
  ngram_draft({4, 4}, 3, 4, &out);
  EXPECT_EQ(out, (std::vector<int32_t>{4}));  // what follows may run into the suffix itself
}

TEST(Speculative, DraftCountsAndNames) {
  EXPECT_EQ(draft_count({DraftKind::Mtp, 0}, "x"), 1);
  EXPECT_EQ(draft_count({DraftKind::Ngram, 0}, "x"), 4);
  EXPECT_EQ(draft_count({DraftKind::Ngram, 7}, "x"), 7);
  EXPECT_EQ(draft_count({DraftKind::Mtp, 3}, "x"), 3);  // chained
  EXPECT_THROW(draft_count({DraftKind::Mtp, 17}, "--draft-n"), Error);
  EXPECT_THROW(draft_count({DraftKind::Ngram, 17}, "--draft-n"), Error);
  EXPECT_THROW(parse_draft_kind("eagle", "--draft"), Error);
  EXPECT_EQ(parse_draft_kind("mtp", "--draft"), DraftKind::Mtp);
}

TEST(Speculative, MtpNeedsAnMtpLayer) {
  auto m = load_model(synth_file("tiny-qwen2"));
  try {
    Session s(*m, 64, 1, KvType::F32, true);
    FAIL() << "a session with MTP on a model without it";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no MTP layer"), std::string::npos) << e.what();
  }
}

// Random weights: the drafts are almost all missed, so every step rewinds the cache.
TEST(Speculative, GreedyOutputUnchangedOnEveryArchitecture) {
  for (const std::string preset : {"tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-deepseek-v3",
                                   "tiny-deepseek-v2-lite", "tiny-deepseek-legacy"}) {
    const bool v3 = preset == "tiny-deepseek-v3";
    auto m = load_model(synth_file(preset, v3 ? 1 : 0));
    Vocab v(*m->file);
    std::vector<DraftParams> drafts = {{DraftKind::Ngram, 4}, {DraftKind::Ngram, 1}};
    if (v3) drafts.push_back({DraftKind::Mtp, 1}), drafts.push_back({DraftKind::Mtp, 3});
    std::vector<DraftStats> stats(drafts.size());
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      const auto prompt = repeating_prompt(m->hp.n_vocab, seed);
      const Drafted plain = run(*m, v, prompt, greedy(40), {});
      for (size_t i = 0; i < drafts.size(); ++i) {
        const DraftParams& d = drafts[i];
        const Drafted spec = run(*m, v, prompt, greedy(40), d);
        expect_same_or_tie(*m, prompt, plain.r, spec.r,
                           preset + " seed " + std::to_string(seed) + " " + draft_kind_name(d.kind) + " " +
                               std::to_string(d.n_draft));
        stats[i].add(spec.stats);
      }
    }
    // Over the three prompts (a random model may end a reply at once, or never repeat a token).
    for (size_t i = 0; i < drafts.size(); ++i) {
      const std::string what = preset + " " + draft_kind_name(drafts[i].kind) + " " + std::to_string(drafts[i].n_draft);
      EXPECT_GT(stats[i].drafted, 0) << what;
      EXPECT_LT(stats[i].accepted, stats[i].drafted) << what << ": no draft was ever missed";
    }
  }
}

// The trained model: its MTP layer (trained jointly) guesses the token after next well, which it
// cannot unless forward_mtp computes what training did; the output stays the plain run's.
TEST(Speculative, ShippedReasoningModelMtpGuessesWellAndKeepsTheOutput) {
  auto m = load_model(kR1);
  ASSERT_FALSE(m->mtp_layers.empty());
  Vocab v(*m->file);
  const char* questions[] = {"What is 347 + 589?", "Convert 7 hours to minutes.", "Hello!",
                             "Give me a JSON object for a person with name \"Rosa\", age 31."};
  DraftStats all, chain;
  for (const char* q : questions) {
    const std::string text = std::string("<｜begin▁of▁sentence｜><｜User｜>") + q + "<｜Assistant｜><think>\n";
    const auto prompt = v.encode(text, false, true);
    const Drafted plain = run(*m, v, prompt, greedy(200), {});
    const Drafted mtp = run(*m, v, prompt, greedy(200), {DraftKind::Mtp, 1});
    const Drafted chained = run(*m, v, prompt, greedy(200), {DraftKind::Mtp, 3});
    const Drafted ngram = run(*m, v, prompt, greedy(200), {DraftKind::Ngram, 4});
    expect_same_or_tie(*m, prompt, plain.r, mtp.r, std::string(q) + " mtp");
    expect_same_or_tie(*m, prompt, plain.r, chained.r, std::string(q) + " mtp chained");
    expect_same_or_tie(*m, prompt, plain.r, ngram.r, std::string(q) + " ngram");
    all.add(mtp.stats);
    chain.add(chained.stats);
  }
  std::printf("[speculative] dawn-r1-tiny mtp: %lld of %lld drafts accepted (%.3f); chained 3: %lld of %lld (%.3f, "
              "%.2f per step)\n",
              (long long)all.accepted, (long long)all.drafted, all.acceptance_rate(), (long long)chain.accepted,
              (long long)chain.drafted, chain.acceptance_rate(), chain.accepted_per_step());
  EXPECT_GE(all.acceptance_rate(), 0.8);
  // Chained on its own state, the layer (trained one token ahead only) still guesses the next ones
  // well: 2.29 tokens kept a step (fed the trunk's state instead of its own: 1.61).
  EXPECT_GE(chain.accepted_per_step(), 2.0);
}

// Sampling: each kept token is drawn by the same sampler from the same logits, so one seed gives
// one output with or without drafts.
TEST(Speculative, SampledOutputUnchangedForASeed) {
  auto m = load_model(kR1);
  Vocab v(*m->file);
  const auto prompt = v.encode("<｜begin▁of▁sentence｜><｜User｜>What is 58 + 67?<｜Assistant｜><think>\n", false, true);
  for (uint64_t seed : {1u, 2u, 3u}) {
    GenerateParams p;
    p.n_predict = 120;
    p.sampling.temp = 1.0f;
    p.sampling.top_p = 0.95f;
    p.sampling.seed = seed;
    const Drafted plain = run(*m, v, prompt, p, {});
    for (const DraftParams& d : {DraftParams{DraftKind::Mtp, 1}, DraftParams{DraftKind::Ngram, 4}}) {
      const Drafted spec = run(*m, v, prompt, p, d);
      EXPECT_EQ(plain.r.tokens, spec.r.tokens) << "seed " << seed << " " << draft_kind_name(d.kind);
    }
  }
}

// The distribution itself: 10,000 samples of three tokens drafted by the shipped model's MTP layer
// (top-3 at temperature 1, so 27 outcomes; English after "The", where the model is unsure) against
// the exact probabilities, enumerated from plain passes; chi-square, cells under 5 expected pooled.
// The drafts are both kept (when the sample is the guess) and missed here.
TEST(Speculative, SampledDistributionIsTheModels) {
  auto m = load_model(kR1);
  Vocab v(*m->file);
  const auto prompt = v.encode("<｜begin▁of▁sentence｜>The", false, true);
  GenerateParams p;
  p.n_predict = 3;
  p.sampling.temp = 1.0f;
  p.sampling.top_k = 3;
  p.sampling.top_p = 1.0f;
  p.sampling.min_p = 0.0f;
  // Exact: each prefix's top three and their softmax.
  Session plain(*m, 128, 1);
  std::map<std::vector<int32_t>, double> exact;
  const auto top3 = [&](const std::vector<int32_t>& seq) {
    plain.reset();
    const float* l = plain.eval(seq.data(), int(seq.size()));
    std::vector<int32_t> ids(size_t(m->hp.n_vocab));
    for (int i = 0; i < m->hp.n_vocab; ++i) ids[size_t(i)] = i;
    std::partial_sort(ids.begin(), ids.begin() + 3, ids.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
    std::vector<std::pair<int32_t, double>> out;
    double z = 0;
    for (int i = 0; i < 3; ++i) z += std::exp(double(l[ids[size_t(i)]] - l[ids[0]]));
    for (int i = 0; i < 3; ++i) out.push_back({ids[size_t(i)], std::exp(double(l[ids[size_t(i)]] - l[ids[0]])) / z});
    return out;
  };
  for (const auto& [a, pa] : top3(prompt)) {
    std::vector<int32_t> s1 = prompt;
    s1.push_back(a);
    for (const auto& [b, pb] : top3(s1)) {
      std::vector<int32_t> s2 = s1;
      s2.push_back(b);
      for (const auto& [c, pc] : top3(s2)) exact[{a, b, c}] = pa * pb * pc;
    }
  }
  {
    const DraftParams d{DraftKind::Mtp, 1};
    Session s(*m, 128, 1, KvType::F32, true);
    std::map<std::vector<int32_t>, int> seen;
    DraftStats st;
#ifdef DAWN_SANITIZED
    const int n = 2500;  // ASan/UBSan: the same check at a quarter of the samples
#else
    const int n = 10000;
#endif
    for (int i = 0; i < n; ++i) {
      s.reset();
      p.sampling.seed = uint64_t(i) + 1;
      ++seen[generate_with_draft(s, v, prompt, p, d, [](const std::string&) {}, &st).tokens];
    }
    double chi2 = 0, pooled_e = 0, pooled_o = 0;
    int cells = 0, total = 0;
    for (const auto& [seq, pr] : exact) {
      const double e = pr * n;
      const int o = seen.count(seq) ? seen[seq] : 0;
      total += o;
      if (e < 5) {
        pooled_e += e;
        pooled_o += o;
        continue;
      }
      chi2 += (o - e) * (o - e) / e;
      ++cells;
    }
    if (pooled_e > 0) {
      chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
      ++cells;
    }
    EXPECT_EQ(total, n) << "samples outside the top-3 tree";
    ASSERT_GE(cells, 6);
    // The 0.999 quantile of chi-square with cells - 1 degrees of freedom (Wilson-Hilferty).
    const double k = cells - 1, z = 3.09;
    const double crit = k * std::pow(1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k)), 3);
    std::printf("[speculative] %s: chi-square %.1f over %d cells (0.999 bound %.1f), %lld of %lld drafts kept\n",
                draft_kind_name(d.kind), chi2, cells, crit, (long long)st.accepted, (long long)st.drafted);
    EXPECT_LT(chi2, crit) << draft_kind_name(d.kind);
    EXPECT_GT(st.accepted, 0) << "no draft kept: the drafted path is not under test";
    EXPECT_LT(st.accepted, st.drafted);
  }
}

// After a drafted generation full of misses, the next token's logits are those of a cache that
// only ever saw the kept tokens.
TEST(Speculative, MissedDraftsLeaveTheCacheAsIfNeverSeen) {
  auto m = load_model(synth_file("tiny-deepseek-v3", 1));
  Vocab v(*m->file);
  const auto prompt = repeating_prompt(m->hp.n_vocab, 9);
  for (const DraftParams& d : {DraftParams{DraftKind::Mtp, 1}, DraftParams{DraftKind::Ngram, 4}}) {
    Session s(*m, 256, 1, KvType::F32, d.kind == DraftKind::Mtp);
    DraftStats st;
    const GenerateResult r = generate_with_draft(s, v, prompt, greedy(48), d, [](const std::string&) {}, &st);
    ASSERT_LT(st.accepted, st.drafted);
    // The cache holds the prompt and the kept tokens but the last (generation stops before it is
    // evaluated); a probe token then reads all of it.
    std::vector<int32_t> seq = prompt;
    seq.insert(seq.end(), r.tokens.begin(), r.tokens.end());
    ASSERT_GE(int64_t(seq.size()), s.pos());
    seq.resize(size_t(s.pos()));
    const int32_t probe = 7;
    const float* got = s.eval(&probe, 1);
    std::vector<float> a(got, got + m->hp.n_vocab);
    Session fresh(*m, 256, 1);
    seq.push_back(probe);
    const float* want = fresh.eval(seq.data(), int(seq.size()));
    float worst = 0, scale = 0;
    for (int i = 0; i < m->hp.n_vocab; ++i) {
      worst = std::max(worst, std::fabs(a[size_t(i)] - want[i]));
      scale = std::max(scale, std::fabs(want[i]));
    }
    EXPECT_LE(worst, 1e-4f * scale) << draft_kind_name(d.kind) << ": the rewound cache changed the logits";
  }
}

// A context that fills mid-draft: the drafted run stops where the plain one does.
TEST(Speculative, StopsAtTheContextLikePlainDecoding) {
  auto m = load_model(synth_file("tiny-deepseek-v3", 1));
  Vocab v(*m->file);
  const auto prompt = repeating_prompt(m->hp.n_vocab, 4);
  const int n_ctx = int(prompt.size()) + 13;
  const Drafted plain = run(*m, v, prompt, greedy(-1), {}, n_ctx);
  for (const DraftParams& d : {DraftParams{DraftKind::Mtp, 1}, DraftParams{DraftKind::Ngram, 4}}) {
    const Drafted spec = run(*m, v, prompt, greedy(-1), d, n_ctx);
    EXPECT_EQ(plain.r.stop_reason, "context");
    expect_same_or_tie(*m, prompt, plain.r, spec.r, draft_kind_name(d.kind));
  }
}

DraftParams draft_model(const std::string& path, int n) {
  DraftParams d;
  d.kind = DraftKind::Model;
  d.model_path = path;
  d.n_draft = n;
  return d;
}

// A draft model with the trunk's vocabulary: a random one of another architecture (its drafts
// almost all missed) and the trunk itself (its greedy continuation is the trunk's: every draft kept
// unless its cache is out of step with the trunk's), several draft lengths.
TEST(Speculative, DraftModelKeepsTheOutput) {
  // (Synthetic files share their vocabulary within an architecture: special tokens differ across.)
  const std::string trunk = synth_file("tiny-deepseek-v3", 0), other = synth_file("tiny-deepseek-v2-lite");
  auto m = load_model(trunk);
  Vocab v(*m->file);
  for (const int n : {1, 3, 5}) {
    DraftStats self, random;
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      const auto prompt = repeating_prompt(m->hp.n_vocab, seed);
      const Drafted plain = run(*m, v, prompt, greedy(40), {});
      const Drafted a = run(*m, v, prompt, greedy(40), draft_model(other, n));
      const Drafted b = run(*m, v, prompt, greedy(40), draft_model(trunk, n));
      expect_same_or_tie(*m, prompt, plain.r, a.r, "tiny-deepseek-v2-lite drafting, n " + std::to_string(n));
      expect_same_or_tie(*m, prompt, plain.r, b.r, "itself drafting, n " + std::to_string(n));
      random.add(a.stats);
      self.add(b.stats);
    }
    EXPECT_GT(random.drafted, 0);
    EXPECT_LT(random.accepted, random.drafted) << "n " << n << ": no draft of a random model was missed";
    // All but each reply's last step's (drafts past max tokens are not kept).
    EXPECT_GE(self.accepted, self.drafted - 3 * n) << "n " << n << ": the trunk drafting for itself, " << self.accepted
                                                  << " of " << self.drafted << " kept";
  }
}

// Two turns on the same sessions (as dawn chat runs them): the draft model's cache follows the
// trunk's into the second turn, so drafting for itself still keeps every draft, and a sampled
// reply is the plain one for its seed.
TEST(Speculative, DraftModelFollowsTheTrunkAcrossTurns) {
  auto m = load_model(kR1);
  Vocab v(*m->file);
  const auto turn1 = v.encode("<｜begin▁of▁sentence｜><｜User｜>What is 58 + 67?<｜Assistant｜><think>\n", false, true);
  const auto turn2 = v.encode("<｜end▁of▁sentence｜><｜User｜>Hello!<｜Assistant｜><think>\n", false, true);
  GenerateParams p = greedy(60);
  Session plain(*m, 512, 1), s(*m, 512, 1);
  DraftParams d = draft_model(kR1, 3);
  const auto dm = open_draft_model(d, s, v, KvType::F32);
  for (const auto* turn : {&turn1, &turn2}) {
    const GenerateResult want = generate(plain, v, *turn, p, [](const std::string&) {});
    DraftStats st;
    const GenerateResult got = generate_with_draft(s, v, *turn, p, d, [](const std::string&) {}, &st);
    EXPECT_EQ(want.tokens, got.tokens);
    EXPECT_EQ(s.pos(), plain.pos());
    EXPECT_EQ(d.model->pos(), s.pos()) << "the draft model's cache is out of step after a turn";
    // All but the last step's: its drafts past the reply's end are not kept.
    EXPECT_GE(st.accepted, st.drafted - d.n_draft) << st.accepted << " of " << st.drafted << " kept";
  }
  p.sampling.temp = 1.0f;
  p.sampling.seed = 5;
  const auto prompt = v.encode("<｜begin▁of▁sentence｜>The", false, true);
  const Drafted a = run(*m, v, prompt, p, {}), b = run(*m, v, prompt, p, draft_model(kR1, 4));
  EXPECT_EQ(a.r.tokens, b.r.tokens);
}

TEST(Speculative, DraftModelNeedsTheVocabulary) {
  auto m = load_model(kR1);
  Vocab v(*m->file);
  Session s(*m, 64, 1);
  DraftParams d = draft_model(std::string(DAWN_MODELS) + "/dawn-brown-v3.gguf", 2);
  try {
    open_draft_model(d, s, v, KvType::F32);
    FAIL() << "a draft model with another vocabulary was opened";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dawn-brown-v3.gguf: token 2 is \"\\x00\" in the draft model but \"<｜User｜>\""),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(generate_with_draft(s, v, {1, 2}, greedy(2), {DraftKind::Model, 2}, [](const std::string&) {}), Error);
}

}  // namespace
}  // namespace dawn
