#include "models/synth.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "formats/gguf.h"
#include "models/tensor_types.h"
#include "text/bpe_train.h"
#include "text/hf_tokenizer.h"
#include "text/pretokenizer.h"
#include "text/vocab.h"
#include "util/error.h"

namespace dawn {

namespace {

// splitmix64 + Box-Muller: fast, portable, and the same on every platform.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (double(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  float normal() {
    const double u1 = uniform(), u2 = uniform();
    return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
  }
};

uint64_t hash_name(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Tensors above this many weights in a type whose quantizer searches a grid (the i-quants: a few
// million weights a second) are assembled from a pool of quantized blocks; see Gen::tensor.
constexpr int64_t kPoolAbove = int64_t(1) << 22;
constexpr int64_t kPoolWeights = int64_t(1) << 20;

struct Gen {
  const SynthConfig& c;
  GgufWriter& w;
  TensorTypes overrides{c.tensor_types, "synth"};

  // Weight rows drawn N(0, 1/cols) (or mean/std given), converted to `type` (or the type
  // --tensor-type gives a matrix of this name).
  void tensor(const std::string& name, std::vector<int64_t> ne, DType type, float mean = 0.0f, float std = -1.0f) {
    const int64_t cols = ne[0];
    if (std < 0) std = 1.0f / std::sqrt(float(cols));
    if (ne.size() >= 2) type = overrides.apply(name, type);
    type = fallback_type(type, cols);
    const uint64_t seed = hash_name(name, c.seed);
    int64_t n_weights = 1;
    for (int64_t x : ne) n_weights *= x;
    if (traits(type).quantize && n_weights > kPoolAbove) {
      pooled_tensor(name, ne, type, mean, std, seed);
      return;
    }
    w.add_tensor(name, type, ne, [=](uint8_t* dst) {
      int64_t rows = 1;
      for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
      Rng rng{seed};
      std::vector<float> row(cols);
      const size_t rb = row_bytes(type, cols);
      for (int64_t r = 0; r < rows; ++r) {
        for (float& x : row) x = mean + std * rng.normal();
        traits(type).from_float(row.data(), dst + size_t(r) * rb, cols);
      }
    });
  }
  // A large tensor in a grid-searched type: about a million weights drawn and quantized as above,
  // then every block of every row copied from a random one of them. Blocks are independent in
  // every ggml type (each has its own scales), so each row is still N(mean, std) quantized, only
  // not independent of the others: the bytes are as many and as varied as a real file's for a
  // speed benchmark, and a 671B-shaped i-quant file takes minutes instead of hours.
  void pooled_tensor(const std::string& name, const std::vector<int64_t>& ne, DType type, float mean, float std,
                     uint64_t seed) {
    w.add_tensor(name, type, ne, [=](uint8_t* dst) {
      const int64_t cols = ne[0];
      int64_t rows = 1;
      for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
      const TypeTraits& tt = traits(type);
      const int64_t pool_rows = std::min(rows, std::max<int64_t>(1, kPoolWeights / cols));
      const size_t rb = row_bytes(type, cols), bb = size_t(tt.bytes);
      std::vector<uint8_t> pool(size_t(pool_rows) * rb);
      Rng rng{seed};
      std::vector<float> row(static_cast<size_t>(cols));
      for (int64_t r = 0; r < pool_rows; ++r) {
        for (float& x : row) x = mean + std * rng.normal();
        tt.quantize(row.data(), pool.data() + size_t(r) * rb, cols, nullptr);
      }
      const uint64_t n_blocks = pool.size() / bb;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t b = 0; b < cols / tt.block; ++b) {
          std::memcpy(dst + size_t(r) * rb + size_t(b) * bb, pool.data() + (rng.next() % n_blocks) * bb, bb);
        }
      }
    });
  }
  // A tensor given in full as floats.
  void tensor_data(const std::string& name, std::vector<int64_t> ne, DType type, std::vector<float> data) {
    type = fallback_type(type, ne[0]);
    w.add_tensor(name, type, ne, [=, d = std::move(data)](uint8_t* dst) {
      const int64_t cols = ne[0];
      const size_t rb = row_bytes(type, cols);
      for (size_t r = 0; r < d.size() / size_t(cols); ++r)
        traits(type).from_float(d.data() + r * cols, dst + r * rb, cols);
    });
  }
  void norm(const std::string& name, int64_t n) { tensor(name, {n}, DType::F32, 1.0f, 0.1f); }
  // A projection that writes into the residual stream: N(0, 1/(2 n_layer fan_in)), GPT-2's
  // residual scaling. With full-size branches the stream of a random model is chaotic: one
  // last-bit difference flips an 8-bit activation rounding or an expert choice, and that spreads
  // to every later position through the KV cache, so two correct engines would disagree by more
  // than any tolerance (llama.cpp against itself, V3-style Q4_K_M: mean KL 2.2e-3).
  void residual_out(const std::string& name, std::vector<int64_t> ne, DType type, float gain = 1.0f) {
    tensor(name, ne, type, 0.0f, gain / std::sqrt(float(ne[0]) * 2.0f * float(c.n_layer)));
  }
};

