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

  // The token that must come next, or -1: the </think> the budget forces, or that reasoning
  // gets when only enough of the generation's `remaining` tokens (< 0: no limit) are left for
  // the shortest answer.
  int32_t forced(int64_t remaining = -1);
  // The tokens that may come next (while reasoning: any but the end).
  const TokenMask* mask();
  // Whether the answer can still be completed in remaining - 1 more tokens after tok (each
  // byte of a shortest completion is a token at worst), so that an answer cut by max_tokens
  // still parses; mask_within is the mask of those tokens (a walk of every allowed one: only
  // when the sampled token does not fit).
  bool fits(int32_t tok, int64_t remaining);
  const TokenMask* mask_within(int64_t remaining);
  // Records the token taken (sampled, or forced()).
  void take(int32_t tok);

 private:
  const TokenMask* or_end();  // mask_, or the end of generation when it allows nothing

  enum Phase { Start, Thinking, Strict };

  const Vocab& v_;
  ConstraintParams p_;
  GrammarMatcher m_;
  TokenMask mask_, free_;
  Phase phase_ = Strict;
  int32_t think_open_ = -1;  // the single token <think>, if the vocabulary has it
  int thought_ = 0;                             // reasoning tokens so far
  std::string tail_;                            // the reasoning's last bytes, for a </think> spread over tokens
  std::vector<int32_t> forced_, close_;  // what is forced; a forced close of the think block
  int64_t answer_min_ = 0;                // bytes of the shortest answer
};

}  // namespace dawn
