// Speculative decoding inside the multi-sequence engine (what `dawn serve` runs): requests that
// draft with the MTP layer or by prompt lookup, batched beside plain ones and prompt chunks, give
// what each gives alone without drafts (greedy, and sampled with the same seed); the drafts are
// really made, kept and missed; a drafter the engine cannot run is refused. One thread each: CTest
// runs two tests at once on two cores.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "engine/engine.h"
#include "synth_files.h"
#include "util/error.h"

namespace dawn {
namespace {

const std::string kR1 = std::string(DAWN_MODELS) + "/dawn-r1-tiny.gguf";

std::string synth_file(const std::string& preset, int n_nextn) { return synth_test_file(preset, 29, n_nextn); }

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<std::vector<std::pair<int32_t, float>>> top2;  // per generated token
  RequestResult result;
};

Request request(const std::vector<int32_t>& prompt, const GenerateParams& p, const DraftParams& d, Outcome* out) {
  Request r;
  r.prompt = prompt;
  r.gen = p;
  r.draft = d;
  r.logprobs = 2;
  r.on_token = [out](const TokenOut& t) {
    if (!t.eog) out->tokens.push_back(t.id);
    out->top2.push_back(t.top);
  };
  r.on_done = [out](const RequestResult& res) { out->result = res; };
  return r;
}

GenerateParams greedy(int n) {
  GenerateParams p;
  p.n_predict = n;
  p.sampling.temp = 0;
  return p;
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

EngineOptions options(int n_slots, bool mtp) {
  EngineOptions o;
  o.n_threads = 1;
  o.n_slots = n_slots;
  o.pool_tokens = n_slots * 320;
  o.max_ctx = 320;
  o.batch_tokens = 40;  // prompts arrive in chunks beside other sequences' decode tokens and drafts
  o.prefix_cache_bytes = 0;
  o.mtp = mtp;
  return o;
}

// Each prompt alone, one slot, no drafts: the reference.
std::vector<Outcome> alone(const Model& m, const Vocab& v, const std::vector<std::vector<int32_t>>& prompts,
                           const GenerateParams& p) {
  std::vector<Outcome> out(prompts.size());
  Engine e(m, v, options(1, false));
  for (size_t i = 0; i < prompts.size(); ++i) {
    e.submit(request(prompts[i], p, {}, &out[i]));
    e.run_until_idle();
  }
  return out;
}

// b gives a's tokens, or first differs where a's top two logprobs tie within 1e-3 (the batched
// check rounds its products differently). Returns whether they are the same.
bool same_or_tie(const Outcome& a, const Outcome& b, const std::string& what) {
  EXPECT_FALSE(b.result.finish_reason.empty()) << what << ": never finished";
  size_t k = 0;
  while (k < a.tokens.size() && k < b.tokens.size() && a.tokens[k] == b.tokens[k]) ++k;
  if (k == a.tokens.size() && k == b.tokens.size()) {
    EXPECT_EQ(a.result.finish_reason, b.result.finish_reason) << what;
    return true;
  }
  EXPECT_LT(k, a.top2.size()) << what << ": the drafted run is longer";
  if (k >= a.top2.size() || a.top2[k].size() != 2) return false;
  const float gap = a.top2[k][0].second - a.top2[k][1].second;
  EXPECT_LE(gap, 1e-3f) << what << ": first differs at token " << k << " where the top two are " << gap << " apart";
  return false;
}

// Random weights reject nearly every draft, so almost every step rewinds a sequence.
void expect_drafts_keep_answers(const std::string& path, bool mtp) {
  auto m = load_model(path);
  Vocab v(*m->file);
  std::vector<DraftParams> kinds = {{}, {DraftKind::Ngram, 4}, {DraftKind::Ngram, 1}};
  if (mtp) kinds.push_back({DraftKind::Mtp, 1}), kinds.push_back({DraftKind::Mtp, 3});
  std::vector<std::vector<int32_t>> prompts;  // two per drafter
  for (uint32_t seed = 1; seed <= 2 * kinds.size(); ++seed) prompts.push_back(repeating_prompt(m->hp.n_vocab, seed));
  const auto want = alone(*m, v, prompts, greedy(32));
  Engine e(*m, v, options(4, mtp));  // more requests than slots: later ones start beside running ones
  std::vector<Outcome> got(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) e.submit(request(prompts[i], greedy(32), kinds[i % kinds.size()], &got[i]));
  e.run_until_idle();
  std::map<int, DraftStats> stats;
  int identical = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const DraftParams& d = kinds[i % kinds.size()];
    identical += same_or_tie(want[i], got[i], path + " request " + std::to_string(i) + " " + draft_kind_name(d.kind));
    stats[int(i % kinds.size())].add({got[i].result.drafted > 0 ? 1 : 0, got[i].result.drafted, got[i].result.accepted});
  }
  EXPECT_GE(identical, int(prompts.size()) - 2) << path;
  EXPECT_EQ(stats[0].drafted, 0) << "a request without a drafter drafted";
  for (size_t k = 1; k < kinds.size(); ++k) {
    const std::string what = path + " " + draft_kind_name(kinds[k].kind) + " " + std::to_string(kinds[k].n_draft);
    EXPECT_GT(stats[int(k)].drafted, 0) << what;
    EXPECT_LT(stats[int(k)].accepted, stats[int(k)].drafted) << what << ": no draft was ever missed";
  }
  const EngineStats es = e.stats();
  uint64_t drafted = 0, accepted = 0;
  for (const Outcome& o : got) drafted += uint64_t(o.result.drafted), accepted += uint64_t(o.result.accepted);
  EXPECT_EQ(es.drafted_tokens, drafted);
  EXPECT_EQ(es.accepted_tokens, accepted);
}

TEST(EngineDraft, GreedyAnswersUnchangedDeepseekV3) { expect_drafts_keep_answers(synth_file("tiny-deepseek-v3", 1), true); }
TEST(EngineDraft, GreedyAnswersUnchangedQwen2) { expect_drafts_keep_answers(synth_file("tiny-qwen2", 0), false); }

std::vector<std::vector<int32_t>> questions(const Vocab& v) {
  std::vector<std::vector<int32_t>> out;
  for (const char* q : {"What is 347 + 589?", "Convert 7 hours to minutes.", "Hello!",
                        "Give me a JSON object for a person with name \"Rosa\", age 31."}) {
    out.push_back(v.encode(std::string("<｜begin▁of▁sentence｜><｜User｜>") + q + "<｜Assistant｜><think>\n", false, true));
  }
  return out;
}

// The trained model's MTP layer guesses well in the engine too (its rows, states and positions are
// the right ones), the replies are the plain ones, and a reply cut short by max tokens ends as one.
TEST(EngineDraft, ShippedReasoningModelMtpGuessesWellAndKeepsTheReplies) {
  auto m = load_model(kR1);
  Vocab v(*m->file);
  const auto prompts = questions(v);
  const auto want = alone(*m, v, prompts, greedy(160));
  for (const DraftParams& d : {DraftParams{DraftKind::Mtp, 1}, DraftParams{DraftKind::Mtp, 3}, DraftParams{DraftKind::Ngram, 3}}) {
    Engine e(*m, v, options(4, true));
    std::vector<Outcome> got(prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) e.submit(request(prompts[i], greedy(160), d, &got[i]));
    e.run_until_idle();
    DraftStats st;
    for (size_t i = 0; i < prompts.size(); ++i) {
      same_or_tie(want[i], got[i], std::string("question ") + std::to_string(i) + " " + draft_kind_name(d.kind));
      st.add({1, got[i].result.drafted, got[i].result.accepted});
    }
    std::printf("[engine-draft] dawn-r1-tiny %s %d: %lld of %lld drafts accepted (%.3f)\n", draft_kind_name(d.kind),
                d.n_draft, (long long)st.accepted, (long long)st.drafted, st.acceptance_rate());
    EXPECT_GT(st.drafted, 0);
    if (d.kind == DraftKind::Mtp && d.n_draft == 1) {
      EXPECT_GE(st.acceptance_rate(), 0.8);
    }
  }
  // Short replies: the drafts stop at the request's last position.
  Engine e(*m, v, options(2, true));
  const auto short_want = alone(*m, v, prompts, greedy(5));
  for (size_t i = 0; i < prompts.size(); ++i) {
    Outcome got;
    e.submit(request(prompts[i], greedy(5), {DraftKind::Mtp, 1}, &got));
    e.run_until_idle();
    same_or_tie(short_want[i], got, "short reply " + std::to_string(i));
    EXPECT_EQ(got.result.finish_reason, "length");
    EXPECT_EQ(got.tokens.size(), 5u);
  }
}

// Sampling: each kept token is drawn by the request's sampler from the trunk's logits at its
// position, so a seed gives one reply with or without drafts, several requests at once.
TEST(EngineDraft, SampledRepliesUnchangedForASeed) {
  auto m = load_model(kR1);
  Vocab v(*m->file);
  const auto prompts = questions(v);
  GenerateParams p;
  p.n_predict = 100;
  p.sampling.temp = 1.0f;
  p.sampling.top_p = 0.95f;
  p.sampling.seed = 7;
  const auto want = alone(*m, v, prompts, p);
  for (const DraftParams& d : {DraftParams{DraftKind::Mtp, 1}, DraftParams{DraftKind::Ngram, 4}}) {
    Engine e(*m, v, options(4, true));
    std::vector<Outcome> got(prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) e.submit(request(prompts[i], p, d, &got[i]));
    e.run_until_idle();
    for (size_t i = 0; i < prompts.size(); ++i) {
      EXPECT_EQ(want[i].tokens, got[i].tokens) << "question " << i << " " << draft_kind_name(d.kind);
    }
  }
}

TEST(EngineDraft, DrafterTheEngineCannotRunIsRefused) {
  auto m = load_model(kR1);
  Vocab v(*m->file);
  const auto prompt = questions(v)[0];
  Outcome o;
  Engine plain(*m, v, options(1, false));
  try {
    plain.submit(request(prompt, greedy(4), {DraftKind::Mtp, 1}, &o));
    FAIL() << "an MTP draft without the MTP rows was queued";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--draft mtp"), std::string::npos) << e.what();
  }
  Engine with(*m, v, options(1, true));
  EXPECT_THROW(with.submit(request(prompt, greedy(4), {DraftKind::Mtp, 17}, &o)), Error);
  EXPECT_THROW(with.submit(request(prompt, greedy(4), {DraftKind::Ngram, 17}, &o)), Error);
  EXPECT_EQ(with.stats().waiting, 0);
  auto qwen = load_model(synth_file("tiny-qwen2", 0));
  Vocab qv(*qwen->file);
  try {
    Engine e(*qwen, qv, options(1, true));
    FAIL() << "an engine with MTP rows was made for a model without an MTP layer";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no MTP layer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dawn
