// Perplexity the way llama-perplexity measures it, so the two can be compared
// on the same file and text: the tokens are cut into chunks of n_ctx, each chunk
// starts with BOS (when the vocabulary adds one) in place of its first token, and
// only the second half of each chunk is scored, so every scored token sees at
// least n_ctx/2 tokens of context.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/session.h"

namespace dawn {

struct PerplexityResult {
  double ppl = 0;      // exp(mean negative log-likelihood)
  double ppl_err = 0;  // one standard error of ppl
  double nll = 0;      // mean negative log-likelihood (nats)
  int64_t n_scored = 0;
  int n_chunks = 0;
};

// `bos` < 0: the first token of each chunk is kept. Throws Error if the tokens do
// not fill two chunks. `on_chunk(i, n, running_ppl)` is called after each chunk.
PerplexityResult perplexity(Session& s, const std::vector<int32_t>& tokens, int n_ctx, int32_t bos, int max_chunks,
                            const std::function<void(int, int, double)>& on_chunk = {});

}  // namespace dawn
