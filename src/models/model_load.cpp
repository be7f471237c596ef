// Loading a model: hyper-parameters from the GGUF metadata, weights bound by name (Binder: strict,
// one-line errors), the part of a split model a process holds, and the weights copied or mapped.
#include "models/model.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>

#include "kernels/level_gemm.h"
#include "kernels/thread_pool.h"
#include "kernels/x16.h"
#include "ops/activation.h"
#include "ops/norm.h"
#include "util/error.h"

namespace dawn {

namespace {

std::string shape_str(const int64_t* ne, int n) {
  std::string s = "{";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

class Binder {
 public:
  explicit Binder(const GgufFile& f) : f_(f) {}

  // Binds a tensor whose shape must be exactly `shape` (ggml ne order).
  Weight bind(const std::string& name, std::initializer_list<int64_t> shape, bool required = true) const {
    const GgufTensor* t = f_.find_tensor(name);
    if (!t) {
      if (required) f_.fail("tensor '" + name + "'", "required tensor is missing");
      return {};
    }
    int64_t want[kMaxDims] = {1, 1, 1, 1};
    int n = 0;
    for (int64_t d : shape) want[n++] = d;
    for (int i = 0; i < kMaxDims; ++i) {
      if (t->ne[i] != want[i]) {
        f_.fail("tensor '" + name + "'",
                "has shape " + shape_str(t->ne, t->n_dims) + ", expected " + shape_str(want, n));
      }
    }
    Weight w;
    w.type = t->type;
    w.cols = t->ne[0];
    w.rows = t->ne[1] * t->ne[2] * t->ne[3];
    w.data = t->data;
    w.row_stride = row_bytes(t->type, t->ne[0]);
    return w;
  }
  // Norms and biases are read as plain floats.
  Weight bind_f32(const std::string& name, std::initializer_list<int64_t> shape, bool required = true) const {
    Weight w = bind(name, shape, required);
    if (!w.empty() && w.type != DType::F32) {
      f_.fail("tensor '" + name + "'", std::string("has type ") + type_name(w.type) + ", expected f32");
    }
    return w;
  }

 private:
  const GgufFile& f_;
};

std::string blk(int l, const char* name) { return "blk." + std::to_string(l) + "." + name; }

void check_positive(const GgufFile& f, const std::string& key, int64_t v, int64_t max = int64_t(1) << 24) {
  if (v <= 0 || v > max) f.fail("key '" + key + "'", "value " + std::to_string(v) + " is out of range");
}

// YaRN as llama.cpp sets it up: the rope attn_factor that multiplies cos/sin and
// the mscale that multiplies the softmax scale (squared).
void setup_rope_scaling(const GgufFile& f, const std::string& p, Hparams& hp, float* kq_mscale) {
  *kq_mscale = 1.0f;
  const std::string type = f.get_str(p + "rope.scaling.type", "none");
  const float factor = f.get_f32(p + "rope.scaling.factor", 0.0f);
  if (type == "none" || factor <= 1.0f) {
    if (type != "none" && type != "linear" && type != "yarn") {
      f.fail("key '" + p + "rope.scaling.type'", "unsupported value '" + type + "'");
    }
    return;
  }
  hp.rope.freq_scale = 1.0f / factor;
  if (type == "linear") return;
  if (type != "yarn") f.fail("key '" + p + "rope.scaling.type'", "unsupported value '" + type + "'");
  hp.rope.ext_factor = 1.0f;
  hp.rope.n_ctx_orig = int(f.get_u32(p + "rope.scaling.original_context_length", uint32_t(hp.n_ctx_train)));
  const auto get_mscale = [](float scale, float m) { return scale <= 1.0f ? 1.0f : 0.1f * m * std::log(scale) + 1.0f; };
  // The file stores 0.1 * mscale_all_dim (convert's convention); llama.cpp undoes the 0.1.
  float log_mul = 0.0f;
  if (f.find(p + "rope.scaling.yarn_log_multiplier"))
    log_mul = f.get_f32(p + "rope.scaling.yarn_log_multiplier") / 0.1f;
  float attn = 1.0f;
  if (log_mul != 0.0f) {
    const float mscale = (hp.arch == Arch::Deepseek2 && log_mul != 1.0f) ? log_mul : 1.0f;
    attn = get_mscale(factor, mscale) / get_mscale(factor, log_mul);
  } else {
    attn = get_mscale(factor, 1.0f);
  }
  attn *= 1.0f / (1.0f + 0.1f * std::log(factor));
  hp.rope.attn_factor = attn;
  if (hp.arch == Arch::Deepseek2) {
    *kq_mscale = attn * (1.0f + 0.1f * std::log(factor)) * (1.0f + 0.1f * log_mul * std::log(factor));
  }
}

// The layer range of a pipeline stage (LoadOptions), checked against the trunk once its size is known.
void resolve_layer_range(Model& m) {
  const int n = m.hp.n_layer;
  if (m.layer_end < 0) m.layer_end = n;
  if (m.layer_begin < 0 || m.layer_begin >= m.layer_end || m.layer_end > n) {
    m.file->fail("layers", "range [" + std::to_string(m.layer_begin) + ", " + std::to_string(m.layer_end) +
                               ") is not within the model's " + std::to_string(n) + " layers");
  }
}

void load_llama_family(Model& m, const Binder& b) {
  const GgufFile& f = *m.file;
  Hparams& hp = m.hp;
  const std::string p = std::string(arch_name(hp.arch)) + ".";
  hp.n_layer = int(f.get_u32(p + "block_count"));
  hp.n_ctx_train = int(f.get_u32(p + "context_length"));
  hp.n_embd = int(f.get_u32(p + "embedding_length"));
  hp.n_ff = int(f.get_u32(p + "feed_forward_length"));
  hp.n_head = int(f.get_u32(p + "attention.head_count"));
  hp.n_head_kv = int(f.get_u32(p + "attention.head_count_kv", uint32_t(hp.n_head)));
  check_positive(f, p + "block_count", hp.n_layer, 4096);
  check_positive(f, p + "embedding_length", hp.n_embd);
  check_positive(f, p + "feed_forward_length", hp.n_ff);
  check_positive(f, p + "attention.head_count", hp.n_head, 4096);
  check_positive(f, p + "attention.head_count_kv", hp.n_head_kv, hp.n_head);
  if (hp.n_head % hp.n_head_kv != 0) {
    f.fail("key '" + p + "attention.head_count_kv'",
           "value " + std::to_string(hp.n_head_kv) + " does not divide head_count " + std::to_string(hp.n_head));
  }
  hp.rms_eps = f.get_f32(p + "attention.layer_norm_rms_epsilon");
  hp.head_dim_k = int(f.get_u32(p + "attention.key_length", uint32_t(hp.n_embd / hp.n_head)));
  hp.head_dim_v = int(f.get_u32(p + "attention.value_length", uint32_t(hp.head_dim_k)));
  check_positive(f, p + "attention.key_length", hp.head_dim_k, 4096);
  check_positive(f, p + "attention.value_length", hp.head_dim_v, 4096);
  hp.rope.n_rot = int(f.get_u32(p + "rope.dimension_count", uint32_t(hp.head_dim_k)));
  if (hp.rope.n_rot <= 0 || hp.rope.n_rot > hp.head_dim_k || hp.rope.n_rot % 2) {
    f.fail("key '" + p + "rope.dimension_count'",
           "value " + std::to_string(hp.rope.n_rot) + " is not an even number <= head size");
  }
  hp.rope.base = f.get_f32(p + "rope.freq_base", 10000.0f);
  hp.rope.neox = hp.arch != Arch::Llama;
  hp.rope.n_ctx_orig = hp.n_ctx_train;
  float mscale;
  setup_rope_scaling(f, p, hp, &mscale);
  hp.kq_scale = 1.0f / std::sqrt(float(hp.head_dim_k));

  const int64_t D = hp.n_embd, qd = int64_t(hp.n_head) * hp.head_dim_k, kd = int64_t(hp.n_head_kv) * hp.head_dim_k,
                vd = int64_t(hp.n_head_kv) * hp.head_dim_v;
  m.rope_freqs = b.bind_f32("rope_freqs.weight", {hp.rope.n_rot / 2}, false);
  hp.rope.freq_factors = m.rope_freqs.empty() ? nullptr : m.rope_freqs.f32();
  const bool biases = hp.arch == Arch::Qwen2;
  resolve_layer_range(m);
  m.layers.resize(hp.n_layer);
  for (int l = m.layer_begin; l < m.layer_end; ++l) {
    Layer& L = m.layers[l];
    L.attn_norm = b.bind_f32(blk(l, "attn_norm.weight"), {D});
    L.wq = b.bind(blk(l, "attn_q.weight"), {D, qd});
    L.wk = b.bind(blk(l, "attn_k.weight"), {D, kd});
    L.wv = b.bind(blk(l, "attn_v.weight"), {D, vd});
    L.bq = b.bind_f32(blk(l, "attn_q.bias"), {qd}, biases);
    L.bk = b.bind_f32(blk(l, "attn_k.bias"), {kd}, biases);
    L.bv = b.bind_f32(blk(l, "attn_v.bias"), {vd}, biases);
    if (hp.arch == Arch::Qwen3) {
      L.q_norm = b.bind_f32(blk(l, "attn_q_norm.weight"), {hp.head_dim_k});
      L.k_norm = b.bind_f32(blk(l, "attn_k_norm.weight"), {hp.head_dim_k});
    }
    L.wo = b.bind(blk(l, "attn_output.weight"), {int64_t(hp.n_head) * hp.head_dim_v, D});
    L.ffn_norm = b.bind_f32(blk(l, "ffn_norm.weight"), {D});
    L.gate = b.bind(blk(l, "ffn_gate.weight"), {D, hp.n_ff});
    L.up = b.bind(blk(l, "ffn_up.weight"), {D, hp.n_ff});
    L.down = b.bind(blk(l, "ffn_down.weight"), {hp.n_ff, D});
  }
}

void bind_deepseek2_layer(const Hparams& hp, const Binder& b, int l, Layer& L) {
  const int64_t D = hp.n_embd, H = hp.n_head, dk = hp.head_dim_k, dv = hp.head_dim_v, rkv = hp.kv_lora_rank;
  L.attn_norm = b.bind_f32(blk(l, "attn_norm.weight"), {D});
  if (hp.q_lora_rank > 0) {
    L.wq_a = b.bind(blk(l, "attn_q_a.weight"), {D, hp.q_lora_rank});
    L.q_a_norm = b.bind_f32(blk(l, "attn_q_a_norm.weight"), {hp.q_lora_rank});
    L.wq_b = b.bind(blk(l, "attn_q_b.weight"), {hp.q_lora_rank, H * dk});
  } else {
    L.wq = b.bind(blk(l, "attn_q.weight"), {D, H * dk});
  }
  L.wkv_a = b.bind(blk(l, "attn_kv_a_mqa.weight"), {D, rkv + hp.qk_rope});
  L.kv_a_norm = b.bind_f32(blk(l, "attn_kv_a_norm.weight"), {rkv});
  if (hp.mla_split) {
    L.wk_b = b.bind(blk(l, "attn_k_b.weight"), {hp.qk_nope, rkv, H});
    L.wv_b = b.bind(blk(l, "attn_v_b.weight"), {rkv, dv, H});
  } else {
    // Legacy files: absorb attn_kv_b too, as floats. llama.cpp decompresses K and V from the
    // latent instead: its products see the latent in kv_b's activation type and nothing else
    // rounded, which the cache reproduces by storing the latent so (forward_deepseek2) and
    // these float copies by leaving the absorbed products unrounded. wv_b keeps the file's
    // tensor for its type.
    const Weight kv_b = b.bind(blk(l, "attn_kv_b.weight"), {rkv, H * (hp.qk_nope + dv)});
    L.wv_b = kv_b;
    L.k_b_legacy.resize(size_t(H * rkv * hp.qk_nope));
    L.v_b_legacy.resize(size_t(H * dv * rkv));
    std::vector<float> row(rkv);
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t d = 0; d < hp.qk_nope; ++d) {
        dequantize_row(kv_b, h * (hp.qk_nope + dv) + d, row.data());
        for (int64_t c = 0; c < rkv; ++c) L.k_b_legacy[size_t((h * rkv + c) * hp.qk_nope + d)] = row[c];
      }
      for (int64_t v = 0; v < dv; ++v) {
        dequantize_row(kv_b, h * (hp.qk_nope + dv) + hp.qk_nope + v, L.v_b_legacy.data() + (h * dv + v) * rkv);
      }
    }
  }
  L.wo = b.bind(blk(l, "attn_output.weight"), {H * dv, D});
  L.ffn_norm = b.bind_f32(blk(l, "ffn_norm.weight"), {D});
  L.moe = l >= hp.n_dense_lead;
  if (!L.moe) {
    L.gate = b.bind(blk(l, "ffn_gate.weight"), {D, hp.n_ff});
    L.up = b.bind(blk(l, "ffn_up.weight"), {D, hp.n_ff});
    L.down = b.bind(blk(l, "ffn_down.weight"), {hp.n_ff, D});
    return;
  }
  const int64_t E = hp.router.n_expert, fe = hp.n_ff_exp;
  L.gate_inp = b.bind_f32(blk(l, "ffn_gate_inp.weight"), {D, E});
  L.exp_probs_b = b.bind_f32(blk(l, "exp_probs_b.bias"), {E}, false);
  L.gate_exps = b.bind(blk(l, "ffn_gate_exps.weight"), {D, fe, E});
  L.up_exps = b.bind(blk(l, "ffn_up_exps.weight"), {D, fe, E});
  L.down_exps = b.bind(blk(l, "ffn_down_exps.weight"), {fe, D, E});
  if (hp.n_expert_shared > 0) {
    const int64_t fs = fe * hp.n_expert_shared;
    L.gate_shexp = b.bind(blk(l, "ffn_gate_shexp.weight"), {D, fs});
    L.up_shexp = b.bind(blk(l, "ffn_up_shexp.weight"), {D, fs});
    L.down_shexp = b.bind(blk(l, "ffn_down_shexp.weight"), {fs, D});
  }
}

void load_deepseek2(Model& m, const Binder& b) {
  const GgufFile& f = *m.file;
  Hparams& hp = m.hp;
  const std::string p = "deepseek2.";
  hp.n_layer = int(f.get_u32(p + "block_count"));
  hp.n_ctx_train = int(f.get_u32(p + "context_length"));
  hp.n_embd = int(f.get_u32(p + "embedding_length"));
  hp.n_ff = int(f.get_u32(p + "feed_forward_length"));
  hp.n_head = int(f.get_u32(p + "attention.head_count"));
  hp.rms_eps = f.get_f32(p + "attention.layer_norm_rms_epsilon");
  check_positive(f, p + "block_count", hp.n_layer, 4096);
  check_positive(f, p + "embedding_length", hp.n_embd);
  check_positive(f, p + "attention.head_count", hp.n_head, 4096);
  hp.n_nextn = int(f.get_u32(p + "nextn_predict_layers", 0));
  if (hp.n_nextn < 0 || hp.n_nextn >= hp.n_layer) {
    f.fail(
        "key '" + p + "nextn_predict_layers'",
        "value " + std::to_string(hp.n_nextn) + " leaves no trunk layers of block_count " + std::to_string(hp.n_layer));
  }
  hp.n_layer -= hp.n_nextn;
  hp.n_dense_lead = int(f.get_u32(p + "leading_dense_block_count", 0));
  hp.q_lora_rank = int(f.get_u32(p + "attention.q_lora_rank", 0));
  hp.kv_lora_rank = int(f.get_u32(p + "attention.kv_lora_rank"));
  check_positive(f, p + "attention.kv_lora_rank", hp.kv_lora_rank);
  const uint32_t k_mla = f.get_u32(p + "attention.key_length_mla", 0);
  const uint32_t v_mla = f.get_u32(p + "attention.value_length_mla", 0);
  hp.mla_split = k_mla != 0 && v_mla != 0;
  hp.head_dim_k = int(hp.mla_split ? k_mla : f.get_u32(p + "attention.key_length"));
  hp.head_dim_v = int(hp.mla_split ? v_mla : f.get_u32(p + "attention.value_length"));
  check_positive(f, p + "attention.key_length", hp.head_dim_k, 4096);
  check_positive(f, p + "attention.value_length", hp.head_dim_v, 4096);
  hp.n_head_kv = hp.mla_split ? 1 : hp.n_head;
  hp.qk_rope = int(f.get_u32(p + "rope.dimension_count"));
  hp.qk_nope = hp.head_dim_k - hp.qk_rope;
  if (hp.qk_rope <= 0 || hp.qk_rope % 2 || hp.qk_nope < 1) {
    f.fail("key '" + p + "rope.dimension_count'",
           "value " + std::to_string(hp.qk_rope) + " does not fit key length " + std::to_string(hp.head_dim_k));
  }
  hp.rope.n_rot = hp.qk_rope;
  hp.rope.neox = false;
  hp.rope.base = f.get_f32(p + "rope.freq_base", 10000.0f);
  hp.rope.n_ctx_orig = hp.n_ctx_train;
  float mscale;
  setup_rope_scaling(f, p, hp, &mscale);
  hp.kq_scale = mscale * mscale / std::sqrt(float(hp.head_dim_k));

  RouterConfig& r = hp.router;
  r.n_expert = int(f.get_u32(p + "expert_count", 0));
  r.n_used = int(f.get_u32(p + "expert_used_count", 0));
  r.n_group = int(f.get_u32(p + "expert_group_count", 1));
  r.n_group_used = int(f.get_u32(p + "expert_group_used_count", uint32_t(r.n_group)));
  const uint32_t gating = f.get_u32(p + "expert_gating_func", 1);
  if (gating != 1 && gating != 2)
    f.fail("key '" + p + "expert_gating_func'", "unsupported value " + std::to_string(gating));
  r.gating = Gating(gating);
  r.norm_weights = f.get_bool(p + "expert_weights_norm", false);
  r.weights_scale = f.get_f32(p + "expert_weights_scale", 0.0f);
  hp.n_expert_shared = int(f.get_u32(p + "expert_shared_count", 0));
  if (hp.n_dense_lead < hp.n_layer) {
    hp.n_ff_exp = int(f.get_u32(p + "expert_feed_forward_length"));
    check_positive(f, p + "expert_feed_forward_length", hp.n_ff_exp);
    check_positive(f, p + "expert_count", r.n_expert, 4096);
    check_positive(f, p + "expert_used_count", r.n_used, r.n_expert);
    if (r.n_group < 1 || r.n_group > 64 || r.n_expert % r.n_group != 0) {
      f.fail("key '" + p + "expert_group_count'", "value " + std::to_string(r.n_group) +
                                                      " does not divide expert_count " + std::to_string(r.n_expert) +
                                                      " (at most 64 groups)");
    }
    if (r.n_group_used < 1 || r.n_group_used > r.n_group) {
      f.fail("key '" + p + "expert_group_used_count'", "value " + std::to_string(r.n_group_used) + " is out of range");
    }
  }
  if (hp.n_dense_lead > 0) check_positive(f, p + "feed_forward_length", hp.n_ff);

  resolve_layer_range(m);
  m.layers.resize(hp.n_layer);
  for (int l = m.layer_begin; l < m.layer_end; ++l) bind_deepseek2_layer(hp, b, l, m.layers[l]);
  if (m.expert_begin != 0 || m.expert_end >= 0) {
    const int E = hp.router.n_expert;
    if (m.expert_end < 0) m.expert_end = E;
    if (m.expert_begin < 0 || m.expert_begin >= m.expert_end || m.expert_end > E) {
      f.fail("experts", "range [" + std::to_string(m.expert_begin) + ", " + std::to_string(m.expert_end) +
                            ") is not within the model's " + std::to_string(E) + " routed experts");
    }
    for (int l = m.layer_begin; l < m.layer_end; ++l) {
      if (!m.layers[l].moe) continue;
      m.layers[l].expert_begin = m.expert_begin;
      m.layers[l].expert_end = m.expert_end;
    }
  }
  // MTP layers follow the trunk (llama.cpp counts them in block_count). A file
  // converted without them (no nextn.eh_proj) is still a complete trunk.
  const int n_all = hp.n_layer + hp.n_nextn;
  if (m.ends && m.head && hp.n_nextn > 0 && f.find_tensor(blk(hp.n_layer, "nextn.eh_proj.weight"))) {
    m.mtp_layers.resize(hp.n_nextn);
    for (int l = hp.n_layer; l < n_all; ++l) {
      Layer& L = m.mtp_layers[l - hp.n_layer];
      bind_deepseek2_layer(hp, b, l, L);
      const int64_t D = hp.n_embd;
      L.nextn_eh_proj = b.bind(blk(l, "nextn.eh_proj.weight"), {2 * D, D});
      L.nextn_enorm = b.bind_f32(blk(l, "nextn.enorm.weight"), {D});
      L.nextn_hnorm = b.bind_f32(blk(l, "nextn.hnorm.weight"), {D});
      L.nextn_head_norm = b.bind_f32(blk(l, "nextn.shared_head_norm.weight"), {D}, false);
    }
  }
}

}  // namespace

