#include <cstdio>

#include "apps/commands.h"
#include "models/synth.h"
#include "util/error.h"
#include "util/progress.h"

namespace dawn {

void add_synth_command(CLI::App& app) {
  struct Opts {
    std::string arch, preset, dtype = "f32", out;
    SynthConfig c;
  };
  auto o = std::make_shared<Opts>();
  std::string presets;
  for (const std::string& p : synth_preset_names()) presets += (presets.empty() ? "" : ", ") + p;
  CLI::App* c = app.add_subcommand("synth", "Write a random-weight model of any supported architecture and shape");
  c->add_option("--preset", o->preset, "Shape preset: " + presets);
  c->add_option("--arch", o->arch, "Architecture when no preset: llama, qwen2, qwen3, deepseek2");
  c->add_option("--dtype", o->dtype,
                "Weight type: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k..q6_k, iq1_s, iq1_m, iq2_xxs, "
                "iq2_xs, iq2_s, iq3_xxs, iq3_s, iq4_nl, iq4_xs (large i-quant tensors are assembled from a pool "
                "of about a million quantized weights: same bytes per weight, minutes instead of hours)")
      ->capture_default_str();
  c->add_option("--tensor-type", o->c.tensor_types,
                "REGEX=TYPE: matrices whose name matches get TYPE instead (llama-quantize's syntax; the last "
                "match wins; repeatable), e.g. ffn_.*_exps=iq1_s for the experts of an UD-IQ1_S-like mix");
  c->add_option("--seed", o->c.seed, "Random seed")->capture_default_str();
  c->add_option("-o,--output", o->out, "Output GGUF file")->required();
  c->add_option("--layers", o->c.n_layer, "Layers");
  c->add_option("--embd", o->c.n_embd, "Embedding width");
  c->add_option("--ff", o->c.n_ff, "FFN width (dense layers)");
  c->add_option("--heads", o->c.n_head, "Attention heads");
  c->add_option("--kv-heads", o->c.n_head_kv, "KV heads (llama family)");
  c->add_option("--head-dim", o->c.head_dim, "Head size (llama family)");
  c->add_option("--vocab", o->c.n_vocab, "Vocabulary size (>= 262)");
  c->add_option("--ctx-train", o->c.n_ctx_train, "Training context length");
  c->add_option("--rope-theta", o->c.rope_base, "RoPE base");
  c->add_flag("--tie-embeddings", o->c.tie_embeddings, "No output.weight: reuse token_embd");
  c->add_option("--hf-tokenizer", o->c.hf_tokenizer,
                "Vocabulary, merges, special tokens and chat template from a Hugging Face tokenizer.json "
                "(tokenizer_config.json beside it is read too)")
      ->check(CLI::ExistingFile);
  c->add_flag("--vocab-only", o->c.vocab_only, "Write tokenizer metadata only, no tensors");
  c->add_option("--pre", o->c.pre_override,
                "With --hf-tokenizer: write this tokenizer.ggml.pre instead of the detected one (tests a "
                "pre-tokenizer on a real vocabulary)");
  c->callback([o] {
    SynthConfig cfg = o->c;
    if (!parse_type_name(o->dtype, &cfg.dtype) || cfg.dtype == DType::Q8_K || cfg.dtype == DType::Q8_1 ||
        !traits(cfg.dtype).from_float) {
      throw Error("--dtype: unknown type '" + o->dtype + "'");
    }
    if (!o->preset.empty()) {
      if (!synth_preset(o->preset, &cfg)) throw Error("--preset: unknown preset '" + o->preset + "'");
      cfg.hf_tokenizer = o->c.hf_tokenizer;
      cfg.vocab_only = o->c.vocab_only;
      cfg.pre_override = o->c.pre_override;
      cfg.tensor_types = o->c.tensor_types;
    } else if (o->arch == "llama") {
      cfg.arch = Arch::Llama;
    } else if (o->arch == "qwen2") {
      cfg.arch = Arch::Qwen2;
    } else if (o->arch == "qwen3") {
      cfg.arch = Arch::Qwen3;
    } else if (o->arch == "deepseek2") {
      cfg.arch = Arch::Deepseek2;
    } else {
      throw Error("--arch: give --preset or one of llama, qwen2, qwen3, deepseek2 (got '" + o->arch + "')");
    }
    if (!cfg.pre_override.empty() && cfg.hf_tokenizer.empty()) throw Error("--pre needs --hf-tokenizer");
    Progress bar("synth");
    synth_model(cfg, o->out, [&](size_t d, size_t t) { bar.update(d, t); });
  });
}

}  // namespace dawn
