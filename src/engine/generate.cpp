// The CLI's generation loop over one Session: prompt, then one token at a time (generation.h).
#include "engine/generate.h"

namespace dawn {

GenerateResult generate(Session& s, const Vocab& v, const std::vector<int32_t>& prompt, const GenerateParams& p,
                        const std::function<void(const std::string&)>& on_text) {
  Generation g(v, prompt, p);
  const float* logits = s.eval(prompt.data(), int(prompt.size()));
  std::string text;
  while (!g.done()) {
    text.clear();
    const int32_t tok = g.next(logits, s.model().hp.n_vocab, &text);
    if (!g.done() && s.pos() >= s.n_ctx()) g.stop_for_context(&text);
    if (!text.empty()) on_text(text);
    if (g.done()) break;
    logits = s.eval(&tok, 1);
  }
  return {g.tokens(), g.stop_reason()};
}

}  // namespace dawn
