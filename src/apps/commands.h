// The dawn CLI subcommands; each registers itself on the top-level app.
#pragma once
#include <CLI/CLI.hpp>

#include "engine/sampler.h"
#include "models/model.h"

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
void add_chat_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_imatrix_command(CLI::App& app);

// --mlock and --load, shared by every command that runs a model.
void add_load_options(CLI::App* c, LoadOptions& o);

// --chat-template's check: an existing file, or builtin:NAME.
CLI::Validator chat_template_path();

// --temp, --top-k, --top-p, --min-p, penalties and --seed, shared by run and chat.
void add_sampling_options(CLI::App* c, SamplerParams& p);

// --draft and --draft-n (speculative decoding), shared by run, chat, eval and bench.
struct DraftParams;
void add_draft_options(CLI::App* c, DraftParams& p);

}  // namespace dawn
