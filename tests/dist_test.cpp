// Pipeline stages in one process: a model loaded as parts (a layer range each; the first with the
// embeddings and head) whose first part reaches the rest through a StageLink gives the whole
// model's logits, with caches that hold only each part's layers; the layer plan balances bytes and
// checks --layers-per-rank; a part copies only its own tensors. The MPI transport is tested end to
// end under mpirun (tests/dist/check.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "dist/plan.h"
#include "engine/engine.h"
#include "engine/kv_cache.h"
#include "engine/session.h"
#include "ops/moe_ffn.h"
#include "synth_files.h"
#include "util/error.h"

namespace dawn {
namespace {

std::string synth_file(const std::string& preset, int n_layer = 0, int n_nextn = 0) {
  return synth_test_file(preset, 31, n_nextn, n_layer);
}

// The later stages in this process: each pass runs them in order on the rows, as the ranks would.
class LocalLink final : public StageLink {
 public:
  explicit LocalLink(std::vector<std::unique_ptr<Model>> parts) : parts_(std::move(parts)) {}
  int stages() const override { return int(parts_.size()) + 1; }
  void pass(int cache, const Batch& b, float* x) {
    ++passes;
    for (size_t i = 0; i < parts_.size(); ++i) {
      const Model& m = *parts_[i];
      const size_t n = size_t(b.size()) * size_t(m.hp.n_embd);
      grow(s_.x, n);
      std::copy(x, x + n, s_.x.data());
      forward_layers(m, caches_.at(cache)[i].second, b, pool_, s_);
      std::copy(s_.x.data(), s_.x.data() + n, x);
    }
  }
  int open_cache(int n_ctx, int n_seq, KvType type) override {
    auto& c = caches_[next_];
    for (const auto& m : parts_) {
      auto kv = std::make_unique<KvCache>(*m, n_ctx, n_seq, type);
      SeqKv rows;
      for (int s = 0; s < n_seq; ++s) rows.seqs.push_back(kv->view(s));
      c.emplace_back(std::move(kv), std::move(rows));
    }
    return next_++;
  }
  void close_cache(int cache) noexcept override { caches_.erase(cache); }
  void release(int cache, int seq) override {
    for (auto& [kv, rows] : caches_.at(cache)) kv->release(seq);
  }
  std::vector<RankStats> rank_stats(bool) override { return {}; }
  void save_prefix(int cache, int seq, int n, int id) override {
    auto& parts = saved_[id];
    parts.clear();
    for (auto& [kv, rows] : caches_.at(cache)) {
      parts.emplace_back(n, std::vector<uint8_t>(size_t(n) * kv->bytes_per_token()));
      kv->save(seq, n, parts.back().second.data());
    }
    ++prefix_ops;
  }
  void load_prefix(int cache, int seq, int n, int id) override {
    auto& parts = saved_.at(id);
    auto& c = caches_.at(cache);
    for (size_t i = 0; i < c.size(); ++i) c[i].first->load(seq, n, parts[i].second.data(), parts[i].first);
    ++prefix_ops;
  }
  void drop_prefix(int id) override { saved_.erase(id); }
  int prefix_ops = 0;
  // Pieces wait until wait_pieces asks for their pass, then run through the later parts in the
  // order sent (as the ranks would): rows read back before then would be stale.
  int pieces(int n_tok) const override { return n_tok >= 6 ? n_pieces : 1; }
  void send_piece(int cache, const Batch& piece, const float* x, float* back, bool last) override {
    const size_t n = size_t(piece.size()) * size_t(parts_[0]->hp.n_embd);
    queue_.push_back({cache, piece, std::vector<float>(x, x + n), back, pass_});
    if (last) ++pass_;
    int64_t oldest = pass_;
    for (const Queued& q : queue_) oldest = std::min(oldest, q.pass);
    max_in_flight = std::max(max_in_flight, int(pass_ - oldest));
    ++sent;
  }
  void wait_pieces(int keep) override {
    while (!queue_.empty() && queue_.front().pass < pass_ - keep) {
      Queued& q = queue_.front();
      pass(q.cache, q.b, q.rows.data());
      std::copy(q.rows.begin(), q.rows.end(), q.back);
      queue_.erase(queue_.begin());
    }
  }
  int max_in_flight = 0;  // passes
  int n_pieces = 1, sent = 0;
  int passes = 0;
  size_t open() const { return caches_.size(); }

