// Random-weight models of any supported architecture and shape, deterministic
// per seed, with a small trained byte-level BPE vocabulary.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "kernels/types.h"
#include "models/model.h"

namespace dawn {

struct SynthConfig {
  Arch arch = Arch::Llama;
  DType dtype = DType::F32;
  uint64_t seed = 1;
  int n_layer = 2, n_embd = 128, n_ff = 256, n_head = 4, n_head_kv = 2, head_dim = 32, n_vocab = 512;
  int n_ctx_train = 4096;
  float rope_base = 10000.0f, rms_eps = 1e-6f;
  bool tie_embeddings = false;
  bool llama3_rope = false;  // llama: write rope_freqs (factor 8, low 1, high 4, orig 8192)
  // deepseek2
  int q_lora_rank = 0, kv_lora_rank = 64, qk_nope = 32, qk_rope = 16, v_head = 32;
  int n_expert = 8, n_expert_used = 2, n_expert_shared = 1, n_ff_exp = 64, n_group = 1, n_group_used = 1, n_dense = 1;
  Gating gating = Gating::Softmax;
  bool expert_weights_norm = false;
  float expert_weights_scale = 1.0f;
  bool exp_probs_bias = false;
  bool legacy_kv_b = false;
  int n_nextn = 0;  // MTP layers after the trunk (DeepSeek-V3's nextn), each a MoE decoder layer
  float yarn_factor = 0.0f;  // > 1 writes YaRN scaling
  int yarn_orig_ctx = 0;
  float yarn_mscale_all_dim = 0.0f;
  // A real Hugging Face tokenizer.json instead of the small trained vocabulary (sets n_vocab).
  std::string hf_tokenizer;
  std::string pre_override;  // with hf_tokenizer: write this tokenizer.ggml.pre instead of the detected one
  bool vocab_only = false;   // metadata only, no tensors (like llama.cpp's ggml-vocab-*.gguf)
  // "REGEX=TYPE" (llama-quantize's --tensor-type): matrices whose name matches get TYPE, the last
  // match winning; the mixes of real low-bit files at real shapes, for benchmarks.
  std::vector<std::string> tensor_types;
};

// Known presets: tiny test shapes per variant and the real shapes of machine.md.
bool synth_preset(const std::string& name, SynthConfig* c);
std::vector<std::string> synth_preset_names();

// Writes the model; progress(done, total) after each tensor.
void synth_model(const SynthConfig& c, const std::string& path,
                 const std::function<void(size_t, size_t)>& progress = {});

// llama.cpp's fallback when a K-quant does not fit the row length.
DType fallback_type(DType t, int64_t cols);

}  // namespace dawn