std::string blk(int l, const char* s) { return "blk." + std::to_string(l) + "." + s; }

void write_vocab(const SynthConfig& c, GgufWriter& w) {
  static const char* specials[] = {
      "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<think>", "</think>"};
  const int n_special = 6;
  if (c.n_vocab < 256 + n_special) throw Error("synth: --vocab must be at least 262");
  std::vector<std::string> regular, merges;
  train_bpe(builtin_corpus(), c.n_vocab - 256 - n_special, &regular, &merges);
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  const bool specials_first = c.arch == Arch::Deepseek2;
  const auto add_specials = [&] {
    for (int i = 0; i < n_special; ++i) {
      tokens.push_back(specials[i]);
      types.push_back(i < 2 ? kTokControl : kTokUserDefined);
    }
  };
  if (specials_first) add_specials();
  for (const std::string& t : regular) {
    tokens.push_back(t);
    types.push_back(kTokNormal);
  }
  for (int i = 0; int(tokens.size()) < c.n_vocab - (specials_first ? 0 : n_special); ++i) {
    tokens.push_back("<unused_" + std::to_string(i) + ">");
    types.push_back(kTokUnused);
  }
  const int32_t first_special = specials_first ? 0 : int32_t(tokens.size());
  if (!specials_first) add_specials();
  w.set_str("tokenizer.ggml.model", "gpt2");
  const char* pre = c.arch == Arch::Deepseek2 ? (c.q_lora_rank > 0 ? "deepseek-v3" : "deepseek-llm")
                    : c.arch == Arch::Llama   ? "llama-bpe"
                                              : "qwen2";
  w.set_str("tokenizer.ggml.pre", pre);
  w.set_str_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_str_array("tokenizer.ggml.merges", merges);
  w.set_u32("tokenizer.ggml.bos_token_id", uint32_t(first_special));
  w.set_u32("tokenizer.ggml.eos_token_id", uint32_t(first_special + 1));
  w.set_u32("tokenizer.ggml.padding_token_id", uint32_t(first_special + 1));
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
}

uint32_t file_type(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q2_K: return 10;
    case DType::Q3_K: return 12;  // Q3_K_M
    case DType::Q4_K: return 15;  // Q4_K_M
    case DType::Q5_K: return 17;  // Q5_K_M
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: return 0;
  }
}

// YaRN's keys as convert_hf_to_gguf writes them; yarn_log_multiplier (0.1 * mscale_all_dim) only
// where the config has mscale_all_dim (DeepSeek's), as in real files.
void write_yarn(const SynthConfig& c, GgufWriter& w, const std::string& p) {
  if (c.yarn_factor <= 1.0f) return;
  w.set_str(p + "rope.scaling.type", "yarn");
  w.set_f32(p + "rope.scaling.factor", c.yarn_factor);
  w.set_u32(p + "rope.scaling.original_context_length", uint32_t(c.yarn_orig_ctx));
  if (c.yarn_mscale_all_dim != 0.0f) w.set_f32(p + "rope.scaling.yarn_log_multiplier", 0.1f * c.yarn_mscale_all_dim);
}