 private:
  struct Queued {
    int cache;
    Batch b;
    std::vector<float> rows;
    float* back;
    int64_t pass;
  };
  std::vector<Queued> queue_;
  int64_t pass_ = 0;
  std::map<int, std::vector<std::pair<int, std::vector<uint8_t>>>> saved_;  // per prefix id: each part's rows
  std::vector<std::unique_ptr<Model>> parts_;
  std::map<int, std::vector<std::pair<std::unique_ptr<KvCache>, SeqKv>>> caches_;
  int next_ = 0;
  ThreadPool pool_{1};
  Scratch s_;
};

LoadOptions part(int begin, int end, bool ends, WeightLoad load) {
  LoadOptions o;
  o.layer_begin = begin;
  o.layer_end = end;
  o.ends = ends;
  o.load = load;
  return o;
}

std::vector<int32_t> random_tokens(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = int32_t(rng() % uint32_t(vocab));
  return t;
}

// Logits of a prompt then three single-token steps: prefill and decode both cross the stages.
std::vector<float> run_logits(const Model& m, const std::vector<int32_t>& prompt) {
  Session s(m, 64, 1);
  std::vector<float> out;
  const float* l = s.eval(prompt.data(), int(prompt.size()), true);
  out.assign(l, l + prompt.size() * size_t(m.hp.n_vocab));
  for (int i = 0; i < 3; ++i) {
    const int32_t t = prompt[size_t(i)];
    l = s.eval(&t, 1);
    out.insert(out.end(), l, l + m.hp.n_vocab);
  }
  return out;
}

void expect_stages_match(const std::string& path, std::vector<int> cuts, WeightLoad load, int n_pieces = 1) {
  auto whole = load_model(path);
  const int n = whole->hp.n_layer;
  cuts.push_back(n);
  auto first = load_model(path, part(0, cuts[0], true, load));
  std::vector<std::unique_ptr<Model>> rest;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) rest.push_back(load_model(path, part(cuts[i], cuts[i + 1], false, load)));
  // Parts bind only their own layers; later parts have no embeddings or head.
  for (int l = 0; l < n; ++l) EXPECT_EQ(first->layers[size_t(l)].attn_norm.empty(), l >= cuts[0]) << l;
  EXPECT_TRUE(rest.back()->tok_embd.empty());
  EXPECT_TRUE(rest.back()->output.empty());
  auto link = std::make_shared<LocalLink>(std::move(rest));
  link->n_pieces = n_pieces;
  first->link = link;
  const auto prompt = random_tokens(11, whole->hp.n_vocab, 5);
  const auto want = run_logits(*whole, prompt);
  const auto got = run_logits(*first, prompt);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << path << " logit " << i;
  EXPECT_EQ(link->passes, n_pieces > 1 ? 3 + n_pieces : 4);
  EXPECT_EQ(link->sent, link->passes);  // every pass goes on as pieces (one, unless n_pieces)
  EXPECT_EQ(link->open(), 0u) << "the session's cache is closed on the later stages too";
}

TEST(Stages, ChainedPartsGiveTheWholeModelsLogits) {
  expect_stages_match(synth_file("tiny-deepseek-v3"), {1, 3}, WeightLoad::Map);
  expect_stages_match(synth_file("tiny-deepseek-v3"), {2}, WeightLoad::Copy);
  expect_stages_match(synth_file("tiny-deepseek-v2-lite"), {3}, WeightLoad::Map);
  expect_stages_match(synth_file("tiny-qwen2", 3), {1, 2}, WeightLoad::Copy);
  expect_stages_match(synth_file("tiny-llama3"), {1}, WeightLoad::Map);
}

// The prompt in three pieces, each sent on before the next is run: the same logits.
TEST(Stages, PiecesInFlightGiveTheSameLogits) {
  expect_stages_match(synth_file("tiny-deepseek-v3"), {2}, WeightLoad::Map, 3);
  expect_stages_match(synth_file("tiny-qwen2", 3), {1, 2}, WeightLoad::Map, 3);
}

// The engine over a pipeline deals its slots into one lane per stage and keeps a lane's pass in
// flight while it runs the next: each request's greedy tokens are those of the unsplit engine
// (or, where they first differ, at a near tie: other batches round differently), and a request
// cancelled while its lane is out ends "cancelled" without disturbing the rest.
TEST(Stages, EngineLanesKeepAnswers) {
  const std::string path = synth_file("tiny-deepseek-v3");
  auto whole = load_model(path);
  auto first = load_model(path, part(0, 1, true, WeightLoad::Map));
  std::vector<std::unique_ptr<Model>> rest;
  rest.push_back(load_model(path, part(1, 3, false, WeightLoad::Map)));
  rest.push_back(load_model(path, part(3, -1, false, WeightLoad::Map)));
  auto link = std::make_shared<LocalLink>(std::move(rest));
  link->n_pieces = 2;
  first->link = link;
  Vocab v(*whole->file);
  EngineOptions o;
  o.n_threads = 1;
  o.n_slots = 5;
  o.pool_tokens = 5 * 80;
  o.max_ctx = 80;
  o.batch_tokens = 24;
  o.prefix_cache_bytes = 0;
  std::mt19937 rng(9);
  struct Out {
    std::vector<int32_t> tokens;
    std::vector<std::vector<std::pair<int32_t, float>>> top2;
    RequestResult res;
  };
  const int n_req = 7, n_gen = 16;
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < n_req; ++i) prompts.push_back(random_tokens(3 + int(rng() % 40), whole->hp.n_vocab, 100 + i));
  const auto run = [&](const Model& m, std::vector<Out>& outs, int cancel_at) {
    Engine e(m, v, o);
    outs.assign(size_t(n_req), Out{});
    std::vector<uint64_t> ids(static_cast<size_t>(n_req), 0);
    for (int i = 0; i < n_req; ++i) {
      Request r;
      r.prompt = prompts[size_t(i)];
      r.gen.n_predict = n_gen;
      r.gen.sampling.temp = 0;
      r.logprobs = 2;
      Out* out = &outs[size_t(i)];
      r.on_token = [out, &e, &ids, i, cancel_at](const TokenOut& t) {
        if (!t.eog) out->tokens.push_back(t.id);
        out->top2.push_back(t.top);
        if (i == 1 && int(out->tokens.size()) == cancel_at) e.cancel(ids[1]);
      };
      r.on_done = [out](const RequestResult& res) { out->res = res; };
      ids[size_t(i)] = e.submit(std::move(r));
    }
    e.run_until_idle();
  };
  std::vector<Out> want, got;
  run(*whole, want, -1);
  run(*first, got, 4);
  EXPECT_GE(link->max_in_flight, 2) << "lanes kept passes in flight";
  EXPECT_EQ(got[1].res.finish_reason, "cancelled");
  EXPECT_LE(got[1].tokens.size(), 5u);
  int identical = 0;
  for (int i = 0; i < n_req; ++i) {
    if (i == 1) continue;
    const Out &a = want[size_t(i)], &b = got[size_t(i)];
    EXPECT_EQ(a.res.finish_reason, b.res.finish_reason) << i;
    size_t k = 0;
    while (k < a.tokens.size() && k < b.tokens.size() && a.tokens[k] == b.tokens[k]) ++k;
    if (k == a.tokens.size() && k == b.tokens.size()) {
      ++identical;
      continue;
    }
    ASSERT_LT(k, a.top2.size()) << i;
    EXPECT_LE(a.top2[k][0].second - a.top2[k][1].second, 1e-3f) << "request " << i << " differs at token " << k;
  }
  EXPECT_GE(identical, 4);
  EXPECT_EQ(link->open(), 0u);
}

