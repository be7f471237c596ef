// llama (R1-Distill-Llama), qwen2 (R1-Distill-Qwen) and qwen3 (R1-0528-Qwen3):
// pre-norm GQA attention with RoPE and a SwiGLU FFN. They differ in q/k/v
// biases (qwen2), per-head q/k RMSNorm (qwen3) and the RoPE pairing.
#include "models/model.h"
#include "ops/attention.h"
#include "ops/norm.h"

namespace dawn {

namespace {

void add_bias(float* y, const Weight& b, int n_tok, int64_t n) {
  if (b.empty()) return;
  for (int t = 0; t < n_tok; ++t) {
    for (int64_t i = 0; i < n; ++i) y[t * n + i] += b.f32()[i];
  }
}

}  // namespace

void forward_llama(const Model& m, const SeqKv& kv, const Batch& b, ThreadPool& pool, Scratch& s) {
  const int n_tok = b.size();
  const Hparams& hp = m.hp;
  const int64_t D = hp.n_embd, H = hp.n_head, Hkv = hp.n_head_kv, dk = hp.head_dim_k, dv = hp.head_dim_v;
  const int64_t qd = H * dk, kd = Hkv * dk, vd = Hkv * dv;
  const int64_t half = hp.rope.n_rot / 2;
  grow(s.h, size_t(n_tok * D));
  grow(s.q, size_t(n_tok * qd));
  grow(s.k, size_t(n_tok * kd));
  grow(s.v, size_t(n_tok * vd));
  grow(s.att, size_t(n_tok * H * dv));
  grow(s.o, size_t(n_tok * D));
  rope_tables(hp, b, s);

  for (int l = m.layer_begin; l < m.layers_end(); ++l) {
    const Layer& L = m.layers[l];
    norm_rows(s.x.data(), L.attn_norm, n_tok, D, hp.rms_eps, s.h.data());
    const MatmulTask qkv[3] = {{L.wq, s.h.data(), n_tok, s.q.data()},
                               {L.wk, s.h.data(), n_tok, s.k.data()},
                               {L.wv, s.h.data(), n_tok, s.v.data()}};
    matmul_batch(qkv, 3, pool, s.act);
    add_bias(s.q.data(), L.bq, n_tok, qd);
    add_bias(s.k.data(), L.bk, n_tok, kd);
    add_bias(s.v.data(), L.bv, n_tok, vd);
    for (int t = 0; t < n_tok; ++t) {
      float* q = s.q.data() + t * qd;
      float* k = s.k.data() + t * kd;
      if (!L.q_norm.empty()) {
        for (int64_t h = 0; h < H; ++h) rms_norm(q + h * dk, L.q_norm.f32(), dk, hp.rms_eps, q + h * dk);
        for (int64_t h = 0; h < Hkv; ++h) rms_norm(k + h * dk, L.k_norm.f32(), dk, hp.rms_eps, k + h * dk);
      }
      const float* cs = s.cs.data() + t * 2 * half;
      rope_apply(hp.rope, cs, cs + half, q, int(H), dk);
      rope_apply(hp.rope, cs, cs + half, k, int(Hkv), dk);
      const LayerKv& c = kv[b.seq[t]][l];
      for (int g = 0; g < c.heads; ++g) {
        kv_store(c.k_head(g), b.pos[t], k + g * dk, dk);
        kv_store(c.v_head(g), b.pos[t], s.v.data() + t * vd + g * dv, dv);
      }
    }
    // The query heads of one KV head, for a few tokens of one sequence (about 64 rows), attend
    // together over that head's cache rows: their rows are gathered by KV head (g, token, head
    // in group) and their results scattered back.
    const int64_t group = H / Hkv, tok_per_block = std::max<int64_t>(1, 64 / group);
    grow(s.attn_q, size_t(n_tok * qd));
    grow(s.attn_out, size_t(n_tok * H * dv));
    grow(s.attn_len, size_t(n_tok * group));
    for (int t = 0; t < n_tok; ++t) std::fill_n(s.attn_len.data() + t * group, group, b.pos[t] + 1);
    s.attn_blocks.clear();
    for (int64_t g = 0; g < Hkv; ++g) {
      for (int t = 0; t < n_tok; ++t) {
        const float* q = s.q.data() + t * qd + g * group * dk;
        std::copy(q, q + group * dk, s.attn_q.data() + (g * n_tok + t) * group * dk);
      }
      for (int t = 0; t < n_tok;) {
        const int end = int(seq_run_end(b.seq.data(), t, n_tok, tok_per_block));
        const LayerKv& c = kv[b.seq[t]][l];
        const int64_t r0 = (g * n_tok + t) * group;
        s.attn_blocks.push_back({s.attn_q.data() + r0 * dk, dk, int((end - t) * group), s.attn_len.data() + t * group,
                                 c.k_head(int(g)), c.v_head(int(g)), s.attn_out.data() + r0 * dv, dv});
        t = end;
      }
    }
    attend_tiled(s.attn_blocks.data(), int(s.attn_blocks.size()), dk, dv, hp.kq_scale, pool, s.attn);
    for (int64_t g = 0; g < Hkv; ++g) {
      for (int t = 0; t < n_tok; ++t) {
        const float* o = s.attn_out.data() + (g * n_tok + t) * group * dv;
        std::copy(o, o + group * dv, s.att.data() + t * H * dv + g * group * dv);
      }
    }
    matmul(L.wo, s.att.data(), n_tok, s.o.data(), pool, s.act);
    for (int64_t i = 0; i < n_tok * D; ++i) s.x[i] += s.o[i];

    norm_rows(s.x.data(), L.ffn_norm, n_tok, D, hp.rms_eps, s.h.data());
    swiglu_ffn(L.gate, L.up, L.down, s.h.data(), n_tok, s.o.data(), pool, s);
    for (int64_t i = 0; i < n_tok * D; ++i) s.x[i] += s.o[i];
    if (m.link) m.link->progress();
  }
}

}  // namespace dawn
