#include <cstdio>
#include <thread>

#include "apps/commands.h"
#include "dist/dist.h"
#include "engine/perplexity.h"
#include "engine/session.h"
#include "text/vocab.h"
#include "util/error.h"
#include "util/file.h"

namespace dawn {

void add_perplexity_command(CLI::App& app) {
  struct Opts {
    LoadOptions load;
    std::string kv = "f16";
    std::string model, file;
    int ctx = 0, threads = 0, chunks = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand(
      "perplexity",
      "Perplexity of a model on a text file, measured as llama-perplexity does (second half of each chunk)");
  c->add_option("model", o->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  add_load_options(c, o->load);
  c->add_option("file", o->file, "UTF-8 text file")->required()->check(CLI::ExistingFile);
  c->add_option("--kv-type", o->kv,
                "KV cache type: f32, f16 (half of f32) or q8_0 (34 bytes per 32 values; rows in blocks of 32)")
      ->capture_default_str();
  c->add_option("-c,--ctx-size", o->ctx, "Chunk length in tokens (0: min(512, the model's training context))")
      ->capture_default_str();
  c->add_option("--chunks", o->chunks, "Score at most this many chunks (0: all)")->capture_default_str();
  c->add_option("-t,--threads", o->threads, "Threads (0: all cores)")->capture_default_str();
  c->callback([o] {
    auto m = dist::open_model(o->model, o->load, o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency())));
    Vocab vocab(*m->file);
    const std::vector<int32_t> tokens = vocab.encode(read_file(o->file), true);
    const int n_ctx = o->ctx > 0 ? o->ctx : std::min(512, m->hp.n_ctx_train > 0 ? m->hp.n_ctx_train : 512);
    const int threads = o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency()));
    Session s(*m, n_ctx, threads, parse_kv_type(o->kv, "--kv-type"));
    std::fprintf(stderr, "perplexity: %zu tokens, chunks of %d, scoring tokens %d..%d of each\n", tokens.size(), n_ctx,
                 n_ctx / 2, n_ctx - 1);
    const PerplexityResult r =
        perplexity(s, tokens, n_ctx, vocab.add_bos() ? vocab.bos() : -1, o->chunks,
                   [](int i, int n, double ppl) { std::fprintf(stderr, "[%d/%d] %.4f\n", i, n, ppl); });
    std::printf("PPL = %.4f +/- %.5f  (%lld tokens scored in %d chunks of %d, mean NLL %.5f)\n", r.ppl, r.ppl_err,
                static_cast<long long>(r.n_scored), r.n_chunks, n_ctx, r.nll);
  });
}

}  // namespace dawn
