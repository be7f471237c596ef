#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "apps/commands.h"
#include "dist/dist.h"
#include "engine/generate.h"
#include "engine/session.h"
#include "engine/speculative.h"
#include "text/gbnf.h"
#include "text/grammar_matcher.h"
#include "text/json_schema_grammar.h"
#include "text/reasoning.h"
#include "text/vocab.h"
#include "util/error.h"

namespace dawn {

void add_run_command(CLI::App& app) {
  struct Opts {
    LoadOptions load;
    std::string kv = "f16";
    std::string model, prompt, grammar, schema;
    int reasoning_budget = -1;
    int n_predict = 128, threads = 0, ctx = 4096;
    bool no_special = false;
    GenerateParams gen;
    DraftParams draft;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand("run", "Generate text from a prompt, streamed to stdout");
  c->add_option("model", o->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  add_load_options(c, o->load);
  c->add_option("-p,--prompt", o->prompt, "Prompt text")->required();
  c->add_option("-n,--n-predict", o->n_predict, "Tokens to generate (-1: until the context is full)")
      ->capture_default_str();
  c->add_option("-t,--threads", o->threads, "Threads (0: all cores)")->capture_default_str();
  c->add_option("--kv-type", o->kv,
                "KV cache type: f32, f16 (half of f32) or q8_0 (34 bytes per 32 values; rows in blocks of 32)")
      ->capture_default_str();
  c->add_option("-c,--ctx-size", o->ctx, "Context size in tokens")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  add_sampling_options(c, o->gen.sampling);
  add_draft_options(c, o->draft);
  c->add_option("--stop", o->gen.stop, "Stop when this text is generated (repeatable)");
  c->add_flag("--no-special", o->no_special, "Treat special-token text in the prompt as plain text");
  c->add_option("--grammar", o->grammar,
                "Constrain the output to a GBNF grammar (llama.cpp's syntax; start rule 'root'). When the prompt "
                "ends inside <think>, the reasoning is free and the grammar starts after </think>")
      ->check(CLI::ExistingFile);
  c->add_option("--json-schema", o->schema,
                "Constrain the output to JSON valid against this JSON Schema file (see the README for what is supported)")
      ->check(CLI::ExistingFile)
      ->excludes("--grammar");
  c->add_option("--reasoning-budget", o->reasoning_budget,
                "With --grammar and a prompt ending in <think>: reasoning tokens before </think> is forced (-1: no cap)")
      ->capture_default_str();
  c->callback([o] {
    const int threads = o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency()));
    auto m = dist::open_model(o->model, o->load, threads);
    Vocab vocab(*m->file);
    draft_count(o->draft, "--draft-n");
    Session s(*m, o->ctx, threads, parse_kv_type(o->kv, "--kv-type"), o->draft.kind == DraftKind::Mtp);
    const auto draft_model = o->draft.kind == DraftKind::Model
                                 ? open_draft_model(o->draft, s, vocab, parse_kv_type(o->kv, "--kv-type"))
                                 : nullptr;
    const std::vector<int32_t> prompt = vocab.encode(o->prompt, true, !o->no_special);
    if (prompt.empty()) throw Error("prompt: empty after tokenization");
    if (int(prompt.size()) >= o->ctx) {
      throw Error("prompt: " + std::to_string(prompt.size()) + " tokens do not fit the context size of " +
                  std::to_string(o->ctx) + " (raise -c/--ctx-size)");
    }
    o->gen.n_predict = o->n_predict;
    if (!o->grammar.empty() || !o->schema.empty()) {
      const std::string& file = o->grammar.empty() ? o->schema : o->grammar;
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      Grammar g;
      try {
        if (o->grammar.empty()) {
          const auto schema = nlohmann::ordered_json::parse(text.str());
          g = parse_gbnf(json_schema_to_gbnf(schema));
        } else {
          g = parse_gbnf(text.str());
        }
      } catch (const nlohmann::json::exception& e) {
        throw Error(file + ": not JSON: " + e.what());
      } catch (const SchemaError& e) {
        throw Error(file + ": " + e.what());
      } catch (const Error& e) {
        throw Error(file + ": " + e.what());
      }
      // A prompt that ends inside <think> leaves the reasoning free; the answer may start with a newline or two.
      const bool thinking = ends_with_tag(o->prompt, "<think>");
      if (thinking) g = with_leading_whitespace(std::move(g), 4);
      o->gen.constraint.grammar = std::make_shared<CompiledGrammar>(g, vocab.token_trie(), vocab.eog_ids());
      o->gen.constraint.in_reasoning = thinking;
      o->gen.constraint.reasoning_budget = o->reasoning_budget;
    }
    std::fputs(o->prompt.c_str(), stdout);
    generate_with_draft(s, vocab, prompt, o->gen, o->draft, [](const std::string& t) {
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fflush(stdout);
    });
    std::fputc('\n', stdout);
  });
}

}  // namespace dawn
