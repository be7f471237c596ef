#include <cstdio>
#include <map>

#include "apps/commands.h"
#include "engine/kv_cache.h"

namespace dawn {

namespace {

// What a tensor is for, the way the low-bit "dynamic" mixes choose their types: routed experts,
// shared experts, attention, dense feed-forward, embeddings and head, and the rest (norms, router).
const char* tensor_role(const std::string& name) {
  const auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  if (has("_exps.")) return "experts";
  if (has("_shexp.")) return "shared";
  if (has(".attn_") && !has("_norm.")) return "attention";
  if ((has(".ffn_gate.") || has(".ffn_up.") || has(".ffn_down.")) && !has("_norm.")) return "dense ffn";
  if (name == "token_embd.weight" || name == "output.weight") return "embed/output";
  return "other";
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto model = std::make_shared<std::string>();
  auto ctx = std::make_shared<int>(4096);
  CLI::App* c = app.add_subcommand("info", "Show a model's architecture, shapes, tensor types, parameters and memory");
  c->add_option("model", *model, "GGUF model file")->required()->check(CLI::ExistingFile);
  c->add_option("-c,--ctx-size", *ctx, "Context size for the memory estimate")->capture_default_str();
  c->callback([model, ctx] {
    auto m = load_model(*model);
    const Hparams& hp = m->hp;
    std::printf("file:          %s (%.2f MiB, GGUF v%u)\n", model->c_str(), double(m->file->file_size()) / (1 << 20),
                m->file->version());
    std::printf("architecture:  %s\n", arch_name(hp.arch));
    std::printf("layers:        %d\nembedding:     %d\nheads:         %d (kv %d)\nhead size:     k %d, v %d\n",
                hp.n_layer, hp.n_embd, hp.n_head, hp.n_head_kv, hp.head_dim_k, hp.head_dim_v);
    std::printf("vocabulary:    %d\ncontext train: %d\nrope:          base %g, dims %d, %s", hp.n_vocab, hp.n_ctx_train,
                hp.rope.base, hp.rope.n_rot, hp.rope.neox ? "neox" : "norm");
    if (hp.rope.ext_factor != 0) {
      std::printf(", yarn factor %g (orig ctx %d)", 1.0 / hp.rope.freq_scale, hp.rope.n_ctx_orig);
    }
    std::printf("\n");
    if (hp.arch == Arch::Deepseek2) {
      std::printf("mla:           q_lora %d, kv_lora %d, nope %d, rope %d, v %d, %s layout\n", hp.q_lora_rank,
                  hp.kv_lora_rank, hp.qk_nope, hp.qk_rope, hp.head_dim_v,
                  hp.mla_split ? "split k_b/v_b" : "legacy kv_b");
      if (hp.n_nextn > 0) {
        std::printf("mtp:           %d nextn layer(s) after the trunk, %s\n", hp.n_nextn,
                    m->mtp_layers.empty() ? "weights absent (no --draft mtp)" : "weights present (--draft mtp drafts with the first)");
      }
      std::printf("moe:           %d experts, %d used, %d shared, ff %d, groups %d/%d, %s gating, dense lead %d\n",
                  hp.router.n_expert, hp.router.n_used, hp.n_expert_shared, hp.n_ff_exp, hp.router.n_group_used,
                  hp.router.n_group, hp.router.gating == Gating::Sigmoid ? "sigmoid" : "softmax", hp.n_dense_lead);
    } else {
      std::printf("ffn:           %d\n", hp.n_ff);
    }
    struct Count {
      int n = 0;
      size_t bytes = 0;
      double elements = 0;
      std::map<std::string, int> types;  // per role: tensors of each type
    };
    std::map<std::string, Count> mix, roles;
    double total = 0, inactive = 0, mtp = 0;
    size_t total_bytes = 0;
    for (const GgufTensor& t : m->file->tensors()) {
      const bool in_mtp = is_mtp_tensor(hp, t.name);
      if (in_mtp) mtp += double(t.nelements());
      for (Count* e : {&mix[type_name(t.type)], &roles[tensor_role(t.name)]}) {
        e->n++;
        e->bytes += t.nbytes;
        e->elements += double(t.nelements());
        e->types[type_name(t.type)]++;
      }
      total += double(t.nelements());
      total_bytes += t.nbytes;
      if (t.name.find("_exps.") != std::string::npos && hp.router.n_expert > 0 && !in_mtp) {
        inactive += double(t.nelements()) * (1.0 - double(hp.router.n_used) / hp.router.n_expert);
      }
    }
    std::printf("tensor types: ");
    for (const auto& [name, e] : mix) {
      std::printf(" %s x%d (%.1f MiB, %.2f bpw)", name.c_str(), e.n, double(e.bytes) / (1 << 20),
                  8.0 * double(e.bytes) / e.elements);
    }
    std::printf("\nbits/weight:   %.3f over the whole file\n", 8.0 * double(total_bytes) / total);
    for (const auto& [role, e] : roles) {
      std::printf("  %-12s %6.2f bpw, %8.1f MiB:", role.c_str(), 8.0 * double(e.bytes) / e.elements,
                  double(e.bytes) / (1 << 20));
      for (const auto& [name, n] : e.types) std::printf(" %s x%d", name.c_str(), n);
      std::printf("\n");
    }
    std::printf("parameters:    %.4g B total", total / 1e9);
    if (mtp > 0) std::printf(" (%.4g B in MTP layers)", mtp / 1e9);
    if (inactive > 0) std::printf(", %.4g B active per token", (total - inactive - mtp) / 1e9);
    const double kv_bytes = double(m->kv_k_dim() + m->kv_v_dim()) * 2.0 * hp.n_layer * *ctx;
    std::printf("\nkv cache:      %.1f MiB at %d tokens (f16, %lld values = %lld bytes per token per layer)\n",
                kv_bytes / (1 << 20), *ctx, static_cast<long long>(m->kv_k_dim() + m->kv_v_dim()),
                static_cast<long long>(2 * (m->kv_k_dim() + m->kv_v_dim())));
    std::printf("memory:        %.1f MiB (weights mapped + kv cache)\n",
                (double(m->file->file_size()) + kv_bytes) / (1 << 20));
  });
}

}  // namespace dawn
