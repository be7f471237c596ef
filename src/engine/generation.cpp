// Generation: one token at a time from logits to text (see generation.h).
#include "engine/generation.h"

#include <algorithm>

#include "text/unicode.h"

namespace dawn {

namespace {

// Bytes at the end of text that are a proper prefix of some stop string.
size_t stop_prefix_tail(const std::string& text, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const std::string& s : stops) {
    for (size_t n = std::min(s.size() - 1, text.size()); n > keep; --n) {
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
    }
  }
  return keep;
}

}  // namespace

Generation::Generation(const Vocab& v, const std::vector<int32_t>& prompt, const GenerateParams& p)
    : v_(v), p_(p), sampler_(p.sampling), history_(prompt) {
  if (p_.n_predict == 0) stop_reason_ = "length";
  if (p_.constraint.grammar) constraint_ = std::make_unique<Constraint>(v, p_.constraint);
}

int32_t Generation::next(const float* logits, int n_vocab, std::string* text) {
  int32_t tok;
  const int64_t remaining = p_.n_predict >= 0 ? p_.n_predict - int64_t(tokens_.size()) : -1;
  if (!constraint_) {
    tok = sampler_.sample(logits, n_vocab, history_);
  } else if (constraint_->forced(remaining) >= 0) {
    tok = constraint_->forced(remaining);
  } else {
    const TokenMask* mask = constraint_->mask();
    tok = sampler_.sample(logits, n_vocab, history_, mask);
    // Near max_tokens: a token after which the answer could not be finished in time is
    // redrawn (rejection keeps the distribution over the tokens that fit), then, failing
    // that, drawn from those tokens only.
    if (!constraint_->fits(tok, remaining)) {
      for (int k = 0; k < 4 && p_.sampling.temp > 0 && !constraint_->fits(tok, remaining); ++k)
        tok = sampler_.sample(logits, n_vocab, history_, mask);
      if (!constraint_->fits(tok, remaining))
        tok = sampler_.sample(logits, n_vocab, history_, constraint_->mask_within(remaining));
    }
  }
  if (constraint_) constraint_->take(tok);
  if (v_.is_eog(tok)) {
    *text += pending_;
    pending_.clear();
    stop_reason_ = "eog";
    return tok;
  }
  tokens_.push_back(tok);
  history_.push_back(tok);
  pending_ += v_.piece(tok);
  size_t cut = std::string::npos;
  for (const std::string& st : p_.stop) cut = std::min(cut, pending_.find(st));
  if (cut != std::string::npos) {
    *text += pending_.substr(0, cut);
    pending_.clear();
    stop_reason_ = "stop";
    return tok;
  }
  const size_t ready = utf8_complete_prefix(pending_.substr(0, pending_.size() - stop_prefix_tail(pending_, p_.stop)));
  if (ready > 0) {
    *text += pending_.substr(0, ready);
    pending_.erase(0, ready);
  }
  if (p_.n_predict >= 0 && int(tokens_.size()) >= p_.n_predict) {
    *text += pending_;
    pending_.clear();
    stop_reason_ = "length";
  }
  return tok;
}

void Generation::stop_for_context(std::string* text) {
  *text += pending_;
  pending_.clear();
  if (stop_reason_.empty()) stop_reason_ = "context";
}

}  // namespace dawn
