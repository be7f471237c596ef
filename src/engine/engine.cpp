// The multi-sequence engine: admission, batching, sampling and the prefix cache (engine.h).
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "util/error.h"

namespace dawn {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

struct Engine::Seq {
  uint64_t id = 0;
  Request r;
  std::unique_ptr<Generation> g;
  int slot = -1;
  int n_past = 0;         // positions in the cache
  int n_prompt_done = 0;  // prompt tokens in the cache
  int32_t next_token = -1;  // sampled, to be fed at the next step
  int reserve = 0;          // positions held in the pool's budget
  bool cancelled = false;
  double t_submit = 0, t_admit = 0, t_first = 0;
  RequestResult res;
  std::vector<int32_t> top_ids;  // top-logprob search
  int k_max = 0;                 // drafts per step (0: none)
  std::vector<int32_t> ctx;      // ngram drafts: the prompt and every token sampled since
  std::vector<int32_t> drafts;   // this step's proposals, after next_token in the batch
  std::vector<int32_t> guesses;  // MTP drafts: the MTP layer's guesses for the tokens after next_token
  // Drafts that fit after next_token (at n_past) within the request's positions.
  int draft_room() const { return std::min(k_max, reserve - n_past - 1); }
};

Engine::Engine(const Model& m, const Vocab& v, const EngineOptions& o)
    : m_(m),
      v_(v),
      o_(o),
      max_ctx_(o.max_ctx > 0 ? o.max_ctx
                             : std::min(o.pool_tokens, m.hp.n_ctx_train > 0 ? m.hp.n_ctx_train : o.pool_tokens)),
      cache_(m, std::max(1, std::min(max_ctx_, o.pool_tokens)), std::max(1, o.n_slots), o.kv_type, o.mtp),
      pool_(o.n_threads > 0 ? o.n_threads : int(std::max(1u, std::thread::hardware_concurrency()))) {
  if (o.n_slots < 1) throw Error("-np: need at least one sequence slot, got " + std::to_string(o.n_slots));
  if (o.pool_tokens < 1) throw Error("-c: the KV pool needs at least one position, got " + std::to_string(o.pool_tokens));
  if (o.batch_tokens < 1) throw Error("batch: need at least one token per step, got " + std::to_string(o.batch_tokens));
  max_ctx_ = std::min(max_ctx_, o.pool_tokens);
  for (int i = 0; i < o.n_slots; ++i) kv_.seqs.push_back(cache_.view(i));
  kv_.cache = cache_.stage_id();
  slots_.resize(size_t(o.n_slots));
  lanes_.resize(size_t(std::max(1, std::min(m.link ? m.link->stages() : 1, o.n_slots))));
  totals_.kv_pool_tokens = o.pool_tokens;
}

Engine::~Engine() { stop(); }

uint64_t Engine::submit(Request r) {
  if (r.prompt.empty()) throw Error("prompt: no tokens");
  for (int32_t t : r.prompt) {
    if (t < 0 || t >= m_.hp.n_vocab) {
      throw Error("prompt: token id " + std::to_string(t) + " is outside the vocabulary of " +
                  std::to_string(m_.hp.n_vocab));
    }
  }
  if (int(r.prompt.size()) >= max_ctx_) {
    throw Error("context: the prompt is " + std::to_string(r.prompt.size()) +
                " tokens; this server's context is " + std::to_string(max_ctx_) +
                " tokens per request, leaving no room to generate");
  }
  for (const auto& [tok, bias] : r.gen.sampling.logit_bias) {
    if (tok < 0 || tok >= m_.hp.n_vocab) throw Error("logit_bias: token id " + std::to_string(tok) + " is outside the vocabulary");
  }
  if (r.draft.kind == DraftKind::Mtp && !o_.mtp) {
    throw Error("draft: this engine keeps no cache rows for the MTP layer, so it cannot draft with it "
                "(dawn serve: start it with --draft mtp)");
  }
  const int k_max = draft_count(r.draft, "draft_n");
  auto q = std::make_unique<Seq>();
  q->k_max = k_max;
  q->t_submit = now_s();
  q->res.prompt_tokens = int(r.prompt.size());
  const int64_t want = r.gen.n_predict < 0 ? max_ctx_ : int64_t(r.prompt.size()) + r.gen.n_predict;
  q->reserve = int(std::min<int64_t>(want, max_ctx_));
  q->r = std::move(r);
  std::lock_guard<std::mutex> lock(mu_);
  q->id = next_id_++;
  const uint64_t id = q->id;
  waiting_.push_back(std::move(q));
  ++totals_.requests;
  cv_.notify_all();
  return id;
}

void Engine::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  cancels_.push_back(id);
  cv_.notify_all();
}