// The prefix cache over stages: each keeps its own rows of a prefix; a request that starts with an
// earlier one's text reuses them (cached tokens) and gets the whole model's tokens.
TEST(Stages, PrefixCacheIsKeptOnEveryStage) {
  const std::string path = synth_file("tiny-qwen2", 3);
  auto whole = load_model(path);
  auto first = load_model(path, part(0, 1, true, WeightLoad::Map));
  std::vector<std::unique_ptr<Model>> rest;
  rest.push_back(load_model(path, part(1, -1, false, WeightLoad::Map)));
  auto link = std::make_shared<LocalLink>(std::move(rest));
  first->link = link;
  Vocab v(*whole->file);
  EngineOptions o;
  o.n_threads = 1;
  o.n_slots = 2;
  o.pool_tokens = 2 * 96;
  o.max_ctx = 96;
  const auto a = random_tokens(30, whole->hp.n_vocab, 3);
  auto b = a;
  const auto tail = random_tokens(5, whole->hp.n_vocab, 4);
  b.insert(b.end(), tail.begin(), tail.end());
  // Tokens and their log-probabilities: the stages run the same batches, so these are equal bit for bit.
  const auto run = [&](const Model& m, std::vector<float>* out, int* cached) {
    Engine e(m, v, o);
    for (const std::vector<int32_t>* p : {&a, static_cast<const std::vector<int32_t>*>(&b)}) {
      Request r;
      r.prompt = *p;
      r.gen.n_predict = 8;
      r.gen.sampling.temp = 0;
      r.logprobs = 0;
      r.on_token = [out](const TokenOut& t) {
        out->push_back(float(t.id));
        out->push_back(t.logprob);
      };
      r.on_done = [cached](const RequestResult& res) { *cached = res.cached_tokens; };
      e.submit(std::move(r));
      e.run_until_idle();
    }
  };
  std::vector<float> want, got;
  int cached_want = 0, cached_got = 0;
  run(*whole, &want, &cached_want);
  run(*first, &got, &cached_got);
  EXPECT_EQ(got, want);
  EXPECT_EQ(cached_got, cached_want);
  EXPECT_GE(cached_got, 30);
  EXPECT_GE(link->prefix_ops, 2) << "saved and restored on the later stage";
}

