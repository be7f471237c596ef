#include "engine/generate.h"

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

GenerateResult generate(Session& s, const Vocab& v, const std::vector<int32_t>& prompt, const GenerateParams& p,
                        const std::function<void(const std::string&)>& on_text) {
  GenerateResult r;
  Sampler sampler(p.sampling);
  std::vector<int32_t> history = prompt;
  const float* logits = s.eval(prompt.data(), int(prompt.size()));
  std::string pending;
  r.stop_reason = "length";
  for (int i = 0; p.n_predict < 0 || i < p.n_predict; ++i) {
    const int32_t tok = sampler.sample(logits, s.model().hp.n_vocab, history);
    if (v.is_eog(tok)) {
      r.stop_reason = "eog";
      break;
    }
    r.tokens.push_back(tok);
    history.push_back(tok);
    pending += v.piece(tok);
    size_t cut = std::string::npos;
    for (const std::string& st : p.stop) cut = std::min(cut, pending.find(st));
    if (cut != std::string::npos) {
      on_text(pending.substr(0, cut));
      pending.clear();
      r.stop_reason = "stop";
      break;
    }
    const size_t ready = utf8_complete_prefix(pending.substr(0, pending.size() - stop_prefix_tail(pending, p.stop)));
    if (ready > 0) {
      on_text(pending.substr(0, ready));
      pending.erase(0, ready);
    }
    if (s.pos() >= s.n_ctx()) {
      r.stop_reason = "context";
      break;
    }
    logits = s.eval(&tok, 1);
  }
  if (!pending.empty()) on_text(pending);
  return r;
}

}  // namespace dawn