void Engine::finish(Seq& q, const std::string& reason, const std::string& error) {
  const double t = now_s();
  q.res.finish_reason = reason;
  q.res.error = error;
  if (q.g) q.res.tokens = q.g->tokens();
  q.res.queue_s = (q.t_admit > 0 ? q.t_admit : t) - q.t_submit;
  q.res.first_token_s = q.t_first > 0 ? q.t_first - q.t_submit : 0;
  q.res.total_s = t - q.t_submit;
  if (q.slot >= 0) {
    if (reason != "error" && reason != "cancelled") remember_prefix(q);
    cache_.release(q.slot);
    std::lock_guard<std::mutex> lock(mu_);
    reserved_tokens_ -= q.reserve;
    --totals_.running;
    totals_.drafted_tokens += uint64_t(q.res.drafted);  // only a running sequence drafts
    totals_.accepted_tokens += uint64_t(q.res.accepted);
  }
  if (q.r.on_done) q.r.on_done(q.res);
}

void Engine::remember_prefix(const Seq& q) {
  if (o_.prefix_cache_bytes == 0 || q.n_past < 2) return;
  const size_t bytes = size_t(q.n_past) * cache_.bytes_per_token();
  if (bytes > o_.prefix_cache_bytes) return;
  std::vector<int32_t> tokens(q.r.prompt);
  if (q.g) tokens.insert(tokens.end(), q.g->tokens().begin(), q.g->tokens().end());
  tokens.resize(size_t(q.n_past));
  std::lock_guard<std::mutex> lock(mu_);
  // An entry this one extends (or repeats) is no longer needed.
  for (auto it = prefixes_.begin(); it != prefixes_.end();) {
    if (it->tokens.size() <= tokens.size() && std::equal(it->tokens.begin(), it->tokens.end(), tokens.begin())) {
      prefix_bytes_ -= it->kv.size();
      cache_.drop_saved(it->id);
      it = prefixes_.erase(it);
    } else {
      ++it;
    }
  }
  while (!prefixes_.empty() && prefix_bytes_ + bytes > o_.prefix_cache_bytes) {
    prefix_bytes_ -= prefixes_.back().kv.size();
    cache_.drop_saved(prefixes_.back().id);
    prefixes_.pop_back();
  }
  PrefixEntry e;
  e.tokens = std::move(tokens);
  e.kv.resize(bytes);
  e.id = next_prefix_id_++;
  cache_.save(q.slot, q.n_past, e.kv.data(), e.id);
  prefix_bytes_ += bytes;
  prefixes_.push_front(std::move(e));
}

int Engine::lookup_prefix(const std::vector<int32_t>& prompt, int slot) {
  std::lock_guard<std::mutex> lock(mu_);
  auto best = prefixes_.end();
  size_t best_n = 0;
  for (auto it = prefixes_.begin(); it != prefixes_.end(); ++it) {
    const size_t n = std::min(it->tokens.size(), prompt.size());
    size_t k = 0;
    while (k < n && it->tokens[k] == prompt[k]) ++k;
    if (k > best_n) {
      best_n = k;
      best = it;
    }
  }
  // At least the last prompt token is run again: its logits start the generation.
  const int use = int(std::min(best_n, prompt.size() - 1));
  if (use <= 0) return 0;
  cache_.load(slot, use, best->kv.data(), int(best->tokens.size()), best->id);
  prefixes_.splice(prefixes_.begin(), prefixes_, best);
  return use;
}

