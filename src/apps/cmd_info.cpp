#include <cstdio>
#include <map>

#include "apps/commands.h"
#include "engine/kv_cache.h"

namespace dawn {

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
    std::map<std::string, std::pair<int, size_t>> mix;
    double total = 0, inactive = 0, mtp = 0;
    for (const GgufTensor& t : m->file->tensors()) {
      const bool in_mtp = is_mtp_tensor(hp, t.name);
      if (in_mtp) mtp += double(t.nelements());
      auto& e = mix[type_name(t.type)];
      e.first++;
      e.second += t.nbytes;
      total += double(t.nelements());
      if (t.name.find("_exps.") != std::string::npos && hp.router.n_expert > 0 && !in_mtp) {
        inactive += double(t.nelements()) * (1.0 - double(hp.router.n_used) / hp.router.n_expert);
      }
    }
    std::printf("tensor types: ");
    for (const auto& [name, e] : mix)
      std::printf(" %s x%d (%.1f MiB)", name.c_str(), e.first, double(e.second) / (1 << 20));
    std::printf("\nparameters:    %.4g B total", total / 1e9);
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
