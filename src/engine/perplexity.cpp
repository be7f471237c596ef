#include "engine/perplexity.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace dawn {

PerplexityResult perplexity(Session& s, const std::vector<int32_t>& tokens, int n_ctx, int32_t bos, int max_chunks,
                            const std::function<void(int, int, double)>& on_chunk) {
  if (n_ctx < 4) throw Error("perplexity: context size " + std::to_string(n_ctx) + " is too small (at least 4)");
  if (n_ctx > s.n_ctx()) {
    throw Error("perplexity: context size " + std::to_string(n_ctx) + " exceeds the session's " +
                std::to_string(s.n_ctx()));
  }
  if (tokens.size() < 2 * size_t(n_ctx)) {
    throw Error("perplexity: the text is " + std::to_string(tokens.size()) + " tokens; a context of " +
                std::to_string(n_ctx) + " needs at least " + std::to_string(2 * n_ctx) + " (lower -c)");
  }
  int n_chunks = int(tokens.size() / size_t(n_ctx));
  if (max_chunks > 0) n_chunks = std::min(n_chunks, max_chunks);
  const int V = s.model().hp.n_vocab;
  const int first = n_ctx / 2;
  std::vector<int32_t> chunk(n_ctx);
  double nll = 0, nll2 = 0;
  int64_t count = 0;
  for (int c = 0; c < n_chunks; ++c) {
    const int32_t* src = tokens.data() + size_t(c) * n_ctx;
    std::copy(src, src + n_ctx, chunk.begin());
    if (bos >= 0) chunk[0] = bos;
    s.reset();
    const float* logits = s.eval(chunk.data(), n_ctx, true);
    for (int j = first; j < n_ctx - 1; ++j) {
      const float* row = logits + size_t(j) * V;
      const float mx = *std::max_element(row, row + V);
      double sum = 0;
      for (int i = 0; i < V; ++i) sum += std::exp(double(row[i] - mx));
      const double lp = double(row[src[j + 1]] - mx) - std::log(sum);
      nll -= lp;
      nll2 += lp * lp;
      ++count;
    }
    if (on_chunk) on_chunk(c + 1, n_chunks, std::exp(nll / double(count)));
  }
  PerplexityResult r;
  r.n_chunks = n_chunks;
  r.n_scored = count;
  r.nll = nll / double(count);
  r.ppl = std::exp(r.nll);
  const double var = nll2 / double(count) - r.nll * r.nll;
  r.ppl_err = var > 0 && count > 1 ? std::sqrt(var / double(count - 1)) * r.ppl : 0;
  return r;
}

}  // namespace dawn
