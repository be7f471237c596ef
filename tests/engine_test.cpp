// The multi-sequence engine: batching does not change answers, the prefix cache reuses KV
// without changing output, a full pool makes requests wait, cancelled requests free their slot.
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "engine/generate.h"
#include "engine/kv_cache.h"
#include "synth_files.h"
#include "util/error.h"

namespace dawn {
namespace {

const std::string kShipped = std::string(DAWN_MODELS) + "/dawn-brown-v3.gguf";

std::string synth_file(const std::string& preset) { return synth_test_file(preset, 11); }

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<std::vector<std::pair<int32_t, float>>> top2;  // per generated token
  RequestResult result;
};

Request greedy_request(const std::vector<int32_t>& prompt, int n, Outcome* out) {
  Request r;
  r.prompt = prompt;
  r.gen.n_predict = n;
  r.gen.sampling.temp = 0;
  r.logprobs = 2;
  r.on_token = [out](const TokenOut& t) {
    if (!t.eog) out->tokens.push_back(t.id);
    out->top2.push_back(t.top);
  };
  r.on_done = [out](const RequestResult& res) { out->result = res; };
  return r;
}

std::vector<std::vector<int32_t>> random_prompts(int n, int n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<int32_t>> out;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> p(size_t(5 + rng() % 60));
    for (int32_t& t : p) t = int32_t(3 + rng() % uint32_t(n_vocab - 3));
    out.push_back(p);
  }
  return out;
}

// 16 different greedy requests at once give what each gives alone: the same tokens, or where
// they first differ, a near tie (the two top logits of the lone run within 1e-3: the batched
// products round differently).
void expect_batching_keeps_answers(const std::string& path) {
  auto m = load_model(path);
  Vocab v(*m->file);
  const int n_gen = 24;
  const auto prompts = random_prompts(16, m->hp.n_vocab, 5);
  EngineOptions o;
  o.n_threads = 2;
  o.n_slots = 16;
  o.pool_tokens = 16 * 96;
  o.max_ctx = 96;
  o.batch_tokens = 48;  // prompts arrive in chunks beside other sequences' decode tokens
  o.prefix_cache_bytes = 0;
  std::vector<Outcome> alone(prompts.size()), together(prompts.size());
  {
    EngineOptions one = o;
    one.n_slots = 1;
    Engine e(*m, v, one);
    for (size_t i = 0; i < prompts.size(); ++i) {
      e.submit(greedy_request(prompts[i], n_gen, &alone[i]));
      e.run_until_idle();
    }
  }
  Engine e(*m, v, o);
  for (size_t i = 0; i < prompts.size(); ++i) e.submit(greedy_request(prompts[i], n_gen, &together[i]));
  e.run_until_idle();
  int identical = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Outcome &a = alone[i], &b = together[i];
    ASSERT_EQ(a.result.finish_reason.empty(), false) << i;
    EXPECT_EQ(a.result.finish_reason, b.result.finish_reason) << i;
    size_t k = 0;
    while (k < a.tokens.size() && k < b.tokens.size() && a.tokens[k] == b.tokens[k]) ++k;
    if (k == a.tokens.size() && k == b.tokens.size()) {
      ++identical;
      continue;
    }
    ASSERT_LT(k, a.top2.size()) << path << " request " << i;
    ASSERT_EQ(a.top2[k].size(), 2u);
    const float gap = a.top2[k][0].second - a.top2[k][1].second;
    EXPECT_LE(gap, 1e-3f) << path << " request " << i << " first differs at token " << k << " where the lone run's top two are "
                          << gap << " apart";
  }
  std::printf("[engine] %s: %d of %zu batched requests token for token the same as alone\n", path.c_str(), identical,
              prompts.size());
  EXPECT_GE(identical, 8);
}

TEST(Engine, BatchingKeepsAnswersShippedModel) { expect_batching_keeps_answers(kShipped); }
TEST(Engine, BatchingKeepsAnswersDeepseek2) { expect_batching_keeps_answers(synth_file("tiny-deepseek-v3")); }
TEST(Engine, BatchingKeepsAnswersQwen2) { expect_batching_keeps_answers(synth_file("tiny-qwen2")); }