void synth_llama_family(const SynthConfig& c, GgufWriter& w, Gen& g) {
  const std::string p = std::string(arch_name(c.arch)) + ".";
  const int64_t D = c.n_embd, hd = c.head_dim, qd = int64_t(c.n_head) * hd, kd = int64_t(c.n_head_kv) * hd;
  w.set_u32(p + "block_count", uint32_t(c.n_layer));
  w.set_u32(p + "context_length", uint32_t(c.n_ctx_train));
  w.set_u32(p + "embedding_length", uint32_t(D));
  w.set_u32(p + "feed_forward_length", uint32_t(c.n_ff));
  w.set_u32(p + "attention.head_count", uint32_t(c.n_head));
  w.set_u32(p + "attention.head_count_kv", uint32_t(c.n_head_kv));
  w.set_f32(p + "rope.freq_base", c.rope_base);
  w.set_f32(p + "attention.layer_norm_rms_epsilon", c.rms_eps);
  if (hd != D / c.n_head) {
    w.set_u32(p + "attention.key_length", uint32_t(hd));
    w.set_u32(p + "attention.value_length", uint32_t(hd));
  }
  if (c.arch == Arch::Llama) {
    w.set_u32(p + "vocab_size", uint32_t(c.n_vocab));
    w.set_u32(p + "rope.dimension_count", uint32_t(hd));
  }
  write_yarn(c, w, p);
  // A tied head reads the embedding rows as logits: keep them N(0, 1/D) so the
  // distribution stays spread (N(0, 1) would make every softmax one-hot).
  g.tensor("token_embd.weight", {D, c.n_vocab}, c.dtype, 0.0f, c.tie_embeddings ? -1.0f : 1.0f);
  if (c.llama3_rope) {
    // Llama 3 frequency factors: factor 8, low 1, high 4, original context 8192.
    std::vector<float> ff(hd / 2);
    const float factor = 8, low = 1, high = 4, orig = 8192;
    for (int64_t i = 0; i < hd / 2; ++i) {
      const float freq = std::pow(c.rope_base, -2.0f * float(i) / float(hd));
      const float wavelen = 2.0f * float(M_PI) / freq;
      if (wavelen < orig / high) {
        ff[i] = 1.0f;
      } else if (wavelen > orig / low) {
        ff[i] = factor;
      } else {
        const float smooth = (orig / wavelen - low) / (high - low);
        ff[i] = 1.0f / ((1 - smooth) / factor + smooth);
      }
    }
    g.tensor_data("rope_freqs.weight", {hd / 2}, DType::F32, ff);
  }
  for (int l = 0; l < c.n_layer; ++l) {
    g.norm(blk(l, "attn_norm.weight"), D);
    g.tensor(blk(l, "attn_q.weight"), {D, qd}, c.dtype);
    g.tensor(blk(l, "attn_k.weight"), {D, kd}, c.dtype);
    g.tensor(blk(l, "attn_v.weight"), {D, kd}, c.dtype);
    if (c.arch == Arch::Qwen2) {
      g.tensor(blk(l, "attn_q.bias"), {qd}, DType::F32, 0.0f, 0.1f);
      g.tensor(blk(l, "attn_k.bias"), {kd}, DType::F32, 0.0f, 0.1f);
      g.tensor(blk(l, "attn_v.bias"), {kd}, DType::F32, 0.0f, 0.1f);
    }
    if (c.arch == Arch::Qwen3) {
      g.norm(blk(l, "attn_q_norm.weight"), hd);
      g.norm(blk(l, "attn_k_norm.weight"), hd);
    }
    g.residual_out(blk(l, "attn_output.weight"), {qd, D}, c.dtype);
    g.norm(blk(l, "ffn_norm.weight"), D);
    g.tensor(blk(l, "ffn_gate.weight"), {D, c.n_ff}, c.dtype);
    g.tensor(blk(l, "ffn_up.weight"), {D, c.n_ff}, c.dtype);
    g.residual_out(blk(l, "ffn_down.weight"), {c.n_ff, D}, c.dtype);
  }
}