TEST(Stages, ACacheHoldsOnlyItsPartsLayers) {
  const std::string path = synth_file("tiny-deepseek-v3");
  auto whole = load_model(path);
  auto second = load_model(path, part(1, 4, false, WeightLoad::Map));
  KvCache a(*whole, 32), b(*second, 32);
  EXPECT_EQ(b.bytes_per_token() * 4, a.bytes_per_token() * 3);
  const auto rows = b.view(0);
  EXPECT_EQ(rows[0].k.base, nullptr);
  EXPECT_NE(rows[1].k.base, nullptr);
}

TEST(Stages, APartCopiesOnlyItsTensors) {
  const std::string path = synth_file("tiny-deepseek-v3");
  auto whole = load_model(path, part(0, -1, true, WeightLoad::Map));
  auto p = load_model(path, part(2, 4, false, WeightLoad::Copy));
  ASSERT_EQ(p->file->residency(), GgufFile::Residency::Copy);
  size_t in = 0, out = 0;
  for (const GgufTensor& t : p->file->tensors()) {
    const GgufTensor& w = whole->file->tensor(t.name);
    const bool mine = tensor_in_part(t.name, 4, part(2, 4, false, WeightLoad::Copy));
    if (mine) {
      EXPECT_EQ(std::memcmp(t.data, w.data, t.nbytes), 0) << t.name;
      in += t.nbytes;
    } else {
      // Never read: the copy's pages there are untouched zeros.
      EXPECT_TRUE(std::all_of(t.data, t.data + std::min<size_t>(t.nbytes, 4096), [](uint8_t c) { return c == 0; }))
          << t.name;
      out += t.nbytes;
    }
  }
  EXPECT_GT(in, 0u);
  EXPECT_GT(out, in / 4);
  EXPECT_TRUE(tensor_in_part("rope_freqs.weight", 4, part(2, 4, false, WeightLoad::Map)));
  EXPECT_FALSE(tensor_in_part("token_embd.weight", 4, part(2, 4, false, WeightLoad::Map)));
  EXPECT_TRUE(tensor_in_part("blk.4.nextn.eh_proj.weight", 4, part(0, 2, true, WeightLoad::Map)));
  EXPECT_FALSE(tensor_in_part("blk.4.nextn.eh_proj.weight", 4, part(2, 4, false, WeightLoad::Map)));
}

