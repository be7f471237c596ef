#include "apps/commands.h"
#include "models/quantize.h"
#include "util/progress.h"

namespace dawn {

void add_quantize_command(CLI::App& app) {
  struct Opts {
    std::string in, out, type;
    QuantizeOptions q;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand(
      "quantize",
      "Re-encode a model's weights (pure types, llama.cpp's K-quant and i-quant mixes, per-tensor overrides)");
  c->add_option("input", o->in, "Source GGUF (f32/f16/bf16 weights give the best result)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("output", o->out, "Output GGUF")->required();
  c->add_option("type", o->type,
                "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q3_k, q4_k, q5_k, q6_k, the K-quant mixes q2_k, "
                "q4_k_m, q5_k_m, or llama.cpp's i-quant mixes iq1_s, iq1_m, iq2_xxs, iq2_xs, iq2_s, iq2_m, iq3_xxs, "
                "iq3_s, iq4_nl, iq4_xs")
      ->required();
  c->add_option(
       "--imatrix", o->q.imatrix,
       "Importance matrix (dawn imatrix or llama-imatrix; GGUF or .dat): weighs each column's error in "
       "every quantized type but Q8_0 (K-quants, Q4_0..Q5_1, i-quants); iq1_s, iq1_m, iq2_xxs, iq2_xs, iq2_s and "
       "iq2_m refuse to run without one")
      ->check(CLI::ExistingFile);
  c->add_option("--tensor-type", o->q.tensor_types,
                "REGEX=TYPE, repeatable: tensors whose name matches get TYPE (the last match wins), e.g. "
                "'ffn_.*_exps=iq1_s' 'attn_=q4_k'");
  c->callback([o] {
    Progress bar("quantize");
    quantize_model(
        o->in, o->out, o->type, [&](size_t d, size_t t) { bar.update(d, t); }, o->q);
  });
}

}  // namespace dawn
