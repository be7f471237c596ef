// One request's generation state: the sampler, the token history, stop strings with the
// hold-back of a tail that might begin one, text handed out in whole UTF-8 characters, and
// the end-of-generation check. The CLI's generate() loop and the server's engine both drive it,
// one token at a time, from whatever forward pass produced the logits.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/constraint.h"
#include "engine/sampler.h"
#include "text/vocab.h"

namespace dawn {

struct GenerateParams {
  int n_predict = 128;  // < 0: until the context is full
  SamplerParams sampling;
  std::vector<std::string> stop;
  ConstraintParams constraint;  // a grammar (none by default), free while reasoning
};

class Generation {
 public:
  Generation(const Vocab& v, const std::vector<int32_t>& prompt, const GenerateParams& p);

  // Samples the next token from the logits of the last one and appends the text now certain to
  // *text (possibly nothing: held back). Returns the token; after it, done() may be true (then
  // the token is not part of the output when it ended generation as end-of-generation).
  int32_t next(const float* logits, int n_vocab, std::string* text);
  // Ends the generation because the context is full; *text gets what was held back.
  void stop_for_context(std::string* text);

  bool done() const { return !stop_reason_.empty(); }
  // "length", "eog", "stop" or "context" once done().
  const std::string& stop_reason() const { return stop_reason_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }  // generated, in order
  const std::vector<int32_t>& history() const { return history_; }

 private:
  const Vocab& v_;
  GenerateParams p_;
  Sampler sampler_;
  std::unique_ptr<Constraint> constraint_;
  std::vector<int32_t> history_, tokens_;
  std::string pending_, stop_reason_;
};

}  // namespace dawn