TEST(Stages, ABadRangeIsRefused) {
  const std::string path = synth_file("tiny-deepseek-v3");
  for (auto [b, e] : {std::pair{2, 2}, {0, 5}, {-1, 2}}) {
    try {
      load_model(path, part(b, e, true, WeightLoad::Map));
      FAIL() << b << "," << e;
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find("is not within the model's 4 layers"), std::string::npos) << err.what();
    }
  }
}

TEST(LayerPlan, BalancesBytesAndHonoursCounts) {
  const std::string path = synth_file("tiny-deepseek-v3", 0, 1);
  auto f = GgufFile::open(path);
  ASSERT_EQ(dist::trunk_layers(*f), 4);
  for (int n = 1; n <= 4; ++n) {
    const auto plan = dist::plan_layers(*f, n, {});
    ASSERT_EQ(int(plan.size()), n);
    EXPECT_EQ(plan.front().begin, 0);
    EXPECT_EQ(plan.back().end, 4);
    size_t total = 0, most = 0;
    for (size_t r = 0; r < plan.size(); ++r) {
      EXPECT_GE(plan[r].end - plan[r].begin, 1);
      if (r) {
        EXPECT_EQ(plan[r].begin, plan[r - 1].end);
      }
      total += plan[r].bytes;
      most = std::max(most, plan[r].bytes);
    }
    size_t all = 0;
    for (const GgufTensor& t : f->tensors()) all += t.nbytes;
    EXPECT_EQ(total, all) << "every tensor is some rank's";
    if (n == 2) {
      EXPECT_LT(double(most), 0.75 * double(total)) << "two ranks: neither holds three quarters";
    }
  }
  // Shares in proportion to weights (--layers-by-memory): the heavier rank holds more bytes.
  const auto light0 = dist::plan_layers(*f, 2, {}, {1.0, 3.0}), heavy0 = dist::plan_layers(*f, 2, {}, {3.0, 1.0});
  EXPECT_LT(light0[0].bytes, light0[1].bytes);
  EXPECT_GT(heavy0[0].bytes, heavy0[1].bytes);
  EXPECT_GE(light0[0].end, 1);
  EXPECT_LE(heavy0[0].end, 3) << "the last rank keeps a layer";
  const auto given = dist::plan_layers(*f, 3, {1, 2, 1});
  EXPECT_EQ(given[1].begin, 1);
  EXPECT_EQ(given[1].end, 3);
  for (const auto& [counts, msg] : std::vector<std::pair<std::vector<int>, std::string>>{
           {{1, 1}, "add up to 2 but"}, {{4, 0}, "at least one layer"}, {{1, 1, 2}, "3 counts for 2 ranks"}}) {
    try {
      dist::plan_layers(*f, 2, counts);
      FAIL() << msg;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(msg), std::string::npos) << e.what();
    }
  }
  try {
    dist::plan_layers(*f, 5, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at most one rank per layer"), std::string::npos) << e.what();
  }
}


TEST(ExpertSplit, APartCopiesOnlyItsExperts) {
  const std::string path = synth_file("tiny-deepseek-v3");
  auto whole = load_model(path, part(0, -1, true, WeightLoad::Map));
  LoadOptions o;
  o.load = WeightLoad::Copy;
  o.expert_begin = 4;
  o.expert_end = 8;
  o.head = false;
  auto p = load_model(path, o);
  ASSERT_EQ(p->file->residency(), GgufFile::Residency::Copy);
  EXPECT_TRUE(p->output.empty());
  EXPECT_FALSE(p->tok_embd.empty());
  const GgufTensor& t = p->file->tensor("blk.1.ffn_up_exps.weight");
  const GgufTensor& w = whole->file->tensor("blk.1.ffn_up_exps.weight");
  const size_t per = t.nbytes / size_t(t.ne[2]);
  // Experts 4..7 as in the file (the plain layout: a repacked copy would differ); the rest never read.
  EXPECT_EQ(p->layers[1].expert_begin, 4);
  EXPECT_EQ(p->layers[1].expert_end, 8);
  EXPECT_TRUE(std::all_of(t.data, t.data + 4 * per, [](uint8_t c) { return c == 0; }));
  EXPECT_TRUE(std::all_of(t.data + 8 * per, t.data + t.nbytes, [](uint8_t c) { return c == 0; }));
  if (!p->layers[1].up_exps.x16) {
    EXPECT_EQ(std::memcmp(t.data + 4 * per, w.data + 4 * per, 4 * per), 0);
  }
  EXPECT_FALSE(std::all_of(t.data + 4 * per, t.data + 8 * per, [](uint8_t c) { return c == 0; }));
  // The dense layer and attention are whole.
  const GgufTensor& a = p->file->tensor("blk.1.attn_output.weight");
  EXPECT_FALSE(std::all_of(a.data, a.data + a.nbytes, [](uint8_t c) { return c == 0; }));
}

