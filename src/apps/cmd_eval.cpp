// `dawn eval`: runs held-out chat tasks through the model's chat template, greedy, and scores the
// replies per task family (exact answers, tool calls, JSON validity); --require makes it a test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "apps/commands.h"
#include "dist/dist.h"
#include "apps/jsonl.h"
#include "engine/generate.h"
#include "engine/session.h"
#include "engine/speculative.h"
#include "text/chat.h"
#include "text/eval_tasks.h"
#include "text/reasoning.h"
#include "text/tool_calls.h"
#include "util/error.h"

namespace dawn {

namespace {

using json = nlohmann::ordered_json;

struct Task {
  std::string family;
  json messages, tools, expect;
  size_t line = 0;
};

// "arith=0.9,tool=0.95" -> {arith: 0.9, tool: 0.95}
std::vector<std::pair<std::string, double>> parse_require(const std::string& spec) {
  std::vector<std::pair<std::string, double>> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw Error("--require: expected FAMILY=MIN, got '" + item + "'");
    double v = 0;
    try {
      size_t used = 0;
      v = std::stod(item.substr(eq + 1), &used);
      if (used != item.size() - eq - 1) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error("--require: '" + item.substr(eq + 1) + "' is not a number (in '" + item + "')");
    }
    if (v < 0 || v > 1) throw Error("--require: " + item + ": the bound is a fraction in [0, 1]");
    out.emplace_back(item.substr(0, eq), v);
  }
  return out;
}

}  // namespace

