// dawn bench: prefill and decode speed (as llama-bench measures them) at one or more cache depths,
// with the memory bandwidth roofline, the cost of a grammar on decode, and what speculative decoding
// (--draft) gains.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/commands.h"
#include "dist/dist.h"
#include "engine/engine.h"
#include "engine/generation.h"
#include "engine/session.h"
#include "engine/speculative.h"
#include "text/chat.h"
#include "text/gbnf.h"
#include "text/grammar_matcher.h"
#include "text/json_schema_grammar.h"
#include "text/vocab.h"
#include "kernels/membw.h"
#include "util/error.h"

namespace dawn {

namespace {

struct Stat {
  double mean = 0, sd = 0;
};

Stat stat(const std::vector<double>& v) {
  Stat s;
  for (double x : v) s.mean += x / double(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / double(v.size() - 1)) : 0;
  return s;
}

// What a trunk pass reads of the weights: every tensor but the routed experts (one embedding row
// per token, unless the embedding is also the output head), and each routed expert its tokens
// chose once: dense + per_expert * experts run, per_expert being one expert of one layer (average).
struct PassBytes {
  double dense = 0, per_expert = 0;
};
PassBytes pass_bytes(const Model& m) {
  const Hparams& hp = m.hp;
  const bool tied = m.output.data == m.tok_embd.data;
  const int64_t n_experts = int64_t(hp.n_layer - hp.n_dense_lead) * hp.router.n_expert;  // over all MoE layers
  PassBytes b;
  double experts = 0;
  for (const GgufTensor& t : m.file->tensors()) {
    if (is_mtp_tensor(hp, t.name)) continue;
    if (t.name == "token_embd.weight" && !tied) {
      b.dense += double(t.nbytes) / double(t.ne[1]);
    } else if (t.name.find("_exps.") != std::string::npos && n_experts > 0) {
      experts += double(t.nbytes);
    } else {
      b.dense += double(t.nbytes);
    }
  }
  if (n_experts > 0) b.per_expert = experts / double(n_experts);
  return b;
}

// Weight bytes one decoded token reads: the dense part and its n_used experts in each MoE layer.
double weight_bytes_per_token(const Model& m) {
  const PassBytes b = pass_bytes(m);
  return b.dense + b.per_expert * double(m.hp.n_layer - m.hp.n_dense_lead) * m.hp.router.n_used;
}

// Per token of the measured decode runs. Rank 0's compute is the wall time less its waits; in a
// pipeline its waits hold the other ranks' compute, and what is left of them is the network's.
// A rank's compute time: rank 0's is the wall time less its waits (RankStats says -1).
double compute_of(const RankStats& r, double wall_s) { return r.compute_s < 0 ? wall_s - r.wait_s : r.compute_s; }

// The time the network (and message latency) costs a token: in a pipeline, rank 0's wait less the
// other ranks' compute (which it waits through); with experts, the least any rank waits (the rest
// of a rank's wait is for slower ranks).
double network_s(const std::vector<RankStats>& ranks, double wall_s, const std::string& kind) {
  if (kind == "layers") {
    double w = ranks[0].wait_s;
    for (size_t i = 1; i < ranks.size(); ++i) w -= ranks[i].compute_s;
    return std::max(0.0, w);
  }
  double w = wall_s;
  for (const RankStats& r : ranks) w = std::min(w, r.wait_s);
  return w;
}

void print_ranks(const std::vector<RankStats>& ranks, double wall_s, int64_t tokens, const std::string& kind) {
  if (tokens <= 0) return;
  const double per = 1e3 / double(tokens);
  std::printf("ranks (decode, per token; %.3f ms wall):\n", wall_s * per);
  for (const RankStats& r : ranks) {
    const double compute = compute_of(r, wall_s);
    std::printf("  rank %d (%s): peak RSS %.1f MiB, compute %.3f ms, blocked on MPI %.3f ms (%.0f%%), sent %.1f KiB\n",
                r.rank, r.host, r.peak_rss_bytes / (1 << 20), compute * per, r.wait_s * per,
                100 * r.wait_s / wall_s, double(r.bytes_sent) / double(tokens) / 1024);
  }
  const double net = network_s(ranks, wall_s, kind);
  std::printf("  network and latency: %.3f ms (%.1f%% of the decode time)\n", net * per, 100 * net / wall_s);
}

std::string ranks_json(const std::vector<RankStats>& ranks, double wall_s, int64_t tokens, const std::string& kind) {
  std::string out = "{\"split\":\"" + kind + "\",\"network_frac\":" +
                    std::to_string(network_s(ranks, wall_s, kind) / wall_s) + ",\"per_rank\":[";
  char buf[320];
  for (const RankStats& r : ranks) {
    const double compute = compute_of(r, wall_s);
    std::snprintf(buf, sizeof buf,
                  "%s{\"rank\":%d,\"host\":\"%s\",\"peak_rss_bytes\":%.0f,\"compute_s_per_token\":%.6g,"
                  "\"mpi_wait_s_per_token\":%.6g,\"bytes_sent_per_token\":%.1f}",
                  &r == &ranks.front() ? "" : ",", r.rank, r.host, r.peak_rss_bytes, compute / double(tokens),
                  r.wait_s / double(tokens), double(r.bytes_sent) / double(tokens));
    out += buf;
  }
  return out + "]}";
}

double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) * 1024.0;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// --draft: the cost of the trunk's check of K drafts (one pass over K + 1 tokens against a pass over
// one, from the same depth, random tokens), then greedy replies to a question through the chat
// template with and without the drafter, side by side in one run: tok/s, acceptance, speed-up.
void bench_draft(const Model& m, const DraftParams& d, const std::string& question, int n_gen, int reps,
                 int threads, KvType kv, bool json) {
  const int k = draft_count(d, "--draft-n");
  Vocab vocab(*m.file);
  const auto tmpl = load_chat_template(*m.file, vocab, "");
  nlohmann::ordered_json msg = nlohmann::ordered_json::object();
  msg["role"] = "user";
  msg["content"] = question;
  const std::string text = tmpl->apply(nlohmann::ordered_json::array({msg}), nullptr, true);
  const std::vector<int32_t> prompt = vocab.encode(text, false, true);
  const int n_ctx = int(prompt.size()) + n_gen + k + 2;
  Session s(m, n_ctx, threads, kv, d.kind == DraftKind::Mtp);
  DraftParams dp = d;
  const auto draft_model = d.kind == DraftKind::Model ? open_draft_model(dp, s, vocab, kv) : nullptr;
  std::vector<int32_t> toks(size_t(k + 1));
  for (size_t i = 0; i < toks.size(); ++i) toks[i] = prompt[i % prompt.size()];
  std::vector<double> one, verify;
  s.eval(prompt.data(), int(prompt.size()));
  const int64_t depth = s.pos();
  int64_t experts_one = 0, experts_verify = 0;
  for (int r = 0; r < reps + 1; ++r) {
    // Each repetition checks other tokens (the prompt's, from r on): other experts.
    for (size_t i = 0; i < toks.size(); ++i) toks[i] = prompt[(size_t(r) + i) % prompt.size()];
    s.rewind(depth);
    int64_t e0 = s.experts_run();
    auto t0 = std::chrono::steady_clock::now();
    s.eval(toks.data(), 1);
    if (r > 0) one.push_back(seconds_since(t0)), experts_one += s.experts_run() - e0;
    s.rewind(depth);
    e0 = s.experts_run();
    t0 = std::chrono::steady_clock::now();
    s.eval(toks.data(), k + 1, true);
    if (r > 0) verify.push_back(seconds_since(t0)), experts_verify += s.experts_run() - e0;
  }
  const double cost = stat(verify).mean / stat(one).mean;
  // What the bytes predict for a pass bound by reading its weights.
  const PassBytes pb = pass_bytes(m);
  const double bytes_one = pb.dense + pb.per_expert * double(experts_one) / reps;
  const double bytes_verify = pb.dense + pb.per_expert * double(experts_verify) / reps;
  const double bytes_ratio = bytes_verify / bytes_one;
  const auto moe_avg = [&](int64_t experts) {
    const int n_moe = m.hp.n_layer - m.hp.n_dense_lead;
    return m.hp.router.n_expert > 0 && n_moe > 0 ? double(experts) / reps / n_moe : 0.0;
  };
  GenerateParams gp;
  gp.n_predict = n_gen;
  gp.sampling.temp = 0;
  std::vector<double> plain_rate, draft_rate;
  DraftStats st;
  int64_t n_plain = 0, n_draft = 0;
  for (int r = 0; r < reps + 1; ++r) {
    for (const bool drafted : {false, true}) {
      s.reset();
      DraftStats run;
      const auto t0 = std::chrono::steady_clock::now();
      const GenerateResult g =
          generate_with_draft(s, vocab, prompt, gp, drafted ? dp : DraftParams{}, [](const std::string&) {}, &run);
      const double rate = double(g.tokens.size()) / seconds_since(t0);
      if (r == 0) continue;  // warm-up
      (drafted ? draft_rate : plain_rate).push_back(rate);
      (drafted ? n_draft : n_plain) = int64_t(g.tokens.size());
      if (drafted) st.add(run);
    }
  }
  const Stat pr = stat(plain_rate), dr = stat(draft_rate);
  if (json) {
    std::printf("{\"draft\":\"%s\",\"draft_n\":%d,\"prompt_tokens\":%zu,\"reply_tokens\":%lld,"
                "\"verify_cost_ratio\":%.4f,\"verify_bytes\":%.0f,\"one_token_bytes\":%.0f,"
                "\"verify_bytes_ratio\":%.4f,\"verify_experts_per_moe_layer\":%.3f,\"one_token_experts_per_moe_layer\":%.3f,"
                "\"acceptance_rate\":%.4f,\"accepted_per_step\":%.4f,"
                "\"decode_tok_s_plain\":%.3f,\"decode_tok_s_draft\":%.3f,\"speedup\":%.4f}\n",
                draft_kind_name(d.kind), k, prompt.size(), (long long)n_draft, cost, bytes_verify, bytes_one, bytes_ratio,
                moe_avg(experts_verify), moe_avg(experts_one), st.acceptance_rate(), st.accepted_per_step(), pr.mean,
                dr.mean, dr.mean / pr.mean);
    return;
  }
  std::printf("draft %s, %d per step: the check of %d tokens costs %.2fx one token's pass (from depth %lld)\n",
              draft_kind_name(d.kind), k, k + 1, cost, (long long)depth);
  std::printf("  it reads %.1f MiB of weights against one token's %.1f MiB (%.2fx; %.2f routed experts per MoE layer "
              "against %.2f): its time is %.2fx what its bytes predict\n",
              bytes_verify / (1 << 20), bytes_one / (1 << 20), bytes_ratio, moe_avg(experts_verify),
              moe_avg(experts_one), cost / bytes_ratio);
  std::printf("greedy reply (%lld tokens, prompt included in the time): %.2f ± %.2f tok/s plain, %.2f ± %.2f with "
              "drafts (%.2fx); %.3f of drafts accepted, %.3f per step\n",
              (long long)n_plain, pr.mean, pr.sd, dr.mean, dr.sd, dr.mean / pr.mean, st.acceptance_rate(),
              st.accepted_per_step());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  struct Opts {
    LoadOptions load;
    std::string kv = "f16";
    std::string model, schema;
    int n_prompt = 512, n_gen = 128, threads = 0, reps = 3, parallel = 1;
    std::vector<int> depths = {0};
    bool json = false, membw = false, greedy = false;
    DraftParams draft;
    std::string draft_question = "What is 4821 + 3907?";
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand("bench", "Measure prefill and decode speed (like llama-bench) and memory bandwidth");
  c->add_option("model", o->model, "GGUF model file (optional with --membw)")->check(CLI::ExistingFile);
  add_load_options(c, o->load);
  c->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens per prefill run (0: skip)")->capture_default_str();
  c->add_option("-n,--n-gen", o->n_gen, "Tokens generated per decode run (0: skip)")->capture_default_str();
  c->add_flag("--greedy", o->greedy,
              "Decode runs take each next token from the logits (greedy, through the sampler chain) instead of "
              "feeding random tokens: what a constrained run is compared with");
  c->add_option("--json-schema", o->schema,
                "Decode runs as --greedy, under this JSON Schema's grammar (a new match whenever one completes): "
                "the grammar's cost on decode speed")
      ->check(CLI::ExistingFile);
  c->add_option("-d,--depth", o->depths,
                "Tokens already in the KV cache when each prefill and decode run starts (as llama-bench's -d); "
                "decode runs start from this depth, not after the prompt. Several, comma-separated, give a row "
                "each (-d 0,4096,16384): the cache is filled once per depth, in one batched prefill whose speed "
                "is reported, and every run rewinds to it")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("-B,--parallel", o->parallel,
                "Decode runs generate -n tokens for this many sequences at once through the serving engine "
                "(continuous batching; over --split layers one lane per stage keeps every stage busy) and report "
                "their aggregate tok/s; prefill runs stay one sequence")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  c->add_option("-t,--threads", o->threads, "Threads (0: all cores)")->capture_default_str();
  c->add_option("-r,--reps", o->reps, "Repetitions; mean and standard deviation are reported")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  c->add_option("--kv-type", o->kv,
                "KV cache type: f32, f16 (half of f32) or q8_0 (34 bytes per 32 values; rows in blocks of 32)")
      ->capture_default_str();
  c->add_flag("--membw", o->membw,
              "Also measure the machine's memory read bandwidth (the decode roofline): just before and after each "
              "decode run, whose share of the roofline is taken against those samples, and once at the end");
  c->add_flag("--json", o->json, "Print one JSON object per depth, a line each, instead of a table");
  add_draft_options(c, o->draft);
  c->add_option("--draft-question", o->draft_question,
                "With --draft: the user message (through the model's chat template) whose greedy reply of up to "
                "-n tokens is timed with and without the drafter")
      ->capture_default_str();
  c->callback([o] {
    if (o->model.empty() && !o->membw) throw Error("bench: give a MODEL, --membw, or both");
    if (o->n_prompt < 0 || o->n_gen < 0 || *std::min_element(o->depths.begin(), o->depths.end()) < 0)
      throw Error("bench: -p, -n and -d must not be negative");
    const int threads = o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency()));
    // Measured after the model runs (its 1 GiB buffer is not the model's memory).
    const auto membw = [&] {
      if (!o->membw) return 0.0;
      ThreadPool pool(threads);
      return read_bandwidth(pool, size_t(1) << 30, 5);
    };
    if (o->model.empty()) {
      const double bw = membw();
      if (o->json) {
        std::printf("{\"threads\":%d,\"membw_bytes_s\":%.0f}\n", threads, bw);
      } else {
        std::printf("memory read bandwidth: %.2f GB/s (%d threads)\n", bw / 1e9, threads);
      }
      return;
    }
    auto m = dist::open_model(o->model, o->load, threads);
    const int V = m->hp.n_vocab;
    draft_count(o->draft, "--draft-n");
    // As llama-bench: a prefill run and a decode run each start from a cache holding `depth` tokens
    // (none by default), so decode is not measured over the prompt's attention.
    const int max_depth = *std::max_element(o->depths.begin(), o->depths.end());
    if (o->parallel > 1 && (max_depth > 0 || !o->schema.empty() || o->draft.kind != DraftKind::None))
      throw Error("bench: --parallel decodes from an empty cache, without --json-schema or --draft");
    Session s(*m, std::max(1, max_depth + std::max(o->n_prompt, o->n_gen)), threads, parse_kv_type(o->kv, "--kv-type"));
    std::mt19937 rng(1234);
    // --greedy / --json-schema: the sampler (and the grammar) choose the tokens.
    const bool sampled = o->greedy || !o->schema.empty();
    std::unique_ptr<Vocab> vocab;
    GenerateParams gen;
    gen.n_predict = -1;
    gen.sampling.temp = 0.0f;
    const int32_t tokens_first = 0;
    if (sampled || o->parallel > 1) vocab = std::make_unique<Vocab>(*m->file);
    // --parallel: the engine decodes the sequences, each from one random token, greedy, with the
    // end-of-generation tokens banned so every one runs the full -n.
    std::unique_ptr<Engine> engine;
    if (o->parallel > 1) {
      EngineOptions eo;
      eo.n_threads = threads;
      eo.n_slots = o->parallel;
      eo.max_ctx = o->n_gen + 2;
      eo.pool_tokens = o->parallel * eo.max_ctx;
      eo.batch_tokens = std::max(256, o->parallel);
      eo.kv_type = parse_kv_type(o->kv, "--kv-type");
      eo.prefix_cache_bytes = 0;
      engine = std::make_unique<Engine>(*m, *vocab, eo);
    }
    const auto decode_parallel = [&] {
      const uint64_t before = engine->stats().generated_tokens;
      for (int i = 0; i < o->parallel; ++i) {
        Request r;
        r.prompt = {int32_t(rng() % uint32_t(V))};
        r.gen.n_predict = o->n_gen;
        r.gen.sampling.temp = 0;
        for (int32_t t : vocab->eog_ids()) r.gen.sampling.logit_bias.push_back({t, -INFINITY});
        engine->submit(std::move(r));
      }
      engine->run_until_idle();
      return engine->stats().generated_tokens - before;
    };
    if (!o->schema.empty()) {
      std::ifstream in(o->schema);
      std::stringstream text;
      text << in.rdbuf();
      try {
        const Grammar g = parse_gbnf(json_schema_to_gbnf(nlohmann::ordered_json::parse(text.str())));
        gen.constraint.grammar = std::make_shared<CompiledGrammar>(g, vocab->token_trie(), vocab->eog_ids());
      } catch (const nlohmann::json::exception& e) {
        throw Error(o->schema + ": not JSON: " + e.what());
      } catch (const std::exception& e) {
        throw Error(o->schema + ": " + e.what());
      }
    }
    const auto random_tokens = [&](std::vector<int32_t>& v, int n) {
      v.resize(size_t(n));
      for (int32_t& t : v) t = int32_t(rng() % uint32_t(V));
    };
    // With --membw, the bandwidth is also sampled just before and just after each decode run and
    // that run's share of the roofline taken against the better of the two: on a shared machine the
    // bandwidth moves by 2x within minutes, and a roofline measured at another moment says little.
    // Those samples' buffers come after the warm-up run, whose peak RSS is the model's.
    std::unique_ptr<ThreadPool> bw_pool;
    if (o->membw) bw_pool = std::make_unique<ThreadPool>(threads);
    const auto sample_bw = [&] { return read_bandwidth(*bw_pool, size_t(512) << 20, 2); };
    const double wb = weight_bytes_per_token(*m);
    struct Row {
      int depth;
      double fill_tok_s;
      Stat p, g, f;
    };
    std::vector<Row> rows;
    std::vector<int32_t> fill, prompt;
    double rss = 0, best_bw = 0;
    // A split model: every rank's account of the measured decode runs (and their wall time).
    std::vector<RankStats> ranks;
    double split_decode_s = 0;
    int64_t split_tokens = 0;
    const int warm = 1;
    for (const int depth : o->depths) {
      // The cache is filled once per depth (one batched prefill: at 16K tokens refilling it for
      // every run would be most of the bench) and each run rewinds to it.
      s.reset();
      random_tokens(fill, depth);
      double fill_tok_s = 0;
      if (depth > 0) {
        const auto t0 = std::chrono::steady_clock::now();
        s.eval(fill.data(), depth);
        fill_tok_s = depth / seconds_since(t0);
      }
      std::vector<double> pp, tg, fracs;
      for (int r = 0; r < o->reps + warm; ++r) {
        if (r == warm && rows.empty()) rss = peak_rss_bytes();
        if (o->n_prompt > 0) {
          random_tokens(prompt, o->n_prompt);
          s.rewind(depth);
          const auto t0 = std::chrono::steady_clock::now();
          s.eval(prompt.data(), o->n_prompt);
          if (r >= warm) pp.push_back(o->n_prompt / seconds_since(t0));
        }
        if (o->n_gen > 0) {
          s.rewind(depth);
          if (m->link && r >= warm) m->link->rank_stats(true);  // from here: this decode run only
          const double bw_before = o->membw && r >= warm ? sample_bw() : 0;
          const auto t0 = std::chrono::steady_clock::now();
          int64_t n_decoded = o->n_gen;
          if (engine) {
            n_decoded = int64_t(decode_parallel());
          } else if (sampled) {
            auto g = std::make_unique<Generation>(*vocab, std::vector<int32_t>{}, gen);
            const float* logits = s.eval(&tokens_first, 1);
            for (int i = 1; i < o->n_gen; ++i) {
              std::string text;
              const int32_t t = g->next(logits, V, &text);
              if (g->done()) g = std::make_unique<Generation>(*vocab, std::vector<int32_t>{}, gen);  // the next match
              logits = s.eval(&t, 1);
            }
          } else {
            for (int i = 0; i < o->n_gen; ++i) {
              const int32_t t = int32_t(rng() % uint32_t(V));
              s.eval(&t, 1);
            }
          }
          const double rate = double(n_decoded) / seconds_since(t0);
          if (r >= warm) tg.push_back(rate);
          if (m->link && r >= warm) {
            split_decode_s += double(n_decoded) / rate;
            split_tokens += n_decoded;
            const auto now = m->link->rank_stats(true);
            if (ranks.empty()) ranks.assign(now.size(), RankStats{});
            for (size_t i = 0; i < now.size() && i < ranks.size(); ++i) {
              ranks[i].rank = now[i].rank;
              std::memcpy(ranks[i].host, now[i].host, sizeof now[i].host);
              ranks[i].peak_rss_bytes = std::max(ranks[i].peak_rss_bytes, now[i].peak_rss_bytes);
              ranks[i].compute_s += now[i].compute_s;
              ranks[i].wait_s += now[i].wait_s;
              ranks[i].bytes_sent += now[i].bytes_sent;
              ranks[i].passes += now[i].passes;
            }
          }
          if (o->membw && r >= warm) {
            const double bw_run = std::max(bw_before, sample_bw());
            best_bw = std::max(best_bw, bw_run);
            fracs.push_back(wb * rate / bw_run);
          }
        }
      }
      rows.push_back({depth, fill_tok_s, stat(pp), stat(tg), stat(fracs)});
    }
    if (!o->membw) rss = peak_rss_bytes();
    const double file = double(m->file->file_size());
    const double bw = std::max(best_bw, membw());
    const auto frac = [&](const Row& row) { return row.f.mean > 0 ? row.f.mean : (bw > 0 ? wb * row.g.mean / bw : 0); };
    const char* weights = m->file->residency() == GgufFile::Residency::Copy ? "copy" : "map";
    if (o->json) {  // one object per depth, a line each
      for (const Row& row : rows) {
        std::printf(
            "{\"model\":\"%s\",\"threads\":%d,\"n_prompt\":%d,\"n_gen\":%d,\"depth\":%d,\"reps\":%d,"
            "\"fill_tok_s\":%.3f,\"prefill_tok_s\":%.3f,\"prefill_tok_s_sd\":%.3f,\"decode_tok_s\":%.3f,"
            "\"decode_tok_s_sd\":%.3f,\"weight_bytes_per_token\":%.0f,\"decode_bytes_s\":%.0f,"
            "\"peak_rss_bytes\":%.0f,\"file_bytes\":%.0f,\"weights\":\"%s\",\"parallel\":%d",
            o->model.c_str(), threads, o->n_prompt, o->n_gen, row.depth, o->reps, row.fill_tok_s, row.p.mean, row.p.sd,
            row.g.mean, row.g.sd, wb, wb * row.g.mean, rss, file, weights, o->parallel);
        if (bw > 0) std::printf(",\"membw_bytes_s\":%.0f,\"decode_roofline_frac\":%.4f", bw, frac(row));
        if (!ranks.empty()) std::printf(",\"ranks\":%s", ranks_json(ranks, split_decode_s, split_tokens, o->load.split.kind).c_str());
        std::printf("}\n");
      }
      if (o->draft.kind != DraftKind::None && o->n_gen > 0)
        bench_draft(*m, o->draft, o->draft_question, o->n_gen, o->reps, threads, parse_kv_type(o->kv, "--kv-type"), true);
      return;
    }
    std::printf("model:    %s (%s, %.1f MiB, weights %s)\nthreads:  %d, %d reps after 1 warm-up\n", o->model.c_str(),
                arch_name(m->hp.arch), file / (1 << 20), weights, threads, o->reps);
    for (const Row& row : rows) {
      if (row.depth > 0) {
        std::printf("depth %d: filled in one prefill at %.2f tok/s\n", row.depth, row.fill_tok_s);
      } else {
        std::printf("depth 0:\n");
      }
      if (o->n_prompt > 0) std::printf("prefill:  pp%-5d %10.2f ± %.2f tok/s\n", o->n_prompt, row.p.mean, row.p.sd);
      if (o->n_gen > 0 && o->parallel > 1) {
        std::printf("decode:   tg%-5d %10.2f ± %.2f tok/s   (%d sequences at once: their aggregate)\n", o->n_gen,
                    row.g.mean, row.g.sd, o->parallel);
      } else if (o->n_gen > 0) {
        std::printf("decode:   tg%-5d %10.2f ± %.2f tok/s   %.2f MiB weights/token -> %.2f GB/s", o->n_gen, row.g.mean,
                    row.g.sd, wb / (1 << 20), wb * row.g.mean / 1e9);
        if (row.f.mean > 0) {
          std::printf(" (%.0f%% of the bandwidth measured around each run; best %.2f GB/s)", 100 * frac(row), bw / 1e9);
        } else if (bw > 0) {
          std::printf(" (%.0f%% of %.2f GB/s measured)", 100 * frac(row), bw / 1e9);
        }
        std::printf("\n");
      }
    }
    std::printf("peak RSS: %.1f MiB (file %.1f MiB)%s\n", rss / (1 << 20), file / (1 << 20),
                m->link ? "; weights/token and RSS are rank 0's part" : "");
    if (!ranks.empty()) print_ranks(ranks, split_decode_s, split_tokens, o->load.split.kind);
    if (o->draft.kind != DraftKind::None && o->n_gen > 0)
      bench_draft(*m, o->draft, o->draft_question, o->n_gen, o->reps, threads, parse_kv_type(o->kv, "--kv-type"), false);
  });
}

}  // namespace dawn