bool tensor_in_part(const std::string& name, int n_trunk, const LoadOptions& opts) {
  int layer = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) {
    if (name == "rope_freqs.weight") return true;
    if (name == "token_embd.weight") return opts.ends;
    return opts.ends && opts.head;
  }
  if (layer >= n_trunk) return opts.ends && opts.head;
  return layer >= opts.layer_begin && (opts.layer_end < 0 || layer < opts.layer_end);
}

std::pair<size_t, size_t> tensor_part(const GgufTensor& t, int n_trunk, const LoadOptions& opts) {
  if (!tensor_in_part(t.name, n_trunk, opts)) return {0, 0};
  int layer = -1;
  const bool routed = t.name.find("_exps.") != std::string::npos && t.n_dims == 3 &&
                      std::sscanf(t.name.c_str(), "blk.%d.", &layer) == 1 && layer < n_trunk;
  if (!routed || (opts.expert_begin == 0 && opts.expert_end < 0)) return {0, t.nbytes};
  const int64_t E = t.ne[2];
  const size_t per = t.nbytes / size_t(E);
  const int64_t e1 = opts.expert_end < 0 ? E : std::min<int64_t>(opts.expert_end, E);
  return {size_t(opts.expert_begin) * per, size_t(e1) * per};
}

bool is_mtp_tensor(const Hparams& hp, const std::string& name) {
  int layer = -1;
  return std::sscanf(name.c_str(), "blk.%d.", &layer) == 1 && layer >= hp.n_layer;
}

