// deepseek2: DeepSeek-V2/V2-Lite/V3/R1. Multi-head Latent Attention run in
// absorbed form (the cache holds the normalised latent c and the roped k_pe),
// DeepSeekMoE with shared experts after leading dense layers.
#include <algorithm>
#include <cmath>

#include "models/model.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/norm.h"

namespace dawn {

namespace {

// The MoE layer's routed rows into s.tmp and its shared experts' into s.o (ops/moe_ffn.h); an
// expert split's link supplies the rows of the experts other processes hold.
void moe_layer(const Model& m, const Layer& L, int l, int n_tok, ThreadPool& pool, Scratch& s) {
  const int64_t D = m.hp.n_embd;
  grow(s.tmp, size_t(n_tok * D));
  grow(s.o, size_t(n_tok * D));
  MoeWeights w{L.gate_inp, L.exp_probs_b, L.gate_exps, L.up_exps, L.down_exps, L.gate_shexp, L.up_shexp,
               L.down_shexp, m.hp.n_ff_exp, L.expert_begin, L.expert_end};
  ExpertExchange x;
  if (m.link) {
    x.start = [](void* ctx, const ExpertRows& rows) { static_cast<StageLink*>(ctx)->exchange_experts(rows); };
    x.finish = [](void* ctx) { static_cast<StageLink*>(ctx)->finish_exchange(); };
    x.ctx = m.link.get();
  }
  moe_ffn(m.hp.router, w, l, s.h.data(), n_tok, D, s.tmp.data(), s.o.data(), pool, s.moe, s.act, x);
}

// x as a product with a `w`-typed weight reads it: rounded to that type's activation type.
void round_to_activation(DType w, float* x, int64_t n, std::vector<uint8_t>& buf) {
  const DType t = traits(w).dot_type;
  if (t == DType::F32) return;
  const TypeTraits& a = traits(t);
  grow(buf, row_bytes(t, n));
  a.from_float(x, buf.data(), n);
  a.to_float(buf.data(), x, n);
}

// Tokens per pass of mla_attention: bounds its buffers (they grow with heads x tokens) while
// keeping enough tokens per head product for the prefill GEMM.
constexpr int64_t kMlaChunk = 256;

// Absorbed MLA over the latent cache, for queries already in s.q (n_tok x H x dk, roped) and
// the chunk's latents already stored. Per head, q_nope goes to latent space with one product
// over all the chunk's tokens; all heads of a token then attend over the shared latent rows
// together (each cache row read once per group of heads); per head, the latent result goes
// to v with one product. Writes s.att (n_tok x H x dv).
void mla_attention(const Model& m, const Layer& L, const SeqKv& kv, int l, const Batch& b, ThreadPool& pool,
                   Scratch& s) {
  const int64_t n_tok = b.size();
  const Hparams& hp = m.hp;
  const int64_t H = hp.n_head, dk = hp.head_dim_k, dv = hp.head_dim_v, dn = hp.qk_nope;
  const int64_t rkv = hp.kv_lora_rank, kvw = rkv + hp.qk_rope;
  const Weight k_b = hp.mla_split ? L.wk_b
                                  : Weight{DType::F32, dn, H * rkv,
                                           reinterpret_cast<const uint8_t*>(L.k_b_legacy.data()), size_t(dn) * 4};
  const Weight v_b = hp.mla_split ? L.wv_b
                                  : Weight{DType::F32, rkv, H * dv,
                                           reinterpret_cast<const uint8_t*>(L.v_b_legacy.data()), size_t(rkv) * 4};
  const int64_t chunk = std::min<int64_t>(n_tok, kMlaChunk);
  grow(s.mla_q, size_t(H * chunk * dn));
  grow(s.mla_lat, size_t(H * chunk * kvw));
  grow(s.mla_o, size_t(H * chunk * rkv));
  grow(s.mla_v, size_t(H * chunk * dv));
  const int64_t tok_per_block = std::max<int64_t>(1, 64 / H);
  for (int64_t t0 = 0; t0 < n_tok; t0 += chunk) {
    const int64_t T = std::min(chunk, n_tok - t0);
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        const float* q = s.q.data() + ((t0 + t) * H + h) * dk;
        std::copy(q, q + dn, s.mla_q.data() + (h * T + t) * dn);
      }
    }
    // Head h's inputs are rows h T .. h T + T - 1 of one matrix: one gathered product for all heads.
    const int32_t* rows = row_indices(s, H * T);
    s.head_tasks.clear();
    for (int64_t h = 0; h < H; ++h) {
      s.head_tasks.push_back({k_b.slice(h * rkv, rkv), rows + h * T, T, s.mla_o.data() + h * T * rkv});
    }
    matmul_gather(s.head_tasks.data(), int(H), s.mla_q.data(), H * T, pool, s.act);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t h = 0; h < H; ++h) {
        const float* ql = s.mla_o.data() + (h * T + t) * rkv;
        const float* q = s.q.data() + ((t0 + t) * H + h) * dk;
        float* row = s.mla_lat.data() + (t * H + h) * kvw;
        std::copy(ql, ql + rkv, row);
        std::copy(q + dn, q + dk, row + rkv);
      }
    }
    // Blocks of a few tokens of one sequence with all their heads (about 64 query rows) over
    // the sequence's latent rows; the results land in mla_o as rows t H + h.
    grow(s.attn_len, size_t(T * H));
    s.attn_blocks.clear();
    for (int64_t t = 0; t < T;) {
      const int32_t seq = b.seq[t0 + t];
      const int64_t end = seq_run_end(b.seq.data() + t0, t, T, tok_per_block);
      for (int64_t u = t; u < end; ++u) std::fill_n(s.attn_len.data() + u * H, H, b.pos[t0 + u] + 1);
      const KvRows& c = kv[seq][l].k;
      s.attn_blocks.push_back({s.mla_lat.data() + t * H * kvw, kvw, int((end - t) * H), s.attn_len.data() + t * H, c,
                               c, s.mla_o.data() + t * H * rkv, rkv});
      t = end;
    }
    attend_tiled(s.attn_blocks.data(), int(s.attn_blocks.size()), kvw, rkv, hp.kq_scale, pool, s.attn);
    grow(s.mla_rows, size_t(T * H));
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) s.mla_rows[size_t(h * T + t)] = int32_t(t * H + h);
    }
    s.head_tasks.clear();
    for (int64_t h = 0; h < H; ++h) {
      s.head_tasks.push_back({v_b.slice(h * dv, dv), s.mla_rows.data() + h * T, T, s.mla_v.data() + h * T * dv});
    }
    matmul_gather(s.head_tasks.data(), int(H), s.mla_o.data(), H * T, pool, s.act);
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        const float* v = s.mla_v.data() + (h * T + t) * dv;
        std::copy(v, v + dv, s.att.data() + ((t0 + t) * H + h) * dv);
      }
    }
  }
}

}  // namespace

