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
  const int64_t n_ctx_used = max_kv_len(b);
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
      kv_store(c.k, b.pos[t], k, kd);
      kv_store(c.v, b.pos[t], s.v.data() + t * vd, vd);
    }
    const int64_t group = H / Hkv;
    pool.parallel_for(n_tok * H, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t t = i / H, h = i % H, g = h / group;
        const LayerKv& c = kv[b.seq[t]][l];
        thread_local std::vector<float> scores;
        grow(scores, size_t(n_ctx_used));
        attend(s.q.data() + t * qd + h * dk, dk, c.k.offset(g * dk), c.v.offset(g * dv), dv, int64_t(b.pos[t]) + 1,
               hp.kq_scale, scores.data(), s.att.data() + t * H * dv + h * dv);
      }
    });
    matmul(L.wo, s.att.data(), n_tok, s.o.data(), pool, s.act);
    for (int64_t i = 0; i < n_tok * D; ++i) s.x[i] += s.o[i];

    norm_rows(s.x.data(), L.ffn_norm, n_tok, D, hp.rms_eps, s.h.data());
    swiglu_ffn(L.gate, L.up, L.down, s.h.data(), n_tok, s.o.data(), pool, s);
    for (int64_t i = 0; i < n_tok * D; ++i) s.x[i] += s.o[i];
    if (m.link) m.link->progress();
  }
}

}  // namespace dawn