WeightLoad parse_weight_load(const std::string& s, const std::string& what) {
  if (s == "auto") return WeightLoad::Auto;
  if (s == "map") return WeightLoad::Map;
  if (s == "copy") return WeightLoad::Copy;
  throw Error(what + ": unknown weight loading '" + s + "' (expected auto, map or copy)");
}

namespace {

// MemAvailable counts the page cache that a copy may evict, including the file's own pages.
double available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (in >> key >> kib) {
    if (key == "MemAvailable:") return kib * 1024;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
}

bool huge_pages_offered() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(in, modes);
  return in && modes.find("[never]") == std::string::npos;
}

GgufFile::Residency residency_for(const std::string& path, WeightLoad load) {
  if (load == WeightLoad::Map) return GgufFile::Residency::Map;
  if (load == WeightLoad::Copy) return GgufFile::Residency::Copy;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return GgufFile::Residency::Map;  // open() reports the error
  const bool fits = double(st.st_size) < 0.8 * available_memory();
  return fits && huge_pages_offered() ? GgufFile::Residency::Copy : GgufFile::Residency::Map;
}

}  // namespace

namespace {

// Matrices that matmul reads are repacked in place into the x16 form where their type has one
// (same bytes, no unpacking in the GEMM), in groups of 16 rows that never straddle two experts.
// A token embedding tied to the output head is repacked too (its lookups take a row out of its
// group: dequantize_row); otherwise a step with logits for more than a few sequences would unpack
// the whole head into levels each time. An untied embedding is only looked up: it stays plain.
void repack_weights(Model& m) {
  struct Todo {
    Weight* w;
    int64_t per;         // rows per expert or head (or all rows)
    int64_t first = 0;   // the rows held here: an expert split holds some experts' only
    int64_t last = -1;
  };
  std::vector<Todo> todo;
  for (Layer& L : m.layers) {
    for (Weight* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.wq_a, &L.wq_b, &L.wkv_a, &L.gate, &L.up, &L.down, &L.gate_shexp,
                      &L.up_shexp, &L.down_shexp}) {
      todo.push_back({w, w->rows});
    }
    // MLA's per-head products read slices of these; they stay whole groups when a head's rows
    // start and end on multiples of 16 (split layout: k_b rows per head, v_b rows per head;
    // legacy kv_b: a head's k rows, then its v rows).
    if (m.hp.mla_split) {
      todo.push_back({&L.wk_b, m.hp.kv_lora_rank});
      todo.push_back({&L.wv_b, m.hp.head_dim_v});
    } else if (m.hp.qk_nope % 16 == 0) {
      todo.push_back({&L.wv_b, m.hp.qk_nope + m.hp.head_dim_v});
    }
    const int64_t e0 = L.expert_begin, e1 = L.expert_end < 0 ? m.hp.router.n_expert : L.expert_end;
    todo.push_back({&L.gate_exps, m.hp.n_ff_exp, e0 * m.hp.n_ff_exp, e1 * m.hp.n_ff_exp});
    todo.push_back({&L.up_exps, m.hp.n_ff_exp, e0 * m.hp.n_ff_exp, e1 * m.hp.n_ff_exp});
    todo.push_back({&L.down_exps, m.hp.n_embd, e0 * m.hp.n_embd, e1 * m.hp.n_embd});
  }
  todo.push_back({&m.output, m.output.rows});
  std::erase_if(todo, [](const Todo& p) {
    const Weight& w = *p.w;
    // A matrix not split into experts or heads may end in fewer than 16 rows: those stay plain.
    const bool whole = p.per == w.rows;
    return w.empty() || !x16_supported(w.type) || !level_gemm_available(w.type) || p.per <= 0 ||
           (!whole && (p.per % 16 != 0 || w.rows % 16 != 0));
  });
  ThreadPool pool(int(std::max(1u, std::thread::hardware_concurrency())));
  for (const Todo& t : todo) {
    Weight* w = t.w;
    uint8_t* base = m.file->writable(w->data);
    const size_t group = 16 * w->row_stride;
    // Rows outside [first, last) were never read in (an expert split): they stay untouched.
    const int64_t g_first = t.first / 16, g_last = (t.last < 0 ? w->rows : t.last) / 16;
    pool.parallel_for(g_last - g_first, 1, [&, w](int64_t g0, int64_t g1) {
      thread_local std::vector<uint8_t> scratch;
      for (int64_t g = g_first + g0; g < g_first + g1; ++g) repack_x16(w->type, base + size_t(g) * group, w->cols, scratch);
    });
    w->x16 = true;
  }
  if (m.tok_embd.data == m.output.data) m.tok_embd.x16 = m.output.x16;  // the same bytes
}

}  // namespace