void Engine::admit() {
  for (;;) {
    std::unique_ptr<Seq> q;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (waiting_.empty()) return;
      // First come, first served: the head waits for room rather than being overtaken.
      if (reserved_tokens_ + waiting_.front()->reserve > o_.pool_tokens) return;
      const auto free = std::find(slots_.begin(), slots_.end(), nullptr);
      if (free == slots_.end()) return;
      q = std::move(waiting_.front());
      waiting_.pop_front();
      q->slot = int(free - slots_.begin());
      reserved_tokens_ += q->reserve;
    }
    q->t_admit = now_s();
    q->g = std::make_unique<Generation>(v_, q->r.prompt, q->r.gen);
    if (q->r.draft.kind == DraftKind::Ngram) q->ctx = q->r.prompt;
    q->n_past = q->n_prompt_done = lookup_prefix(q->r.prompt, q->slot);
    q->res.cached_tokens = q->n_past;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++totals_.running;
      totals_.prompt_tokens += q->r.prompt.size();
      totals_.cached_tokens += uint64_t(q->n_past);
    }
    const int slot = q->slot;
    slots_[size_t(slot)] = std::move(q);
  }
}

void Engine::sample(Seq& q, const float* logits, TokenOut* out) {
  const int n_vocab = m_.hp.n_vocab;  // logprobs are the model's; the sampler's chain adds the logit bias
  out->top.clear();
  out->text.clear();
  out->id = q.g->next(logits, n_vocab, &out->text);
  out->eog = v_.is_eog(out->id);
  if (q.r.logprobs >= 0) {
    double max = logits[0];
    for (int i = 1; i < n_vocab; ++i) max = std::max(max, double(logits[i]));
    double sum = 0;
    for (int i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i]) - max);
    const double lse = max + std::log(sum);
    out->logprob = float(logits[out->id] - lse);
    if (q.r.logprobs > 0) {
      std::vector<int32_t>& ids = q.top_ids;
      ids.resize(static_cast<size_t>(n_vocab));
      for (int i = 0; i < n_vocab; ++i) ids[size_t(i)] = i;
      const int n = std::min(q.r.logprobs, n_vocab);
      std::partial_sort(ids.begin(), ids.begin() + n, ids.end(), [&](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
      });
      for (int i = 0; i < n; ++i) out->top.push_back({ids[size_t(i)], float(logits[ids[size_t(i)]] - lse)});
    }
  }
  q.next_token = out->id;
  // The next token needs a cache position; without one the request ends here.
  if (!q.g->done() && q.n_past >= max_ctx_) q.g->stop_for_context(&out->text);
}

void Engine::deliver(Seq& q, const TokenOut& out) {
  if (q.t_first == 0) q.t_first = now_s();
  if (q.r.on_token) q.r.on_token(out);
}

