// One sequence being evaluated: the model, its cache, the thread pool and the
// buffers a forward pass reuses.
#pragma once
#include <algorithm>
#include <memory>
#include <vector>

#include "engine/kv_cache.h"
#include "kernels/thread_pool.h"
#include "models/model.h"

namespace dawn {

class Session {
 public:
  // with_mtp: also the cache of the model's MTP layer, and each eval keeps every token's final
  // state for it (hidden()); throws Error when the model has no MTP layer.
  Session(const Model& m, int n_ctx, int n_threads, KvType kv_type = KvType::F32, bool with_mtp = false);
  // On another session's threads (a draft model beside its trunk: one pool, so neither's workers
  // spin while the other's run); `shared` must outlive this session.
  Session(const Model& m, int n_ctx, ThreadPool& shared, KvType kv_type = KvType::F32);

  // Appends tokens at the current position. Returns n_vocab logits for the last
  // token, or for every token (row-major) when all_logits. Throws Error when the
  // context would overflow.
  const float* eval(const int32_t* tokens, int n, bool all_logits = false);
  // With MTP: the trunk's final states (n x n_embd) of the tokens of the last eval.
  const float* hidden() const { return hidden_.data(); }
  // With MTP: runs the MTP layer at its next n positions (from mtp_pos()), given for each the token
  // that follows it and the trunk's state there (n x n_embd); returns the logits of its guess for
  // the token after the last.
  const float* eval_mtp(const int32_t* next_tokens, const float* states, int n);
  // The MTP layer's own final state at the position of its last guess (eval_mtp, eval_mtp_ahead).
  const float* mtp_out() const { return mtp_out_.data(); }
  // A chained guess: the MTP layer at position pos (at or past mtp_pos(), which stays) given the
  // token there and, for the state, its own mtp_out() from the position before; returns the logits
  // of its guess for the token after. The cache row it writes is rewritten once pos is settled.
  const float* eval_mtp_ahead(int32_t token, const float* state, int64_t pos);
  // Positions the MTP layer has run at (its cache rows below are filled); never past pos().
  int64_t mtp_pos() const { return mtp_pos_; }
  // Moves it (to pos() at most): the rows skipped stay as they were, which only costs guesses.
  void set_mtp_pos(int64_t p) { mtp_pos_ = std::min(std::max<int64_t>(p, 0), pos_); }
  // The trunk's state at mtp_pos(), kept by a generation that ended before the token after it was
  // known (empty otherwise): the next generation runs the MTP layer there first.
  std::vector<float>& mtp_state() { return mtp_state_; }
  int64_t pos() const { return pos_; }
  // Forgets the sequence so the next eval starts at position 0.
  void reset() { rewind(0); }
  // Keeps the first `pos` cached tokens (a shared prompt prefix) and drops the rest.
  void rewind(int64_t pos) {
    pos_ = pos < pos_ ? (pos > 0 ? pos : 0) : pos_;
    if (mtp_pos_ >= pos_) {
      mtp_pos_ = pos_;
      mtp_state_.clear();
    }
  }
  int n_ctx() const { return cache_.n_ctx(); }
  const Model& model() const { return m_; }
  const KvCache& cache() const { return cache_; }
  ThreadPool& pool() { return *pool_; }
  // Routed experts the passes so far ran (per layer, each counted once per pass; MoeScratch).
  int64_t experts_run() const { return scratch_.moe.experts_run; }

 private:
  void check_tokens(const int32_t* tokens, int n) const;  // throws Error for an id outside the vocabulary

  const Model& m_;
  KvCache cache_;
  SeqKv kv_;  // one sequence: slot 0
  Batch batch_;
  std::unique_ptr<ThreadPool> own_pool_;
  ThreadPool* pool_;
  Scratch scratch_;
  std::vector<float> logits_, hidden_, mtp_logits_;  // MTP's apart: the trunk's stay readable
  std::vector<float> mtp_state_, mtp_out_;
  bool with_mtp_;
  int64_t pos_ = 0, mtp_pos_ = 0;
};

}  // namespace dawn
