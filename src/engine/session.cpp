#include "engine/session.h"

#include "util/error.h"

namespace dawn {

Session::Session(const Model& m, int n_ctx, int n_threads, KvType kv_type, bool with_mtp)
    : m_(m),
      cache_(m, n_ctx, 1, kv_type, with_mtp),
      kv_{{cache_.view(0)}, cache_.stage_id()},
      own_pool_(std::make_unique<ThreadPool>(n_threads)),
      pool_(own_pool_.get()),
      with_mtp_(with_mtp) {}

Session::Session(const Model& m, int n_ctx, ThreadPool& shared, KvType kv_type)
    : m_(m), cache_(m, n_ctx, 1, kv_type, false), kv_{{cache_.view(0)}, cache_.stage_id()}, pool_(&shared), with_mtp_(false) {}

void Session::check_tokens(const int32_t* tokens, int n) const {
  for (int i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= m_.hp.n_vocab) {
      throw Error("tokens: id " + std::to_string(tokens[i]) + " is outside the vocabulary of " +
                  std::to_string(m_.hp.n_vocab));
    }
  }
}

const float* Session::eval(const int32_t* tokens, int n, bool all_logits) {
  if (n <= 0) throw Error("eval: no tokens to evaluate");
  if (pos_ + n > cache_.n_ctx()) {
    throw Error("context: " + std::to_string(pos_ + n) + " tokens do not fit the context size of " +
                std::to_string(cache_.n_ctx()) + " (raise -c/--ctx-size)");
  }
  check_tokens(tokens, n);
  const size_t need = size_t(all_logits ? n : 1) * size_t(m_.hp.n_vocab);
  if (logits_.size() < need) logits_.resize(need);
  batch_.clear();
  for (int i = 0; i < n; ++i) batch_.add(tokens[i], int32_t(pos_ + i), 0, all_logits || i == n - 1);
  if (with_mtp_) grow(hidden_, size_t(n) * size_t(m_.hp.n_embd));
  forward(m_, kv_, batch_, logits_.data(), *pool_, scratch_, with_mtp_ ? hidden_.data() : nullptr);
  pos_ += n;
  return logits_.data();
}

const float* Session::eval_mtp(const int32_t* next_tokens, const float* states, int n) {
  if (!with_mtp_) throw Error("eval_mtp: the session was made without the MTP layer");
  const int64_t pos = mtp_pos_;
  if (n <= 0 || pos + n > pos_) {
    throw Error("eval_mtp: positions " + std::to_string(pos) + " + " + std::to_string(n) +
                " are past the trunk's " + std::to_string(pos_));
  }
  check_tokens(next_tokens, n);
  mtp_pos_ += n;
  grow(mtp_logits_, size_t(m_.hp.n_vocab));
  grow(mtp_out_, size_t(m_.hp.n_embd));
  batch_.clear();
  for (int i = 0; i < n; ++i) batch_.add(next_tokens[i], int32_t(pos + i), 0, i == n - 1);
  forward_mtp(m_, kv_, batch_, states, mtp_logits_.data(), *pool_, scratch_, mtp_out_.data());
  return mtp_logits_.data();
}

const float* Session::eval_mtp_ahead(int32_t token, const float* state, int64_t pos) {
  if (!with_mtp_) throw Error("eval_mtp_ahead: the session was made without the MTP layer");
  if (pos < mtp_pos_ || pos >= cache_.n_ctx()) {
    throw Error("eval_mtp_ahead: position " + std::to_string(pos) + " is outside " + std::to_string(mtp_pos_) + " .. " +
                std::to_string(cache_.n_ctx() - 1));
  }
  check_tokens(&token, 1);
  grow(mtp_logits_, size_t(m_.hp.n_vocab));
  grow(mtp_out_, size_t(m_.hp.n_embd));
  batch_.clear();
  batch_.add(token, int32_t(pos), 0, true);
  forward_mtp(m_, kv_, batch_, state, mtp_logits_.data(), *pool_, scratch_, mtp_out_.data());  // state may be mtp_out()
  return mtp_logits_.data();
}

}  // namespace dawn