void synth_deepseek2(const SynthConfig& c, GgufWriter& w, Gen& g) {
  const std::string p = "deepseek2.";
  const int64_t D = c.n_embd, H = c.n_head, dn = c.qk_nope, dr = c.qk_rope, dv = c.v_head, rkv = c.kv_lora_rank;
  const int64_t dk = dn + dr;
  // MTP layers follow the trunk and count in block_count, as llama.cpp writes them.
  w.set_u32(p + "block_count", uint32_t(c.n_layer + c.n_nextn));
  if (c.n_nextn > 0) w.set_u32(p + "nextn_predict_layers", uint32_t(c.n_nextn));
  w.set_u32(p + "context_length", uint32_t(c.n_ctx_train));
  w.set_u32(p + "embedding_length", uint32_t(D));
  w.set_u32(p + "feed_forward_length", uint32_t(c.n_ff));
  w.set_u32(p + "attention.head_count", uint32_t(H));
  w.set_u32(p + "attention.head_count_kv", uint32_t(c.legacy_kv_b ? H : 1));
  w.set_f32(p + "rope.freq_base", c.rope_base);
  w.set_f32(p + "attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_u32(p + "expert_count", uint32_t(c.n_expert));
  w.set_u32(p + "expert_used_count", uint32_t(c.n_expert_used));
  w.set_u32(p + "expert_group_count", uint32_t(c.n_group));
  w.set_u32(p + "expert_group_used_count", uint32_t(c.n_group_used));
  w.set_u32(p + "expert_gating_func", uint32_t(c.gating));
  w.set_u32(p + "leading_dense_block_count", uint32_t(c.n_dense));
  w.set_u32(p + "vocab_size", uint32_t(c.n_vocab));
  if (c.q_lora_rank > 0 || (c.n_layer != 26 && c.n_layer != 27))
    w.set_u32(p + "attention.q_lora_rank", uint32_t(c.q_lora_rank));
  w.set_u32(p + "attention.kv_lora_rank", uint32_t(rkv));
  if (c.legacy_kv_b) {
    w.set_u32(p + "attention.key_length", uint32_t(dk));
    w.set_u32(p + "attention.value_length", uint32_t(dv));
  } else {
    w.set_u32(p + "attention.key_length", uint32_t(rkv + dr));
    w.set_u32(p + "attention.value_length", uint32_t(rkv));
    w.set_u32(p + "attention.key_length_mla", uint32_t(dk));
    w.set_u32(p + "attention.value_length_mla", uint32_t(dv));
  }
  w.set_u32(p + "expert_feed_forward_length", uint32_t(c.n_ff_exp));
  w.set_u32(p + "expert_shared_count", uint32_t(c.n_expert_shared));
  w.set_f32(p + "expert_weights_scale", c.expert_weights_scale);
  if (c.expert_weights_norm) w.set_bool(p + "expert_weights_norm", true);
  w.set_u32(p + "rope.dimension_count", uint32_t(dr));
  write_yarn(c, w, p);

  g.tensor("token_embd.weight", {D, c.n_vocab}, c.dtype, 0.0f, 1.0f);
  for (int l = 0; l < c.n_layer + c.n_nextn; ++l) {
    if (l >= c.n_layer) {  // the MTP module's own parts; its decoder layer follows as any other
      g.tensor(blk(l, "nextn.eh_proj.weight"), {2 * D, D}, c.dtype);
      g.norm(blk(l, "nextn.enorm.weight"), D);
      g.norm(blk(l, "nextn.hnorm.weight"), D);
      g.norm(blk(l, "nextn.shared_head_norm.weight"), D);
    }
    g.norm(blk(l, "attn_norm.weight"), D);
    if (c.q_lora_rank > 0) {
      g.tensor(blk(l, "attn_q_a.weight"), {D, c.q_lora_rank}, c.dtype);
      g.norm(blk(l, "attn_q_a_norm.weight"), c.q_lora_rank);
      g.tensor(blk(l, "attn_q_b.weight"), {c.q_lora_rank, H * dk}, c.dtype);
    } else {
      g.tensor(blk(l, "attn_q.weight"), {D, H * dk}, c.dtype);
    }
    g.tensor(blk(l, "attn_kv_a_mqa.weight"), {D, rkv + dr}, c.dtype);
    g.norm(blk(l, "attn_kv_a_norm.weight"), rkv);
    // kv_b drawn once so the split and legacy layouts hold the same model.
    std::vector<float> kv_b(size_t(H * (dn + dv) * rkv));
    Rng rng{hash_name(blk(l, "attn_kv_b"), c.seed)};
    const float sd = 1.0f / std::sqrt(float(rkv));
    for (float& x : kv_b) x = sd * rng.normal();
    if (c.legacy_kv_b) {
      g.tensor_data(blk(l, "attn_kv_b.weight"), {rkv, H * (dn + dv)}, c.dtype, kv_b);
    } else {
      std::vector<float> k_b(size_t(H * rkv * dn)), v_b(size_t(H * dv * rkv));
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t d = 0; d < dn; ++d) {
          for (int64_t ci = 0; ci < rkv; ++ci)
            k_b[size_t((h * rkv + ci) * dn + d)] = kv_b[size_t((h * (dn + dv) + d) * rkv + ci)];
        }
        for (int64_t v = 0; v < dv; ++v) {
          std::memcpy(&v_b[size_t((h * dv + v) * rkv)], &kv_b[size_t((h * (dn + dv) + dn + v) * rkv)], size_t(rkv) * 4);
        }
      }
      g.tensor_data(blk(l, "attn_k_b.weight"), {dn, rkv, H}, c.dtype, std::move(k_b));
      g.tensor_data(blk(l, "attn_v_b.weight"), {rkv, dv, H}, c.dtype, std::move(v_b));
    }
    g.residual_out(blk(l, "attn_output.weight"), {H * dv, D}, c.dtype);
    g.norm(blk(l, "ffn_norm.weight"), D);
    if (l < c.n_dense) {
      g.tensor(blk(l, "ffn_gate.weight"), {D, c.n_ff}, c.dtype);
      g.tensor(blk(l, "ffn_up.weight"), {D, c.n_ff}, c.dtype);
      g.residual_out(blk(l, "ffn_down.weight"), {c.n_ff, D}, c.dtype);
      continue;
    }
    const int64_t E = c.n_expert, fe = c.n_ff_exp, fs = fe * c.n_expert_shared;
    g.tensor(blk(l, "ffn_gate_inp.weight"), {D, E}, DType::F32);
    if (c.exp_probs_bias) g.tensor(blk(l, "exp_probs_b.bias"), {E}, DType::F32, 0.0f, 0.3f);
    g.tensor(blk(l, "ffn_gate_exps.weight"), {D, fe, E}, c.dtype);
    g.tensor(blk(l, "ffn_up_exps.weight"), {D, fe, E}, c.dtype);
    // Routed experts' outputs are multiplied by expert_weights_scale; their down projection is
    // drawn that much smaller so the branch keeps its size and a near-tie that swaps one expert
    // moves the output by a branch-sized amount, not 2.5 times one.
    g.residual_out(blk(l, "ffn_down_exps.weight"), {fe, D, E}, c.dtype,
                   c.expert_weights_scale > 0 ? 1.0f / c.expert_weights_scale : 1.0f);
    if (fs > 0) {
      g.tensor(blk(l, "ffn_gate_shexp.weight"), {D, fs}, c.dtype);
      g.tensor(blk(l, "ffn_up_shexp.weight"), {D, fs}, c.dtype);
      g.residual_out(blk(l, "ffn_down_shexp.weight"), {fs, D}, c.dtype);
    }
  }
}

}  // namespace

