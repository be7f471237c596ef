#include <cstdio>
#include <string>

#include "apps/commands.h"
#include "dist/dist.h"
#include "util/error.h"

int main(int argc, char** argv) {
  dawn::dist::init(&argc, &argv);  // under mpirun: this process is one rank of a split model
  CLI::App app{"dawn: run DeepSeek-class language models (deepseek2, qwen2, llama, qwen3 GGUF) fast on CPUs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dawn 0.1.0");
  dawn::add_run_command(app);
  dawn::add_info_command(app);
  dawn::add_logits_command(app);
  dawn::add_synth_command(app);
  dawn::add_tokenize_commands(app);
  dawn::add_quantize_command(app);
  dawn::add_perplexity_command(app);
  dawn::add_bench_command(app);
  dawn::add_template_command(app);
  dawn::add_chat_command(app);
  dawn::add_serve_command(app);
  dawn::add_eval_command(app);
  dawn::add_imatrix_command(app);
  // llama-server's -np (CLI11 takes one-letter short options only).
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "-np") argv[i] = const_cast<char*>("--parallel");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    if (rc != 0) dawn::dist::abandon();
    return rc;
  } catch (const dawn::Error& e) {
    std::fprintf(stderr, "dawn: error: %s\n", e.what());
    dawn::dist::abandon();
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "dawn: error: out of memory\n");
    dawn::dist::abandon();
    return 1;
  }
  return 0;
}