// The MoE stages with a share of the experts: two halves, the second filling in the first's
// missing rows through the exchange, give the whole block's output bit for bit; without the
// exchange's rows they do not.
TEST(ExpertSplit, HalvesWithTheExchangeGiveTheWholeBlock) {
  auto m = load_model(synth_file("tiny-deepseek-v3"));
  const Layer& L = m->layers[1];
  ASSERT_TRUE(L.moe);
  const int64_t D = m->hp.n_embd, E = m->hp.router.n_expert;
  const int n_tok = 9;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> h(size_t(n_tok * D));
  for (float& x : h) x = nd(rng);
  ThreadPool pool(1);
  ActBuffer act;
  const auto weights = [&](int e0, int e1) {
    return MoeWeights{L.gate_inp, L.exp_probs_b, L.gate_exps, L.up_exps, L.down_exps, L.gate_shexp, L.up_shexp,
                      L.down_shexp, m->hp.n_ff_exp, e0, e1};
  };
  std::vector<float> want(size_t(n_tok * D)), want_sh(size_t(n_tok * D));
  MoeScratch whole;
  moe_ffn(m->hp.router, weights(0, -1), 1, h.data(), n_tok, D, want.data(), want_sh.data(), pool, whole, act, {});
  // The second half's rows, as the other rank computes them.
  struct Rows {
    std::vector<float> rows;
    std::vector<int32_t> end;
    bool fill = true;
  } theirs;
  ExpertExchange keep{[](void* ctx, const ExpertRows& r) {
                        auto* t = static_cast<Rows*>(ctx);
                        t->rows.assign(r.rows, r.rows + r.end[r.n_expert - 1] * r.dim);
                        t->end.assign(r.end, r.end + r.n_expert);
                      },
                      nullptr, &theirs};
  std::vector<float> out(size_t(n_tok * D)), sh(size_t(n_tok * D));
  MoeScratch b;
  moe_ffn(m->hp.router, weights(int(E / 2), int(E)), 1, h.data(), n_tok, D, out.data(), sh.data(), pool, b, act, keep);
  ExpertExchange fill{[](void* ctx, const ExpertRows& r) {
                        auto* t = static_cast<Rows*>(ctx);
                        if (!t->fill) return;
                        const int64_t from = r.end[r.n_expert / 2 - 1] * r.dim, to = r.end[r.n_expert - 1] * r.dim;
                        std::copy(t->rows.begin() + from, t->rows.begin() + to, r.rows + from);
                      },
                      nullptr, &theirs};
  MoeScratch a;
  moe_ffn(m->hp.router, weights(0, int(E / 2)), 1, h.data(), n_tok, D, out.data(), sh.data(), pool, a, act, fill);
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i], want[i]) << i;
    ASSERT_EQ(sh[i], want_sh[i]) << i;
  }
  theirs.fill = false;
  std::fill(a.x.begin(), a.x.end(), 0.f);
  moe_ffn(m->hp.router, weights(0, int(E / 2)), 1, h.data(), n_tok, D, out.data(), sh.data(), pool, a, act, fill);
  size_t differ = 0;
  for (size_t i = 0; i < out.size(); ++i) differ += out[i] != want[i];
  EXPECT_GT(differ, out.size() / 4) << "the other half's experts matter";
}

}  // namespace
}  // namespace dawn
