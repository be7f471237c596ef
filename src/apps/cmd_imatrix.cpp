// dawn imatrix: an importance matrix for dawn quantize --imatrix (and llama-quantize).
#include <cstdio>
#include <filesystem>
#include <thread>

#include "apps/commands.h"
#include "models/imatrix.h"
#include "text/vocab.h"
#include "util/error.h"
#include "util/file.h"

namespace dawn {

void add_imatrix_command(CLI::App& app) {
  struct Opts {
    std::string model, text, out = "imatrix.gguf", format;
    int ctx = 512, chunks = 0, threads = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand(
      "imatrix", "Importance matrix of a model over a text: each weight's per-column mean square input (per expert)");
  c->add_option("model", o->model, "GGUF model file (F32/F16/BF16 or quantized)")->required()->check(CLI::ExistingFile);
  c->add_option("text", o->text, "UTF-8 text to run the model over")->required()->check(CLI::ExistingFile);
  c->add_option("-o,--output", o->out, "Output file")->capture_default_str();
  c->add_option("--output-format", o->format, "gguf or dat (llama.cpp's legacy format); default: by extension")
      ->check(CLI::IsMember({"gguf", "dat"}));
  c->add_option("-c,--ctx-size", o->ctx, "Chunk length in tokens")->capture_default_str();
  c->add_option("--chunks", o->chunks, "At most this many chunks (0: all the text)")->capture_default_str();
  c->add_option("-t,--threads", o->threads, "Threads (0: all cores)")->capture_default_str();
  c->callback([o] {
    LoadOptions opts;
    opts.load = WeightLoad::Map;  // products are named by where their weights lie in the file
    auto m = load_model(o->model, opts);
    Vocab vocab(*m->file);
    const std::vector<int32_t> tokens = vocab.encode(read_file(o->text), false);
    const int threads = o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency()));
    std::fprintf(stderr, "imatrix: %zu tokens, chunks of %d\n", tokens.size(), o->ctx);
    Imatrix im = collect_imatrix(*m, tokens, o->ctx, vocab.add_bos() ? vocab.bos() : -1, o->chunks, threads,
                                 [](int i, int n) { std::fprintf(stderr, "\rimatrix: chunk %d/%d", i, n); });
    std::fprintf(stderr, "\n");
    im.datasets = {std::filesystem::path(o->text).filename().string()};  // a name, not a path: reproducible files
    const bool dat = o->format == "dat" || (o->format.empty() && o->out.size() > 4 &&
                                            o->out.compare(o->out.size() - 4, 4, ".dat") == 0);
    if (dat) {
      im.write_dat(o->out);
    } else {
      im.write_gguf(o->out);
    }
    std::printf("imatrix: %zu tensors over %d chunks of %d tokens -> %s (%s)\n", im.entries.size(), im.chunk_count,
                o->ctx, o->out.c_str(), dat ? "dat" : "gguf");
  });
}

}  // namespace dawn
