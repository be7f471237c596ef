// "Free to think, strict to answer": a grammar constraint on one generation that leaves the
// reasoning alone. With a template that opened <think> (or a model that opens it first), tokens
// are free until </think> (anything but the end of generation: an answer must follow); from
// there the grammar masks every token. A reasoning budget closes the think block by force after
// so many tokens.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "text/grammar_matcher.h"
#include "text/vocab.h"

namespace dawn {

struct ConstraintParams {
  std::shared_ptr<CompiledGrammar> grammar;  // null: no constraint
  bool in_reasoning = false;  // the prompt ends inside <think> (R1's template opens it)
  bool may_reason = false;    // the model may open <think> itself as its first token
  int reasoning_budget = -1;  // reasoning tokens before </think> is forced; < 0: no cap
};

class Constraint {
 public:
  Constraint(const Vocab& v, ConstraintParams p);

  // The token that must come next (the budget's </think>), or -1.
  int32_t forced() const { return forced_.empty() ? -1 : forced_.front(); }
  // The tokens that may come next (while reasoning: any but the end). remaining: how many more
  // tokens the generation may take (< 0: no limit); near it only tokens after which the grammar
  // can still be completed in time are allowed, so that a length-limited answer still parses.
  const TokenMask* mask(int64_t remaining = -1);
  // Records the token taken (sampled, or forced()).
  void take(int32_t tok);
  // The grammar refused a token, or allowed none: the generation must end.
  bool failed() const { return failed_; }
  bool reasoning() const { return phase_ == Thinking; }

 private:
  enum Phase { Start, Thinking, Strict };

  const Vocab& v_;
  ConstraintParams p_;
  GrammarMatcher m_;
  TokenMask mask_, free_;
  Phase phase_ = Strict;
  int32_t think_open_ = -1, think_close_ = -1;  // single tokens <think> / </think>, if the vocabulary has them
  int thought_ = 0;                             // reasoning tokens so far
  std::string tail_;                            // the reasoning's last bytes, for a </think> spread over tokens
  std::vector<int32_t> forced_;
  bool failed_ = false;
};

}  // namespace dawn
