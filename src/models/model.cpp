// The model's shared pieces: architecture names, cache row sizes, and the forward pass over a
// batch (embedding, the layers this process holds, a split's later stages, the head). Loading is
// in model_load.cpp, each family's layers in its own file.
#include "models/model.h"

#include <algorithm>
#include <numeric>

#include "ops/activation.h"
#include "ops/norm.h"

namespace dawn {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Llama: return "llama";
    case Arch::Qwen2: return "qwen2";
    case Arch::Qwen3: return "qwen3";
    case Arch::Deepseek2: return "deepseek2";
  }
  return "?";
}

int64_t Model::kv_k_dim() const {
  if (hp.arch == Arch::Deepseek2) return hp.kv_lora_rank + hp.qk_rope;
  return int64_t(hp.n_head_kv) * hp.head_dim_k;
}

int64_t Model::kv_v_dim() const {
  if (hp.arch == Arch::Deepseek2) return 0;
  return int64_t(hp.n_head_kv) * hp.head_dim_v;
}

int Model::kv_heads() const { return hp.arch == Arch::Deepseek2 ? 1 : hp.n_head_kv; }

int64_t Model::kv_slice_align() const {
  if (hp.arch == Arch::Deepseek2) return std::gcd(kv_k_dim(), hp.kv_lora_rank);
  return std::gcd(hp.head_dim_k, hp.head_dim_v);
}

void embed_tokens(const Model& m, const int32_t* tokens, int n_tok, float* x) {
  for (int t = 0; t < n_tok; ++t) dequantize_row(m.tok_embd, tokens[t], x + int64_t(t) * m.hp.n_embd);
}

void swiglu_ffn(const Weight& gate, const Weight& up, const Weight& down, const float* h, int n_tok, float* out,
                ThreadPool& pool, Scratch& s) {
  const int64_t F = gate.rows;
  grow(s.ffn_g, size_t(n_tok * F));
  grow(s.ffn_u, size_t(n_tok * F));
  const MatmulTask gate_up[2] = {{gate, h, n_tok, s.ffn_g.data()}, {up, h, n_tok, s.ffn_u.data()}};
  matmul_batch(gate_up, 2, pool, s.act);
  swiglu(s.ffn_g.data(), s.ffn_u.data(), n_tok * F);
  matmul(down, s.ffn_g.data(), n_tok, out, pool, s.act);
}

void rope_tables(const Hparams& hp, const Batch& b, Scratch& s) {
  const int64_t half = hp.rope.n_rot / 2;
  grow(s.cs, size_t(b.size() * 2 * half));
  for (int t = 0; t < b.size(); ++t) {
    rope_cos_sin(hp.rope, b.pos[t], s.cs.data() + t * 2 * half, s.cs.data() + t * 2 * half + half);
  }
}

int64_t max_kv_len(const Batch& b) {
  int64_t n = 0;
  for (int32_t p : b.pos) n = std::max<int64_t>(n, int64_t(p) + 1);
  return n;
}

void norm_rows(const float* x, const Weight& w, int n_tok, int64_t n, float eps, float* out) {
  for (int t = 0; t < n_tok; ++t) rms_norm(x + t * n, w.f32(), n, eps, out + t * n);
}

void forward_layers(const Model& m, const SeqKv& kv, const Batch& b, ThreadPool& pool, Scratch& s) {
  if (m.hp.arch == Arch::Deepseek2) {
    forward_deepseek2(m, kv, b, pool, s);
  } else {
    forward_llama(m, kv, b, pool, s);
  }
}

void forward_start(const Model& m, const SeqKv& kv, const Batch& b, ThreadPool& pool, Scratch& s) {
  const int64_t D = m.hp.n_embd;
  const int n_tok = b.size();
  if (m.link) m.link->begin(kv.cache, b);
  grow(s.x, size_t(n_tok * D));
  embed_tokens(m, b.token.data(), n_tok, s.x.data());
  s.in_flight = m.link && m.link->stages() > 1;
  if (!s.in_flight) {
    forward_layers(m, kv, b, pool, s);
    return;
  }
  // Each piece goes on to the later stages as soon as this stage has run it, so the stages work
  // on different pieces at once. A later piece's tokens attend to an earlier one's: every stage
  // runs the pieces in order, so those rows are in its cache by then. Their output comes back
  // into s.stage_x.
  const int pieces = std::max(1, std::min(m.link->pieces(n_tok), n_tok));
  grow(s.stage_x, size_t(n_tok * D));
  std::copy(s.x.data(), s.x.data() + n_tok * D, s.stage_x.data());
  for (int p = 0; p < pieces; ++p) {
    const int a = int(int64_t(n_tok) * p / pieces), e = int(int64_t(n_tok) * (p + 1) / pieces);
    s.piece.clear();
    for (int t = a; t < e; ++t) s.piece.add(b.token[t], b.pos[t], b.seq[t], b.logits[t]);
    std::copy(s.stage_x.data() + a * D, s.stage_x.data() + e * D, s.x.data());
    forward_layers(m, kv, s.piece, pool, s);
    m.link->send_piece(kv.cache, s.piece, s.x.data(), s.stage_x.data() + a * D, p + 1 == pieces);
  }
}

void forward_finish(const Model& m, const Batch& b, float* logits, ThreadPool& pool, Scratch& s, float* hidden,
                    int keep) {
  const int64_t D = m.hp.n_embd;
  const int n_tok = b.size();
  if (s.in_flight) {
    m.link->wait_pieces(keep);
    s.in_flight = false;
    grow(s.x, size_t(n_tok * D));
    std::copy(s.stage_x.data(), s.stage_x.data() + n_tok * D, s.x.data());
  }
  // The wanted rows, normalised into s.h in batch order, then one product for all of them.
  grow(s.h, size_t(n_tok * D));
  int n_out = 0;
  for (int t = 0; t < n_tok; ++t) {
    if (hidden) {
      float* h = hidden + t * D;
      rms_norm(s.x.data() + t * D, m.output_norm.f32(), D, m.hp.rms_eps, h);
      if (b.logits[t]) std::copy(h, h + D, s.h.data() + n_out++ * D);
    } else if (b.logits[t]) {
      rms_norm(s.x.data() + t * D, m.output_norm.f32(), D, m.hp.rms_eps, s.h.data() + n_out++ * D);
    }
  }
  if (n_out > 0) matmul(m.output, s.h.data(), n_out, logits, pool, s.act);
}

void forward(const Model& m, const SeqKv& kv, const Batch& b, float* logits, ThreadPool& pool, Scratch& s,
             float* hidden) {
  forward_start(m, kv, b, pool, s);
  forward_finish(m, b, logits, pool, s, hidden);
}

}  // namespace dawn