// The engine alone gives what the CLI's generate() over a Session gives: same tokens, same end.
TEST(Engine, OneRequestMatchesGenerate) {
  auto m = load_model(kShipped);
  Vocab v(*m->file);
  const std::vector<int32_t> prompt = v.encode("The old man said that", true);
  GenerateParams p;
  p.n_predict = 40;
  p.sampling.seed = 3;
  p.sampling.temp = 0.9f;
  Session s(*m, 256, 2, KvType::F16);
  const GenerateResult want = generate(s, v, prompt, p, [](const std::string&) {});
  EngineOptions o;
  o.n_threads = 2;
  o.n_slots = 2;
  o.pool_tokens = 256;
  Engine e(*m, v, o);
  Request r;
  r.prompt = prompt;
  r.gen = p;
  RequestResult got;
  r.on_done = [&](const RequestResult& res) { got = res; };
  e.submit(r);
  e.run_until_idle();
  EXPECT_EQ(got.tokens, want.tokens);
  EXPECT_EQ(got.finish_reason, "length");
  EXPECT_EQ(got.prompt_tokens, int(prompt.size()));
}

// A second request sharing a 200-token prefix reuses its KV and answers as with the cache off.
TEST(Engine, PrefixCacheReusesSharedPrefix) {
  auto m = load_model(synth_file("tiny-deepseek-v3"));
  Vocab v(*m->file);
  auto shared = random_prompts(1, m->hp.n_vocab, 9)[0];
  std::mt19937 rng(4);
  while (shared.size() < 200) shared.push_back(int32_t(3 + rng() % uint32_t(m->hp.n_vocab - 3)));
  std::vector<int32_t> first = shared, second = shared;
  for (int i = 0; i < 7; ++i) first.push_back(int32_t(10 + i));
  for (int i = 0; i < 5; ++i) second.push_back(int32_t(40 + i));
  const auto run = [&](size_t cache_bytes, Outcome* a, Outcome* b) {
    EngineOptions o;
    o.n_threads = 2;
    o.n_slots = 2;
    o.pool_tokens = 512;
    o.prefix_cache_bytes = cache_bytes;
    Engine e(*m, v, o);
    e.submit(greedy_request(first, 8, a));
    e.run_until_idle();
    e.submit(greedy_request(second, 8, b));
    e.run_until_idle();
  };
  Outcome on1, on2, off1, off2;
  run(64 << 20, &on1, &on2);
  run(0, &off1, &off2);
  EXPECT_EQ(on1.result.cached_tokens, 0);
  EXPECT_GE(on2.result.cached_tokens, 200);
  EXPECT_EQ(off2.result.cached_tokens, 0);
  EXPECT_EQ(on2.tokens, off2.tokens);
  EXPECT_EQ(on1.tokens, off1.tokens);
  // The same prompt again: all but its last token come from the cache.
  Outcome again;
  EngineOptions o;
  o.n_threads = 2;
  o.pool_tokens = 512;
  Engine e(*m, v, o);
  Outcome warm;
  e.submit(greedy_request(second, 8, &warm));
  e.run_until_idle();
  e.submit(greedy_request(second, 8, &again));
  e.run_until_idle();
  EXPECT_EQ(again.result.cached_tokens, int(second.size()) - 1);
  EXPECT_EQ(again.tokens, warm.tokens);
}

// The cache is head-major (each KV head's rows contiguous): every head's rows are its own, and
// save() then load() into another sequence brings back each head's rows, also from a buffer
// saved with more positions than are loaded.
TEST(KvCacheLayout, EachHeadsRowsSurviveSaveAndLoad) {
  auto m = load_model(synth_file("tiny-qwen2"));
  ASSERT_GT(m->hp.n_head_kv, 1);
  for (const KvType type : {KvType::F32, KvType::F16, KvType::Q8_0}) {
    KvCache c(*m, 64, 3, type);
    const auto src = c.view(0), dst = c.view(1), part = c.view(2);
    ASSERT_EQ(src[0].heads, m->hp.n_head_kv);
    const int64_t dk = m->hp.head_dim_k, dv = m->hp.head_dim_v;
    std::mt19937 rng(5);
    std::normal_distribution<float> dist;
    std::vector<float> row(size_t(std::max(dk, dv)));
    constexpr int n = 40;
    for (const LayerKv& l : src) {
      for (int g = 0; g < l.heads; ++g) {
        for (int p = 0; p < n; ++p) {
          for (float& x : row) x = dist(rng);
          kv_store(l.k_head(g), p, row.data(), dk);
          for (float& x : row) x = dist(rng);
          kv_store(l.v_head(g), p, row.data(), dv);
        }
      }
    }
    std::vector<uint8_t> buf(n * c.bytes_per_token());
    c.save(0, n, buf.data());
    c.load(1, n, buf.data(), n);
    c.load(2, 25, buf.data(), n);
    const size_t kb = kv_bytes(type, dk), vb = kv_bytes(type, dv);
    for (size_t l = 0; l < src.size(); ++l) {
      for (int g = 0; g < src[l].heads; ++g) {
        // Heads do not share rows: head g's rows differ from head 0's.
        if (g > 0) {
          EXPECT_NE(0, std::memcmp(src[l].k_head(g).row(0), src[l].k_head(0).row(0), kb));
        }
        for (int p = 0; p < n; ++p) {
          EXPECT_EQ(0, std::memcmp(dst[l].k_head(g).row(p), src[l].k_head(g).row(p), kb)) << l << " " << g << " " << p;
          EXPECT_EQ(0, std::memcmp(dst[l].v_head(g).row(p), src[l].v_head(g).row(p), vb)) << l << " " << g << " " << p;
          if (p < 25) {
            EXPECT_EQ(0, std::memcmp(part[l].k_head(g).row(p), src[l].k_head(g).row(p), kb));
            EXPECT_EQ(0, std::memcmp(part[l].v_head(g).row(p), src[l].v_head(g).row(p), vb));
          }
        }
      }
    }
  }
}