DType fallback_type(DType t, int64_t cols) {
  if (cols % traits(t).block == 0) return t;
  switch (t) {
    case DType::Q2_K:
    case DType::Q3_K: return cols % 32 == 0 ? DType::Q4_0 : DType::F16;
    case DType::Q4_K: return cols % 32 == 0 ? DType::Q5_0 : DType::F16;
    case DType::Q5_K: return cols % 32 == 0 ? DType::Q5_1 : DType::F16;
    case DType::Q6_K: return cols % 32 == 0 ? DType::Q8_0 : DType::F16;
    // The 256-weight i-quants fall back to IQ4_NL, as llama-quantize does.
    case DType::IQ1_S:
    case DType::IQ1_M:
    case DType::IQ2_XXS:
    case DType::IQ2_XS:
    case DType::IQ2_S:
    case DType::IQ3_XXS:
    case DType::IQ3_S:
    case DType::IQ4_XS: return cols % 32 == 0 ? DType::IQ4_NL : DType::F16;
    case DType::Q4_1:
    case DType::IQ4_NL: return DType::F16;
    default: return cols % 32 == 0 ? DType::Q8_0 : DType::F16;
  }
}

void synth_model(const SynthConfig& config, const std::string& path,
                 const std::function<void(size_t, size_t)>& progress) {
  SynthConfig c = config;
  GgufWriter w;
  w.set_str("general.architecture", arch_name(c.arch));
  w.set_str("general.type", c.vocab_only ? "vocab" : "model");
  w.set_str("general.name", std::string("dawn-synth-") + arch_name(c.arch));
  if (!c.hf_tokenizer.empty()) {
    HfVocab v = load_hf_tokenizer(c.hf_tokenizer);
    if (!c.pre_override.empty()) {
      PreTokenizer::get(c.pre_override);  // throws for an unknown name
      v.pre = c.pre_override;
    }
    c.n_vocab = int(v.tokens.size());
    write_vocab_metadata(v, w);
  } else {
    write_vocab(c, w);
  }
  if (c.vocab_only) {
    w.write(path, progress);
    return;
  }
  w.set_u32("general.file_type", file_type(c.dtype));
  w.set_u32("general.quantization_version", 2);
  Gen g{c, w};
  if (c.arch == Arch::Deepseek2) {
    synth_deepseek2(c, w, g);
  } else {
    synth_llama_family(c, w, g);
  }
  g.norm("output_norm.weight", c.n_embd);
  if (!c.tie_embeddings) g.tensor("output.weight", {c.n_embd, c.n_vocab}, c.dtype);
  w.write(path, progress);
}

