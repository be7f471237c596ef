// The reasoning-aware grammar constraint (constraint.h).
#include "engine/constraint.h"

#include <algorithm>

namespace dawn {

namespace {
constexpr std::string_view kOpen = "<think>", kClose = "</think>";
}

Constraint::Constraint(const Vocab& v, ConstraintParams p) : v_(v), p_(std::move(p)), m_(p_.grammar) {
  think_open_ = v_.find(std::string(kOpen));
  const int32_t think_close = v_.find(std::string(kClose));
  phase_ = p_.in_reasoning ? Thinking : p_.may_reason && think_open_ >= 0 ? Start : Strict;
  // How a forced close reads: one token where the vocabulary has it.
  const std::string close = "\n</think>\n\n";
  close_ = think_close >= 0 ? std::vector<int32_t>{think_close} : v_.encode(close, false, false);
  answer_min_ = m_.distance();
  if (phase_ == Thinking && p_.reasoning_budget == 0) take(-1);  // no reasoning at all: close at once
}

const TokenMask* Constraint::mask() {
  if (phase_ == Thinking) {
    // Free, but not the end: an answer in the grammar must still follow (the budget, or the
    // model, closes the block).
    if (free_.bits.empty()) {
      free_.bits.assign((size_t(v_.size()) + 63) / 64, ~uint64_t(0));
      for (int32_t id : m_.grammar().eog()) free_.bits[size_t(id) / 64] &= ~(uint64_t(1) << (id % 64));
    }
    return &free_;
  }
  m_.fill_mask(mask_);
  if (phase_ == Start) mask_.set(think_open_);
  return or_end();
}

const TokenMask* Constraint::or_end() {
  // Nothing can continue (the vocabulary cannot spell what comes next): the generation ends.
  if (mask_.count() == 0)
    for (int32_t id : m_.grammar().eog()) mask_.set(id);
  return &mask_;
}

bool Constraint::fits(int32_t tok, int64_t remaining) {
  if (phase_ == Thinking || remaining < 0 || (phase_ == Start && tok == think_open_)) return true;
  return m_.distance_after(tok) <= remaining - 1;
}

const TokenMask* Constraint::mask_within(int64_t remaining) {
  m_.fill_mask_within(remaining, mask_);
  return or_end();
}

int32_t Constraint::forced(int64_t remaining) {
  // Reasoning that would leave too few tokens for the shortest answer is closed now.
  if (phase_ == Thinking && forced_.empty() && remaining >= 0 && remaining <= answer_min_ + int64_t(close_.size()) + 2)
    forced_ = close_;
  return forced_.empty() ? -1 : forced_.front();
}

void Constraint::take(int32_t tok) {
  if (!forced_.empty() && tok == forced_.front()) forced_.erase(forced_.begin());
  if (phase_ == Start) {
    if (tok == think_open_) {
      phase_ = Thinking;
      return;
    }
    phase_ = Strict;
  }
  if (phase_ == Thinking) {
    if (tok >= 0) {
      ++thought_;
      tail_ += v_.piece(tok, true);
      if (tail_.find(kClose) != std::string::npos) {
        phase_ = Strict;
        forced_.clear();
        return;
      }
      if (tail_.size() > 2 * kClose.size()) tail_ = tail_.substr(tail_.size() - kClose.size());
    }
    if (p_.reasoning_budget >= 0 && thought_ >= p_.reasoning_budget && forced_.empty()) {
      // Out of budget: close the block (one token where the vocabulary has it).
      forced_ = close_;
    }
    return;
  }
  m_.accept(tok);  // a token of the mask: always taken
}

}  // namespace dawn