void deepseek2_layer(const Model& m, const Layer& L, int l, const SeqKv& kv, const Batch& b, ThreadPool& pool,
                     Scratch& s) {
  const int n_tok = b.size();
  const Hparams& hp = m.hp;
  const int64_t D = hp.n_embd, H = hp.n_head, dk = hp.head_dim_k, dv = hp.head_dim_v;
  const int64_t dn = hp.qk_nope, dr = hp.qk_rope, rkv = hp.kv_lora_rank, kvw = rkv + dr;
  const int64_t half = dr / 2;
  grow(s.h, size_t(n_tok * D));
  grow(s.q, size_t(n_tok * H * dk));
  grow(s.k, size_t(n_tok * kvw));
  grow(s.v, size_t(n_tok * std::max<int64_t>(hp.q_lora_rank, 1)));
  grow(s.att, size_t(n_tok * H * dv));
  grow(s.o, size_t(n_tok * D));
  norm_rows(s.x.data(), L.attn_norm, n_tok, D, hp.rms_eps, s.h.data());
  if (hp.q_lora_rank > 0) {
    const int64_t r = hp.q_lora_rank;
    const MatmulTask in[2] = {{L.wq_a, s.h.data(), n_tok, s.v.data()}, {L.wkv_a, s.h.data(), n_tok, s.k.data()}};
    matmul_batch(in, 2, pool, s.act);
    norm_rows(s.v.data(), L.q_a_norm, n_tok, r, hp.rms_eps, s.v.data());
    matmul(L.wq_b, s.v.data(), n_tok, s.q.data(), pool, s.act);
  } else {
    const MatmulTask in[2] = {{L.wq, s.h.data(), n_tok, s.q.data()}, {L.wkv_a, s.h.data(), n_tok, s.k.data()}};
    matmul_batch(in, 2, pool, s.act);
  }
  for (int t = 0; t < n_tok; ++t) {
    float* kvt = s.k.data() + t * kvw;
    rms_norm(kvt, L.kv_a_norm.f32(), rkv, hp.rms_eps, kvt);
    if (!hp.mla_split) round_to_activation(L.wv_b.type, kvt, rkv, s.lat_act);
    const float* cs = s.cs.data() + t * 2 * half;
    rope_apply(hp.rope, cs, cs + half, kvt + rkv, 1, dr);
    rope_apply(hp.rope, cs, cs + half, s.q.data() + t * H * dk + dn, int(H), dk);
    kv_store(kv[b.seq[t]][l].k, b.pos[t], kvt, kvw);
  }
  mla_attention(m, L, kv, l, b, pool, s);
  matmul(L.wo, s.att.data(), n_tok, s.o.data(), pool, s.act);
  for (int64_t i = 0; i < n_tok * D; ++i) s.x[i] += s.o[i];

  norm_rows(s.x.data(), L.ffn_norm, n_tok, D, hp.rms_eps, s.h.data());
  if (!L.moe) {
    swiglu_ffn(L.gate, L.up, L.down, s.h.data(), n_tok, s.o.data(), pool, s);
    for (int64_t i = 0; i < n_tok * D; ++i) s.x[i] += s.o[i];
    return;
  }
  moe_layer(m, L, l, n_tok, pool, s);
  if (!L.gate_shexp.empty()) {
    for (int64_t i = 0; i < n_tok * D; ++i) s.x[i] += s.tmp[i] + s.o[i];
  } else {
    for (int64_t i = 0; i < n_tok * D; ++i) s.x[i] += s.tmp[i];
  }
}

void forward_deepseek2(const Model& m, const SeqKv& kv, const Batch& b, ThreadPool& pool, Scratch& s) {
  rope_tables(m.hp, b, s);
  for (int l = m.layer_begin; l < m.layers_end(); ++l) {
    deepseek2_layer(m, m.layers[l], l, kv, b, pool, s);
    if (m.link) m.link->progress();
  }
}

}  // namespace dawn