std::vector<std::string> synth_preset_names() {
  return {"tiny-llama",       "tiny-llama3",           "tiny-qwen2",           "tiny-qwen2-256",       "tiny-qwen2-yarn", "tiny-qwen3",
          "tiny-deepseek-v3", "tiny-deepseek-v2-lite", "tiny-deepseek-legacy", "deepseek-v2-lite", "deepseek-v3-slice",
          "qwen2.5-1.5b",     "r1-distill-llama-8b"};
}

bool synth_preset(const std::string& name, SynthConfig* c) {
  SynthConfig d;
  if (name == "tiny-llama" || name == "tiny-llama3") {
    d.arch = Arch::Llama;
    d.n_layer = 2, d.n_embd = 128, d.n_ff = 320, d.n_head = 4, d.n_head_kv = 2, d.head_dim = 32;
    d.rope_base = 500000.0f, d.rms_eps = 1e-5f, d.llama3_rope = name == "tiny-llama3";
  } else if (name == "tiny-qwen2") {
    d.arch = Arch::Qwen2;
    d.n_layer = 2, d.n_embd = 128, d.n_ff = 320, d.n_head = 4, d.n_head_kv = 2, d.head_dim = 32;
  } else if (name == "tiny-qwen2-yarn") {  // YaRN past a 256-token original context (long goldens, #24)
    d.arch = Arch::Qwen2;
    d.n_layer = 2, d.n_embd = 128, d.n_ff = 320, d.n_head = 4, d.n_head_kv = 2, d.head_dim = 32;
    d.yarn_factor = 16.0f, d.yarn_orig_ctx = 256;
  } else if (name == "tiny-qwen2-256") {  // rows of 256: llama.cpp's i-quants need them (else IQ4_NL)
    d.arch = Arch::Qwen2;
    d.n_layer = 2, d.n_embd = 256, d.n_ff = 512, d.n_head = 8, d.n_head_kv = 2, d.head_dim = 32;
  } else if (name == "tiny-qwen3") {
    d.arch = Arch::Qwen3;
    d.n_layer = 2, d.n_embd = 128, d.n_ff = 320, d.n_head = 4, d.n_head_kv = 2, d.head_dim = 64;
    d.rope_base = 1000000.0f, d.tie_embeddings = true;
  } else if (name == "tiny-deepseek-v3" || name == "tiny-deepseek-v2-lite" || name == "tiny-deepseek-legacy") {
    d.arch = Arch::Deepseek2;
    d.n_layer = 4, d.n_embd = 256, d.n_ff = 512, d.n_head = 8, d.n_ctx_train = 4096;
    d.kv_lora_rank = 64, d.qk_nope = 32, d.qk_rope = 16, d.v_head = 32;
    d.n_expert = 16, d.n_expert_used = 4, d.n_ff_exp = 128, d.n_dense = 1;
    d.yarn_factor = 40.0f, d.yarn_orig_ctx = 256;
    if (name == "tiny-deepseek-v3") {
      d.q_lora_rank = 96, d.n_expert_shared = 1, d.n_group = 4, d.n_group_used = 2;
      d.gating = Gating::Sigmoid, d.expert_weights_norm = true, d.expert_weights_scale = 2.5f, d.exp_probs_bias = true;
      d.yarn_mscale_all_dim = 1.0f;
    } else {
      d.n_expert_shared = 2, d.yarn_mscale_all_dim = 0.707f;
      d.legacy_kv_b = name == "tiny-deepseek-legacy";
    }
  } else if (name == "deepseek-v2-lite") {
    d.arch = Arch::Deepseek2;
    d.n_layer = 27, d.n_embd = 2048, d.n_ff = 10944, d.n_head = 16, d.n_vocab = 102400, d.n_ctx_train = 163840;
    d.kv_lora_rank = 512, d.qk_nope = 128, d.qk_rope = 64, d.v_head = 128;
    d.n_expert = 64, d.n_expert_used = 6, d.n_expert_shared = 2, d.n_ff_exp = 1408, d.n_dense = 1;
    d.yarn_factor = 40.0f, d.yarn_orig_ctx = 4096, d.yarn_mscale_all_dim = 0.707f;
  } else if (name == "deepseek-v3-slice") {
    // DeepSeek-V3/R1's layers at their real widths (256 experts of 2048, 8 chosen in 4 of 8 groups,
    // MLA with q-LoRA, the 129k vocabulary) but 3 trunk layers (1 dense, 2 MoE) and the MTP layer:
    // what one decode or speculative-check step costs per layer, in a file that fits this machine.
    d.arch = Arch::Deepseek2;
    d.n_layer = 3, d.n_embd = 7168, d.n_ff = 18432, d.n_head = 128, d.n_vocab = 129280, d.n_ctx_train = 163840;
    d.q_lora_rank = 1536, d.kv_lora_rank = 512, d.qk_nope = 128, d.qk_rope = 64, d.v_head = 128;
    d.n_expert = 256, d.n_expert_used = 8, d.n_expert_shared = 1, d.n_ff_exp = 2048, d.n_dense = 1;
    d.n_group = 8, d.n_group_used = 4, d.gating = Gating::Sigmoid, d.expert_weights_norm = true;
    d.expert_weights_scale = 2.5f, d.exp_probs_bias = true, d.n_nextn = 1;
    d.yarn_factor = 40.0f, d.yarn_orig_ctx = 4096, d.yarn_mscale_all_dim = 1.0f;
  } else if (name == "qwen2.5-1.5b") {
    d.arch = Arch::Qwen2;
    d.n_layer = 28, d.n_embd = 1536, d.n_ff = 8960, d.n_head = 12, d.n_head_kv = 2, d.head_dim = 128;
    d.n_vocab = 151936, d.n_ctx_train = 131072;
  } else if (name == "r1-distill-llama-8b") {
    d.arch = Arch::Llama;
    d.n_layer = 32, d.n_embd = 4096, d.n_ff = 14336, d.n_head = 32, d.n_head_kv = 8, d.head_dim = 128;
    d.n_vocab = 128256, d.n_ctx_train = 131072, d.rope_base = 500000.0f, d.rms_eps = 1e-5f, d.llama3_rope = true;
  } else {
    return false;
  }
  d.dtype = c->dtype;
  d.seed = c->seed;
  *c = d;
  return true;
}

}  // namespace dawn
