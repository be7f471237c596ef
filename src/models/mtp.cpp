// DeepSeek-V3's multi-token-prediction module: from the trunk's state at position p and the token at
// p + 1, one more decoder layer guesses the token at p + 2 (the V3 report, section 2.2). Its guesses
// are drafts that the trunk then verifies (engine/speculative.h).
#include <algorithm>

#include "models/model.h"
#include "ops/matmul.h"
#include "ops/norm.h"

namespace dawn {

void forward_mtp(const Model& m, const SeqKv& kv, const Batch& b, const float* hidden, float* logits,
                 ThreadPool& pool, Scratch& s, float* states) {
  const Hparams& hp = m.hp;
  const Layer& L = m.mtp_layers[0];
  const int64_t D = hp.n_embd;
  const int n_tok = b.size();
  grow(s.x, size_t(n_tok * D));
  grow(s.mtp_in, size_t(n_tok * 2 * D));
  embed_tokens(m, b.token.data(), n_tok, s.x.data());
  // The projection's input is [enorm(embedding); hnorm(state)], in that order (as DeepSeek's
  // reference and the converters lay out eh_proj's columns).
  for (int t = 0; t < n_tok; ++t) {
    float* in = s.mtp_in.data() + t * 2 * D;
    rms_norm(s.x.data() + t * D, L.nextn_enorm.f32(), D, hp.rms_eps, in);
    rms_norm(hidden + t * D, L.nextn_hnorm.f32(), D, hp.rms_eps, in + D);
  }
  matmul(L.nextn_eh_proj, s.mtp_in.data(), n_tok, s.x.data(), pool, s.act);
  rope_tables(hp, b, s);
  deepseek2_layer(m, L, hp.n_layer, kv, b, pool, s);
  // The head is the trunk's output matrix, after the module's own norm (files without one: the trunk's).
  const Weight& head_norm = L.nextn_head_norm.empty() ? m.output_norm : L.nextn_head_norm;
  grow(s.h, size_t(n_tok * D));
  int n_out = 0;
  for (int t = 0; t < n_tok; ++t) {
    if (b.logits[t]) rms_norm(s.x.data() + t * D, head_norm.f32(), D, hp.rms_eps, s.h.data() + n_out++ * D);
  }
  if (n_out > 0) matmul(m.output, s.h.data(), n_out, logits, pool, s.act);
  if (states) std::copy(s.h.begin(), s.h.begin() + n_out * D, states);
}

}  // namespace dawn
