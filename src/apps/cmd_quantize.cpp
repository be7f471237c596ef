#include "apps/commands.h"
#include "models/quantize.h"
#include "util/progress.h"

namespace dawn {

void add_quantize_command(CLI::App& app) {
  struct Opts {
    std::string in, out, type;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand("quantize", "Re-encode a model's weights (pure types or llama.cpp's K-quant mixes)");
  c->add_option("input", o->in, "Source GGUF (f32/f16/bf16 weights give the best result)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("output", o->out, "Output GGUF")->required();
  c->add_option("type", o->type,
                "f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q3_k, q4_k, q5_k, q6_k, or the mixes q2_k, q4_k_m, q5_k_m")
      ->required();
  c->callback([o] {
    Progress bar("quantize");
    quantize_model(o->in, o->out, o->type, [&](size_t d, size_t t) { bar.update(d, t); });
  });
}

}  // namespace dawn
