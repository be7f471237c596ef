// One sequence being evaluated: the model, its cache, the thread pool and the
// buffers a forward pass reuses.
#pragma once
#include <vector>

#include "engine/kv_cache.h"
#include "kernels/thread_pool.h"
#include "models/model.h"

namespace dawn {

class Session {
 public:
  Session(const Model& m, int n_ctx, int n_threads, KvType kv_type = KvType::F32);

  // Appends tokens at the current position. Returns n_vocab logits for the last
  // token, or for every token (row-major) when all_logits. Throws Error when the
  // context would overflow.
  const float* eval(const int32_t* tokens, int n, bool all_logits = false);
  int64_t pos() const { return pos_; }
  // Forgets the sequence so the next eval starts at position 0.
  void reset() { pos_ = 0; }
  // Keeps the first `pos` cached tokens (a shared prompt prefix) and drops the rest.
  void rewind(int64_t pos) { pos_ = pos < pos_ ? (pos > 0 ? pos : 0) : pos_; }
  int n_ctx() const { return cache_.n_ctx(); }
  const Model& model() const { return m_; }
  const KvCache& cache() const { return cache_; }

 private:
  const Model& m_;
  KvCache cache_;
  SeqKv kv_;  // one sequence: slot 0
  Batch batch_;
  ThreadPool pool_;
  Scratch scratch_;
  std::vector<float> logits_;
  int64_t pos_ = 0;
};

}  // namespace dawn