void add_eval_command(CLI::App& app) {
  struct Opts {
    LoadOptions load;
    std::string model, tasks, chat_template, results, completions, require, kv = "f16";
    int threads = 0, ctx = 1024, n_predict = 384, per_family = 0;
    bool json_out = false;
    DraftParams draft;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand(
      "eval", "Score held-out chat tasks (JSON lines: family, messages, expect), greedy, per task family");
  c->add_option("model", o->model, "GGUF model file")->required()->check(CLI::ExistingFile);
  c->add_option("tasks", o->tasks, "Tasks, one JSON object per line: {\"family\", \"messages\", \"expect\", \"tools\"?}")
      ->required()
      ->check(CLI::ExistingFile);
  add_load_options(c, o->load);
  c->add_option("--chat-template", o->chat_template,
                "Use this Jinja template file instead of the model's (builtin:NAME for a built-in one)")
      ->check(chat_template_path());
  c->add_option("--per-family", o->per_family, "Only the first N tasks of each family (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c->add_option("--results", o->results, "Write each task's reply and verdict here (JSON lines)");
  c->add_option("--completions", o->completions,
                "Score these replies instead of generating: JSON lines {\"text\"}, one per task in order "
                "(another engine's greedy output, e.g. llama.cpp's)")
      ->check(CLI::ExistingFile);
  c->add_option("--require", o->require,
                "Fail (exit 1) when a family scores below its bound: FAMILY=MIN[,FAMILY=MIN...], MIN in [0, 1]");
  c->add_flag("--json", o->json_out, "Print the table as one JSON object");
  c->add_option("-n,--n-predict", o->n_predict, "Most tokens per reply")->capture_default_str();
  c->add_option("-t,--threads", o->threads, "Threads (0: all cores)")->capture_default_str();
  c->add_option("-c,--ctx-size", o->ctx, "Context size in tokens (prompt and reply)")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 24));
  c->add_option("--kv-type", o->kv, "KV cache type: f32, f16 or q8_0")->capture_default_str();
  add_draft_options(c, o->draft);
  c->callback([o] {
    draft_count(o->draft, "--draft-n");
    const auto require = parse_require(o->require);
    std::vector<Task> tasks;
    std::map<std::string, int> seen;
    for_each_jsonl<json>(o->tasks, "messages", [&](const json& j, size_t line) {
      const std::string where = o->tasks + ":" + std::to_string(line);
      if (!j.contains("family") || !j["family"].is_string()) throw Error(where + ": 'family' must be a string");
      if (!j["messages"].is_array()) throw Error(where + ": 'messages' must be an array");
      if (!j.contains("expect")) throw Error(where + ": no 'expect'");
      Task t{j["family"].get<std::string>(), j["messages"], j.value("tools", json(nullptr)), j["expect"], line};
      if (o->per_family > 0 && ++seen[t.family] > o->per_family) return;
      tasks.push_back(std::move(t));
    });
    if (tasks.empty()) throw Error(o->tasks + ": no tasks");
    std::vector<std::string> given;
    if (!o->completions.empty()) {
      for_each_jsonl<json>(o->completions, "text", [&](const json& j, size_t line) {
        if (!j["text"].is_string()) throw Error(o->completions + ":" + std::to_string(line) + ": 'text' must be a string");
        given.push_back(j["text"].get<std::string>());
      });
      if (given.size() != tasks.size())
        throw Error(o->completions + ": " + std::to_string(given.size()) + " replies for " +
                    std::to_string(tasks.size()) + " tasks");
    }

    // Scoring given replies needs the vocabulary and template only, not the weights.
    std::unique_ptr<Model> m;
    std::unique_ptr<Session> s;
    std::unique_ptr<DraftModel> draft_model;
    auto file = GgufFile::open(o->model);
    Vocab vocab(*file);
    if (given.empty()) {
      m = dist::open_model(o->model, o->load, o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency())));
      const int threads = o->threads > 0 ? o->threads : int(std::max(1u, std::thread::hardware_concurrency()));
      s = std::make_unique<Session>(*m, o->ctx, threads, parse_kv_type(o->kv, "--kv-type"),
                                    o->draft.kind == DraftKind::Mtp);
      if (o->draft.kind == DraftKind::Model)
        draft_model = open_draft_model(o->draft, *s, vocab, parse_kv_type(o->kv, "--kv-type"));
    }
    const auto tmpl = load_chat_template(*file, vocab, o->chat_template);
    const ToolCallFormat format = tmpl->tool_call_format();
    GenerateParams gp;
    gp.n_predict = o->n_predict;
    gp.sampling.temp = 0.0f;  // greedy: the scores are the model's, not the sampler's

    std::ofstream results;
    if (!o->results.empty()) {
      results.open(o->results, std::ios::binary);
      if (!results) throw Error(o->results + ": cannot write");
    }
    EvalTally tally;
    // Per family: generated tokens and the seconds the replies took (prompts included), and what
    // the drafts did.
    struct Speed {
      int64_t tokens = 0;
      double seconds = 0;
      DraftStats draft;
    };
    std::map<std::string, Speed> speed;
    for (size_t i = 0; i < tasks.size(); ++i) {
      const Task& t = tasks[i];
      const std::string where = o->tasks + ":" + std::to_string(t.line);
      std::string rendered;
      try {
        rendered = tmpl->apply(t.messages, t.tools, true);
      } catch (const std::exception& e) {
        throw Error(where + ": the chat template failed: " + e.what());
      }
      std::string text;
      std::vector<int32_t> generated;
      if (!given.empty()) {
        text = given[i];
      } else {
        const std::vector<int32_t> prompt = vocab.encode(rendered, false, true);
        if (int(prompt.size()) >= o->ctx)
          throw Error(where + ": the prompt has " + std::to_string(prompt.size()) + " tokens, -c is " +
                      std::to_string(o->ctx));
        s->reset();
        Speed& sp = speed[t.family];
        const auto t0 = std::chrono::steady_clock::now();
        generated = generate_with_draft(*s, vocab, prompt, gp, o->draft,
                                        [&](const std::string& piece) { text += piece; }, &sp.draft)
                        .tokens;
        sp.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        sp.tokens += int64_t(generated.size());
      }
      const ReasoningSplit split = split_reasoning(text, ends_with_tag(rendered, "<think>"));
      const ParsedToolCalls calls = parse_tool_calls(format, split.answer, i);
      TaskScore score;
      try {
        score = score_task(t.expect, calls.calls.empty() ? split.answer : calls.content, calls);
      } catch (const Error& e) {
        throw Error(where + ": " + e.what());
      }
      tally.add(t.family, score, !split.reasoning.empty());
      if (results) {
        json r = {{"line", t.line}, {"family", t.family}, {"pass", score.pass}, {"exact", score.exact},
                  {"text", text}};
        if (!score.why.empty()) r["why"] = score.why;
        if (given.empty()) r["tokens"] = generated;
        results << r.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
      }
      if ((i + 1) % 25 == 0 || i + 1 == tasks.size())
        std::fprintf(stderr, "[%zu/%zu tasks]\n", i + 1, tasks.size());
    }

    json table = json::object();
    const bool timed = given.empty(), drafted = timed && o->draft.kind != DraftKind::None;
    if (!o->json_out) {
      std::printf("%-14s %5s %7s %7s %7s", "family", "n", "score", "exact", "think");
      if (timed) std::printf(" %7s", "tok/s");
      if (drafted) std::printf(" %7s %7s", "accept", "acc/stp");
      std::printf("\n");
    }
    for (const std::string& f : tally.order) {
      const FamilyTally& ft = tally.by_family[f];
      const double n = ft.n;
      table[f] = {{"n", ft.n}, {"score", ft.pass / n}, {"exact", ft.exact / n}, {"think", ft.thought / n}};
      const Speed& sp = speed[f];
      const double tps = sp.seconds > 0 ? double(sp.tokens) / sp.seconds : 0.0;
      if (timed) table[f]["tokens_per_second"] = tps;
      if (drafted) {
        table[f]["acceptance_rate"] = sp.draft.acceptance_rate();
        table[f]["accepted_per_step"] = sp.draft.accepted_per_step();
      }
      if (o->json_out) continue;
      std::printf("%-14s %5d %7.3f %7.3f %7.3f", f.c_str(), ft.n, ft.pass / n, ft.exact / n, ft.thought / n);
      if (timed) std::printf(" %7.1f", tps);
      if (drafted) std::printf(" %7.3f %7.3f", sp.draft.acceptance_rate(), sp.draft.accepted_per_step());
      std::printf("\n");
    }
    if (o->json_out) std::printf("%s\n", table.dump().c_str());
    std::fflush(stdout);
    bool ok = true;
    for (const auto& [f, min] : require) {
      if (!tally.by_family.count(f)) throw Error("--require: no task of family '" + f + "' in " + o->tasks);
      const FamilyTally& ft = tally.by_family[f];
      const double got = double(ft.pass) / ft.n;
      if (got < min) {
        std::fprintf(stderr, "dawn eval: %s scored %.3f, below the required %.3f\n", f.c_str(), got, min);
        ok = false;
      }
    }
    if (!ok) throw Error("scores below --require");
  });
}

}  // namespace dawn