std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& opts) {
  auto m = std::make_unique<Model>();
  const bool whole = opts.layer_begin == 0 && opts.layer_end < 0 && opts.ends && opts.head && opts.expert_begin == 0 &&
                     opts.expert_end < 0;
  const GgufFile::Residency residency = residency_for(path, opts.load);
  // A part is mapped first to learn which bytes it needs; only those are copied.
  m->file = GgufFile::open(path, whole ? residency : GgufFile::Residency::Map);
  const GgufFile& f = *m->file;
  const std::string arch = f.get_str("general.architecture");
  m->layer_begin = opts.layer_begin;
  m->layer_end = opts.layer_end;
  m->ends = opts.ends;
  m->head = opts.head;
  m->expert_begin = opts.expert_begin;
  m->expert_end = opts.expert_end;
  const int n_trunk = [&] {
    const std::string p = arch + ".";
    return int(f.get_u32(p + "block_count", 0)) - int(f.get_u32(p + "nextn_predict_layers", 0));
  }();
  const auto part_of = [&](const GgufTensor& t) { return tensor_part(t, n_trunk, opts); };
  if (!whole && residency == GgufFile::Residency::Copy) m->file->copy_part(part_of);
  if (arch == "llama") {
    m->hp.arch = Arch::Llama;
  } else if (arch == "qwen2") {
    m->hp.arch = Arch::Qwen2;
  } else if (arch == "qwen3") {
    m->hp.arch = Arch::Qwen3;
  } else if (arch == "deepseek2") {
    m->hp.arch = Arch::Deepseek2;
  } else {
    f.fail("key 'general.architecture'",
           "unsupported architecture '" + arch + "' (dawn runs llama, qwen2, qwen3, deepseek2)");
  }
  const GgufTensor& emb = f.tensor("token_embd.weight");
  m->hp.n_vocab = int(emb.ne[1]);
  if (const GgufKV* toks = f.find("tokenizer.ggml.tokens")) {
    if (toks->type == GgufType::ARRAY && int64_t(toks->count) != emb.ne[1]) {
      f.fail("tensor 'token_embd.weight'", "has " + std::to_string(emb.ne[1]) + " rows but the vocabulary has " +
                                               std::to_string(toks->count) + " tokens");
    }
  }
  Binder b(f);
  if (m->hp.arch == Arch::Deepseek2) {
    load_deepseek2(*m, b);
  } else {
    load_llama_family(*m, b);
  }
  const int64_t D = m->hp.n_embd, V = m->hp.n_vocab;
  if (m->ends) m->tok_embd = b.bind("token_embd.weight", {D, V});
  if (m->ends && opts.head) {
    m->output_norm = b.bind_f32("output_norm.weight", {D});
    m->output = b.bind("output.weight", {D, V}, false);
    if (m->output.empty()) m->output = m->tok_embd;
  }
  // A mapped file that fits in memory is read ahead in the background; in one that does not,
  // routed experts are touched sparsely, and read-ahead around them would only evict useful pages.
  if (f.residency() == GgufFile::Residency::Map) {
    const double ram = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
    const bool fits = double(f.file_size()) < 0.8 * ram;
    for (const GgufTensor& t : f.tensors()) {
      const auto [from, to] = part_of(t);
      if (from == to) continue;
      if (fits) {
        f.advise_willneed(t.data + from, to - from);
      } else if (std::string_view(t.name).find("_exps.") != std::string_view::npos) {
        f.advise_random(t.data, t.nbytes);
      }
    }
  }
  if (f.residency() == GgufFile::Residency::Copy) {
    repack_weights(*m);
    f.seal();
  }
  if (opts.mlock) {
    if (whole) {
      f.lock();
    } else {
      for (const GgufTensor& t : f.tensors()) {
        const auto [from, to] = part_of(t);
        if (from < to) f.lock(t.data + from, to - from);
      }
    }
  }
  return m;
}


}  // namespace dawn
