// A batch of tokens for one forward pass, from one or more sequences at their own positions
// (as llama.cpp's llama_ubatch): per token its sequence slot and position, and whether its
// logits are wanted. Plain arrays, reused from step to step.
#pragma once
#include <cstdint>
#include <vector>

namespace dawn {

struct Batch {
  std::vector<int32_t> token, pos, seq;
  std::vector<uint8_t> logits;  // 1: this token's logits are written, in batch order

  void clear() {
    token.clear();
    pos.clear();
    seq.clear();
    logits.clear();
  }
  void add(int32_t tok, int32_t p, int32_t s, bool want_logits) {
    token.push_back(tok);
    pos.push_back(p);
    seq.push_back(s);
    logits.push_back(want_logits ? 1 : 0);
  }
  int size() const { return int(token.size()); }
  // Rows of logits the pass writes.
  int n_outputs() const {
    int n = 0;
    for (uint8_t w : logits) n += w;
    return n;
  }
};

}  // namespace dawn
