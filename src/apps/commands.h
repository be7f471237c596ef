// The dawn CLI subcommands; each registers itself on the top-level app.
#pragma once
#include <CLI/CLI.hpp>

namespace dawn {

void add_run_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_logits_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_tokenize_commands(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_perplexity_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_template_command(CLI::App& app);

}  // namespace dawn