bool Engine::step() {
  std::vector<uint64_t> cancels;
  std::vector<std::unique_ptr<Seq>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancels.swap(cancels_);
    for (auto c = cancels.begin(); c != cancels.end();) {
      bool queued = false;
      for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
        if ((*it)->id == *c) {
          dropped.push_back(std::move(*it));
          waiting_.erase(it);
          queued = true;
          break;
        }
      }
      c = queued ? cancels.erase(c) : c + 1;
    }
  }
  for (auto& q : dropped) finish(*q, "cancelled");
  held_cancels_.insert(held_cancels_.end(), cancels.begin(), cancels.end());
  end_cancelled();
  admit();

  const int lane = next_lane_;
  next_lane_ = (next_lane_ + 1) % int(lanes_.size());
  Lane& ln = lanes_[size_t(lane)];
  // The other lanes in flight were started after this one's pass: they stay out meanwhile.
  const auto others_in_flight = [&] {
    int n = 0;
    for (size_t i = 0; i < lanes_.size(); ++i) n += int(i) != lane && lanes_[i].in_flight;
    return n;
  };
  bool worked = false;
  if (ln.in_flight) {
    finish_lane(ln, others_in_flight());
    end_cancelled();
    worked = true;
  }
  if (build(lane)) {
    forward_start(m_, kv_, ln.batch, pool_, ln.scratch);
    ln.in_flight = true;
    worked = true;
    if (lanes_.size() == 1) finish_lane(ln, 0);
  }
  if (worked) return true;
  for (const Lane& l : lanes_) {
    if (l.in_flight) return true;
  }
  return false;
}

void Engine::end_cancelled() {
  for (auto c = held_cancels_.begin(); c != held_cancels_.end();) {
    bool held = false;
    for (auto& slot : slots_) {
      if (!slot || slot->id != *c) continue;
      // A sequence whose lane is in flight ends once its pass is back.
      held = lanes_[size_t(lane_of(slot->slot))].in_flight;
      if (!held) {
        finish(*slot, "cancelled");
        slot.reset();
      }
    }
    c = held ? c + 1 : held_cancels_.erase(c);
  }
}

bool Engine::build(int lane) {
  Lane& ln = lanes_[size_t(lane)];
  // Decode tokens first (one per running sequence, with its drafts), then prompt chunks in slot order.
  ln.batch.clear();
  ln.parts.clear();
  ln.want_hidden = false;
  int budget = o_.batch_tokens, rows = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Seq* q = slots_[i].get();
    if (!q || lane_of(int(i)) != lane || q->n_prompt_done < int(q->r.prompt.size())) continue;
    // next_token goes at base, the proposals after it: within the request's positions and the budget.
    const int base = q->n_past;
    const int room = std::min(q->draft_room(), budget - 1);
    q->drafts.clear();
    if (room > 0 && q->r.draft.kind == DraftKind::Mtp) {
      q->drafts.assign(q->guesses.begin(), q->guesses.begin() + std::min<ptrdiff_t>(room, ptrdiff_t(q->guesses.size())));
    }
    if (room > 0 && q->r.draft.kind == DraftKind::Ngram) ngram_draft(q->ctx, q->r.draft.ngram_max, room, &q->drafts);
    const int n = 1 + int(q->drafts.size());
    ln.parts.push_back({int(i), ln.batch.size(), n, rows, n, true, 0});
    ln.batch.add(q->next_token, base, int(i), true);
    for (int k = 1; k < n; ++k) ln.batch.add(q->drafts[size_t(k - 1)], base + k, int(i), true);
    q->n_past = base + n;
    ln.want_hidden = ln.want_hidden || q->r.draft.kind == DraftKind::Mtp;
    rows += n;
    budget -= n;
  }
  const int n_decoding = ln.batch.size();
  if (n_decoding > 0) {
    budget = std::min(budget, o_.prefill_chunk > 0 ? o_.prefill_chunk : std::max(16, n_decoding));
  }
  for (size_t i = 0; i < slots_.size() && budget > 0; ++i) {
    Seq* q = slots_[i].get();
    if (!q || lane_of(int(i)) != lane || q->n_prompt_done >= int(q->r.prompt.size())) continue;
    const int n = std::min(budget, int(q->r.prompt.size()) - q->n_prompt_done);
    const bool ends = q->n_prompt_done + n == int(q->r.prompt.size());
    ln.parts.push_back({int(i), ln.batch.size(), n, rows, ends ? 1 : 0, false, 0});
    for (int k = 0; k < n; ++k) {
      const int at = q->n_prompt_done + k;
      ln.batch.add(q->r.prompt[size_t(at)], q->n_past++, int(i), ends && k == n - 1);
    }
    q->n_prompt_done += n;
    ln.want_hidden = ln.want_hidden || q->r.draft.kind == DraftKind::Mtp;
    rows += ends ? 1 : 0;
    budget -= n;
  }
  return ln.batch.size() > 0;
}

