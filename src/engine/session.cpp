#include "engine/session.h"

#include "util/error.h"

namespace dawn {

Session::Session(const Model& m, int n_ctx, int n_threads, KvType kv_type)
    : m_(m), cache_(m, n_ctx, 1, kv_type), kv_{cache_.view(0)}, pool_(n_threads) {}

const float* Session::eval(const int32_t* tokens, int n, bool all_logits) {
  if (n <= 0) throw Error("eval: no tokens to evaluate");
  if (pos_ + n > cache_.n_ctx()) {
    throw Error("context: " + std::to_string(pos_ + n) + " tokens do not fit the context size of " +
                std::to_string(cache_.n_ctx()) + " (raise -c/--ctx-size)");
  }
  for (int i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= m_.hp.n_vocab) {
      throw Error("tokens: id " + std::to_string(tokens[i]) + " is outside the vocabulary of " +
                  std::to_string(m_.hp.n_vocab));
    }
  }
  const size_t need = size_t(all_logits ? n : 1) * size_t(m_.hp.n_vocab);
  if (logits_.size() < need) logits_.resize(need);
  batch_.clear();
  for (int i = 0; i < n; ++i) batch_.add(tokens[i], int32_t(pos_ + i), 0, all_logits || i == n - 1);
  forward(m_, kv_, batch_, logits_.data(), pool_, scratch_);
  pos_ += n;
  return logits_.data();
}

}  // namespace dawn