// A pool smaller than the requests' total: later ones wait for room and none is corrupted.
TEST(Engine, FullPoolMakesRequestsWait) {
  auto m = load_model(synth_file("tiny-qwen2"));
  Vocab v(*m->file);
  const auto prompts = random_prompts(6, m->hp.n_vocab, 21);
  std::vector<Outcome> alone(prompts.size()), squeezed(prompts.size());
  EngineOptions o;
  o.n_threads = 2;
  o.n_slots = 6;
  o.pool_tokens = 160;  // room for about two of them at once
  o.max_ctx = 96;
  o.prefix_cache_bytes = 0;
  {
    Engine e(*m, v, o);
    for (size_t i = 0; i < prompts.size(); ++i) {
      e.submit(greedy_request(prompts[i], 16, &alone[i]));
      e.run_until_idle();
    }
  }
  Engine e(*m, v, o);
  for (size_t i = 0; i < prompts.size(); ++i) e.submit(greedy_request(prompts[i], 16, &squeezed[i]));
  int max_running = 0, max_used = 0;
  while (e.step()) {
    max_running = std::max(max_running, e.stats().running);
    max_used = std::max(max_used, e.stats().kv_used_tokens);
  }
  e.run_until_idle();
  EXPECT_LT(max_running, 6);  // some waited
  EXPECT_GT(max_running, 1);
  EXPECT_LE(max_used, 160);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(squeezed[i].result.finish_reason, "length") << i;
    EXPECT_EQ(squeezed[i].tokens.size(), 16u) << i;
  }
  EXPECT_EQ(e.stats().kv_used_tokens, 0);
  EXPECT_EQ(e.stats().running, 0);
}

TEST(Engine, CancelFreesTheSlotAndBadRequestsAreRefused) {
  auto m = load_model(synth_file("tiny-qwen2"));
  Vocab v(*m->file);
  EngineOptions o;
  o.n_threads = 2;
  o.n_slots = 1;
  o.pool_tokens = 64;
  Engine e(*m, v, o);
  Outcome a, b;
  const uint64_t id = e.submit(greedy_request({5, 6, 7}, 50, &a));
  e.submit(greedy_request({8, 9}, 4, &b));
  for (int i = 0; i < 5; ++i) e.step();
  e.cancel(id);
  e.run_until_idle();
  EXPECT_EQ(a.result.finish_reason, "cancelled");
  EXPECT_LT(a.tokens.size(), 50u);
  EXPECT_EQ(b.result.finish_reason, "length");
  EXPECT_EQ(b.tokens.size(), 4u);
  Outcome c;
  EXPECT_THROW(e.submit(greedy_request({}, 4, &c)), Error);
  EXPECT_THROW(e.submit(greedy_request({1, m->hp.n_vocab}, 4, &c)), Error);
  try {
    e.submit(greedy_request(std::vector<int32_t>(64, 5), 4, &c));
    ADD_FAILURE() << "a prompt as long as the context was accepted";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("context"), std::string::npos) << err.what();
  }
  // Running out of context ends a request with "length" at the context's last position.
  Outcome d;
  e.submit(greedy_request(std::vector<int32_t>(60, 5), -1, &d));
  e.run_until_idle();
  EXPECT_EQ(d.result.finish_reason, "length");
  EXPECT_EQ(d.tokens.size(), 5u);  // fed at positions 60..63, the fifth sampled after the last
}

}  // namespace
}  // namespace dawn