void Engine::sample_part(Part& p, const float* logits) {
  Seq& q = *slots_[size_t(p.slot)];
  const size_t V = size_t(m_.hp.n_vocab);
  p.used = 0;
  if (p.n_rows == 0) return;
  if (!p.decode) {
    sample(q, logits + size_t(p.row) * V, &outs_[size_t(p.row)]);
    p.used = 1;
    return;
  }
  // Row i's logits follow batch token i of the part: they are the trunk's own as long as every
  // proposal before them was the token chosen, so the walk stops at the first miss.
  const int base = q.n_past - p.n_tok;
  for (int i = 0; i < p.n_rows; ++i) {
    q.n_past = base + i + 1;  // what sample() checks the context against
    TokenOut& out = outs_[size_t(p.row + i)];
    sample(q, logits + size_t(p.row + i) * V, &out);
    p.used = i + 1;
    if (q.g->done() || i + 1 == p.n_rows || out.id != q.drafts[size_t(i)]) break;
    ++q.res.accepted;
  }
  q.res.drafted += p.n_rows - 1;
  // The cache rows of missed proposals are rewritten before they are read.
  q.n_past = base + p.used;
}

void Engine::run_mtp(Lane& ln) {
  // Each settled position of a sequence that drafts with MTP, with the token that follows it: the
  // next prompt token, or what was sampled after it. A finished sequence needs no more guesses.
  const int64_t D = m_.hp.n_embd;
  mtp_batch_.clear();
  mtp_states_.clear();
  mtp_rows_seq_.clear();
  for (const Part& p : ln.parts) {
    Seq& q = *slots_[size_t(p.slot)];
    if (q.r.draft.kind != DraftKind::Mtp || q.g->done()) continue;
    const int n = p.decode ? p.used : p.n_tok;
    for (int j = 0; j < n; ++j) {
      const int t = p.tok + j;
      int32_t next;
      if (j + 1 < n) {
        next = ln.batch.token[size_t(t + 1)];
      } else if (p.n_rows > 0) {
        next = q.next_token;
      } else {
        next = q.r.prompt[size_t(ln.batch.pos[size_t(t)] + 1)];  // a chunk in the middle of the prompt
      }
      const bool out = j + 1 == n && p.n_rows > 0;
      mtp_batch_.add(next, ln.batch.pos[size_t(t)], p.slot, out);
      mtp_states_.insert(mtp_states_.end(), ln.hidden.begin() + t * D, ln.hidden.begin() + (t + 1) * D);
      if (out) mtp_rows_seq_.push_back(&q);
    }
  }
  if (mtp_batch_.size() == 0) return;
  const size_t V = size_t(m_.hp.n_vocab);
  grow(mtp_logits_, mtp_rows_seq_.size() * V);
  grow(mtp_out_, mtp_rows_seq_.size() * size_t(D));
  forward_mtp(m_, kv_, mtp_batch_, mtp_states_.data(), mtp_logits_.data(), pool_, ln.scratch, mtp_out_.data());
  for (size_t r = 0; r < mtp_rows_seq_.size(); ++r) {
    mtp_rows_seq_[r]->guesses.assign(1, greedy_token(mtp_logits_.data() + r * V, int(V)));
  }
  // More drafts than one: the MTP layer chained on its own state, one position further per round
  // (its cache rows there are rewritten once those positions are settled), the sequences that
  // want another guess in one batch per round.
  for (int j = 1;; ++j) {
    mtp_batch_.clear();
    mtp_states_.clear();
    std::vector<size_t>& rows = mtp_chain_rows_;  // their rows of mtp_rows_seq_ and mtp_out_
    rows.clear();
    for (size_t r = 0; r < mtp_rows_seq_.size(); ++r) {
      Seq* q = mtp_rows_seq_[r];
      if (int(q->guesses.size()) != j || j >= q->draft_room()) continue;
      mtp_batch_.add(q->guesses.back(), q->n_past + j - 1, q->slot, true);
      mtp_states_.insert(mtp_states_.end(), mtp_out_.begin() + int64_t(r) * D, mtp_out_.begin() + int64_t(r + 1) * D);
      rows.push_back(r);
    }
    if (rows.empty()) return;
    forward_mtp(m_, kv_, mtp_batch_, mtp_states_.data(), mtp_logits_.data(), pool_, ln.scratch, mtp_states_.data());
    for (size_t i = 0; i < rows.size(); ++i) {
      mtp_rows_seq_[rows[i]]->guesses.push_back(greedy_token(mtp_logits_.data() + i * V, int(V)));
      std::copy(mtp_states_.begin() + int64_t(i) * D, mtp_states_.begin() + int64_t(i + 1) * D,
                mtp_out_.begin() + int64_t(rows[i]) * D);  // the state the next round starts from
    }
  }
}

