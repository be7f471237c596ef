#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "apps/commands.h"
#include "dist/dist.h"
#include "engine/generate.h"
#include "engine/speculative.h"
#include "engine/session.h"
#include "text/chat.h"
#include "text/gbnf.h"
#include "text/grammar_matcher.h"
#include "text/reasoning.h"
#include "text/tool_call_grammar.h"
#include "text/tool_calls.h"
#include "util/error.h"

namespace dawn {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

void print(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void add_chat_command(CLI::App& app) {
  struct Opts {
    LoadOptions load;
    std::string model, system, chat_template, kv = "f16", tools_file, tool_choice = "auto";
    int threads = 0, ctx = 4096, n_predict = -1, reasoning_budget = -1;
    bool hide_reasoning = false;
    GenerateParams gen;
    DraftParams draft;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand(
      "chat", "Interactive multi-turn chat using the model's chat template (/reset starts over, /exit quits)");
  c->add_option("model", o->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  add_load_options(c, o->load);
  c->add_option("-s,--system", o->system, "System prompt");
  c->add_flag("--hide-reasoning", o->hide_reasoning, "Do not print the model's <think> reasoning");
  c->add_option(
       "--chat-template", o->chat_template,
       "Use this Jinja template file instead of the model's (builtin:deepseek-r1|chatml|llama3 for a built-in one)")
      ->check(chat_template_path());
  c->add_option("-n,--n-predict", o->n_predict, "Most tokens per reply (-1: until the context is full)")
      ->capture_default_str();
  c->add_option("--tools", o->tools_file,
                "Offer these tools (an OpenAI `tools` JSON array): calls the model makes are shown and you type each "
                "result, which goes back to the model")
      ->check(CLI::ExistingFile);
  c->add_option("--tool-choice", o->tool_choice,
                "With --tools: auto (the model decides) or required (each reply to you starts with a call, its "
                "arguments held to the function's parameters)")
      ->check(CLI::IsMember({"auto", "required"}))
      ->capture_default_str();
  c->add_option("--reasoning-budget", o->reasoning_budget,
                "With --tool-choice required: reasoning tokens before </think> is forced (-1: no cap)")
      ->capture_default_str();
  c->add_option("-t,--threads", o->threads, "Threads (0: all cores)")->capture_default_str();
  c->add_option("-c,--ctx-size", o->ctx, "Context size in tokens (the whole conversation)")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 24));
  c->add_option("--kv-type", o->kv, "KV cache type: f32, f16 or q8_0")->capture_default_str();
  o->gen.sampling.temp = 0.6f;  // DeepSeek's recommendation for R1-style reasoning
  o->gen.sampling.top_p = 0.95f;
  add_sampling_options(c, o->gen.sampling);
  add_draft_options(c, o->draft);
  c->callback([o] {
    auto m = dist::open_model(o->model, o->load, o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency())));
    Vocab vocab(*m->file);
    const auto tmpl = load_chat_template(*m->file, vocab, o->chat_template);
    const int threads = o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency()));
    draft_count(o->draft, "--draft-n");
    Session s(*m, o->ctx, threads, parse_kv_type(o->kv, "--kv-type"), o->draft.kind == DraftKind::Mtp);
    const auto draft_model = o->draft.kind == DraftKind::Model
                                 ? open_draft_model(o->draft, s, vocab, parse_kv_type(o->kv, "--kv-type"))
                                 : nullptr;
    const bool tty_in = isatty(0), tty_out = isatty(1);
    if (tty_in) {
      std::fprintf(stderr, "dawn chat: %s (template: %s). /reset starts over, /exit or Ctrl-D quits.\n",
                   o->model.c_str(), tmpl->origin().c_str());
    }
    json tools = nullptr;
    std::shared_ptr<CompiledGrammar> call_grammar;  // --tool-choice required
    const ToolCallFormat format = tmpl->tool_call_format();
    if (!o->tools_file.empty()) {
      std::ifstream in(o->tools_file);
      try {
        tools = json::parse(in);
        if (!tools.is_array()) throw Error("expected a JSON array of tools");
        if (format == ToolCallFormat::None) throw Error("the chat template (" + tmpl->origin() + ") has no tool-call format");
        if (o->tool_choice == "required") {
          Grammar g = parse_gbnf(tool_call_gbnf(format, tools, "", true));
          if (tmpl->opens_think()) g = with_leading_whitespace(std::move(g), 4);
          call_grammar = std::make_shared<CompiledGrammar>(g, vocab.token_trie(), vocab.eog_ids());
        }
      } catch (const json::exception& e) {
        throw Error(o->tools_file + ": " + e.what());
      } catch (const std::exception& e) {
        throw Error(o->tools_file + ": " + e.what());
      }
    }
    json messages = json::array();
    if (!o->system.empty()) messages.push_back({{"role", "system"}, {"content", o->system}});
    const json initial = messages;
    std::vector<int32_t> cached;  // tokens whose K/V the session holds
    std::string line;
    while (true) {
      if (tty_in) std::fputs("> ", stderr);
      if (!std::getline(std::cin, line)) break;
      if (line == "/exit" || line == "/quit") break;
      if (line == "/reset") {
        messages = initial;
        s.reset();
        cached.clear();
        continue;
      }
      if (line.empty()) continue;
      messages.push_back({{"role", "user"}, {"content", line}});
      // One reply, then (while the model calls tools) the results typed in and the next reply.
      for (int round = 0;; ++round) {
      const std::string rendered = tmpl->apply(messages, tools, true);
      const std::vector<int32_t> prompt = vocab.encode(rendered, false, true);
      if (int(prompt.size()) >= o->ctx) {
        std::fprintf(stderr, "[the conversation (%zu tokens) no longer fits -c %d: /reset to start over]\n",
                     prompt.size(), o->ctx);
        messages.erase(messages.end() - 1);
        break;
      }
      // Reuse the cached prefix the new prompt shares with what was evaluated.
      size_t keep = 0;
      while (keep < cached.size() && keep < prompt.size() && cached[keep] == prompt[keep]) ++keep;
      keep = std::min(keep, prompt.size() - 1);
      s.rewind(int64_t(keep));
      const std::vector<int32_t> suffix(prompt.begin() + long(keep), prompt.end());

      std::string reasoning, answer;
      bool in_reasoning_shown = false;
      const auto sink = [&](ReasoningSplitter::Part p, std::string_view t) {
        if (p == ReasoningSplitter::Reasoning) {
          reasoning.append(t);
          if (o->hide_reasoning) return;
          if (!in_reasoning_shown && tty_out) print(kDim);
          in_reasoning_shown = true;
          print(t);
          return;
        }
        if (in_reasoning_shown) {
          print(tty_out ? std::string(kReset) + "\n\n" : std::string("\n\n"));
          in_reasoning_shown = false;
        }
        answer.append(t);
        print(t);
      };
      ReasoningSplitter splitter(ends_with_tag(rendered, "<think>"));  // not after tool results (R1)
      GenerateParams gp = o->gen;
      gp.n_predict = o->n_predict;
      if (call_grammar && round == 0) {
        gp.constraint.grammar = call_grammar;
        gp.constraint.in_reasoning = ends_with_tag(rendered, "<think>");
        gp.constraint.reasoning_budget = o->reasoning_budget;
      }
      const GenerateResult r =
          generate_with_draft(s, vocab, suffix, gp, o->draft, [&](const std::string& t) { splitter.feed(t, sink); });
      splitter.finish(sink);
      if (in_reasoning_shown && tty_out) print(kReset);
      print("\n");
      if (r.stop_reason == "context") std::fprintf(stderr, "[context full: /reset to start over]\n");
      cached = prompt;
      cached.insert(cached.end(), r.tokens.begin(), r.tokens.end());
      cached.resize(size_t(s.pos()));
      ParsedToolCalls calls;
      if (!tools.is_null()) calls = parse_tool_calls(format, answer, uint64_t(messages.size()) * 131 + uint64_t(round));
      json reply = {{"role", "assistant"}, {"content", calls.calls.empty() ? json(answer) : json(nullptr)}};
      if (!calls.calls.empty() && !calls.content.empty()) reply["content"] = calls.content;
      if (!reasoning.empty()) reply["reasoning_content"] = reasoning;
      for (const ToolCall& t : calls.calls) {
        reply["tool_calls"].push_back(
            {{"id", t.id}, {"type", "function"}, {"function", {{"name", t.name}, {"arguments", t.arguments}}}});
      }
      messages.push_back(std::move(reply));
      if (calls.calls.empty()) break;
      // The calls, and a result for each from the person at the keyboard.
      bool ended = false;
      for (const ToolCall& t : calls.calls) {
        std::fprintf(stderr, "[tool call %s: %s(%s)]\n", t.id.c_str(), t.name.c_str(), t.arguments.c_str());
        if (tty_in) std::fprintf(stderr, "result of %s> ", t.name.c_str());
        std::string result;
        if (!std::getline(std::cin, result)) {
          ended = true;
          break;
        }
        messages.push_back({{"role", "tool"}, {"tool_call_id", t.id}, {"content", result}});
      }
      if (ended) return;
      }
    }
  });
}

}  // namespace dawn