void Engine::finish_lane(Lane& ln, int keep) {
  const size_t V = size_t(m_.hp.n_vocab);
  const size_t n_rows = size_t(ln.batch.n_outputs());
  if (ln.logits.size() < n_rows * V) ln.logits.resize(n_rows * V);
  if (ln.want_hidden) grow(ln.hidden, size_t(ln.batch.size()) * size_t(m_.hp.n_embd));
  ln.in_flight = false;
  forward_finish(m_, ln.batch, ln.logits.data(), pool_, ln.scratch, ln.want_hidden ? ln.hidden.data() : nullptr, keep);

  // Sampling is per sequence and independent: across the pool (a 150k-token softmax each), then the
  // callbacks in batch order on this thread.
  if (outs_.size() < n_rows) outs_.resize(n_rows);
  pool_.parallel_for(int64_t(ln.parts.size()), 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) sample_part(ln.parts[size_t(p)], ln.logits.data());
  });
  if (ln.want_hidden) run_mtp(ln);
  {
    std::lock_guard<std::mutex> lock(mu_);  // once a step, not once a token
    for (const Part& p : ln.parts) {
      for (int i = 0; i < p.used; ++i) totals_.generated_tokens += outs_[size_t(p.row + i)].eog ? 0 : 1;
    }
  }
  for (const Part& p : ln.parts) {
    if (p.used == 0) continue;
    std::unique_ptr<Seq>& q = slots_[size_t(p.slot)];
    for (int i = 0; i < p.used; ++i) {
      const TokenOut& out = outs_[size_t(p.row + i)];
      deliver(*q, out);
      if (q->r.draft.kind == DraftKind::Ngram) q->ctx.push_back(out.id);
    }
    if (q->g->done()) {
      const std::string& why = q->g->stop_reason();
      finish(*q, why == "eog" || why == "stop" ? "stop" : "length");
      q.reset();
    }
  }
}

void Engine::run_until_idle() {
  for (;;) {
    if (step()) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (waiting_.empty() && cancels_.empty()) return;
  }
}

void Engine::start() {
  stopping_ = false;
  thread_ = std::thread([this] {
    for (;;) {
      if (step()) continue;
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_ && waiting_.empty() && totals_.running == 0) return;
      if (waiting_.empty() && cancels_.empty()) cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
  });
}

void Engine::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineStats s = totals_;
  s.waiting = int(waiting_.size());
  s.kv_used_tokens = reserved_tokens_;
  s.prefix_cache_bytes = prefix_bytes_;
  s.prefix_cache_entries = int(prefixes_.size());
  return s;
}

}  // namespace dawn
