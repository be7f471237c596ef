#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/jsonl.h"
#include "text/chat.h"
#include "util/error.h"

namespace dawn {

namespace {

using json = nlohmann::ordered_json;

json read_json_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(path + ": " + what + " is not valid JSON (" + e.what() + ")");
  }
}

}  // namespace

CLI::Validator chat_template_path() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.rfind("builtin:", 0) == 0) return "";
        return CLI::ExistingFile(s);
      },
      "FILE|builtin:NAME");
}

void add_template_command(CLI::App& app) {
  struct Opts {
    std::string model, messages, tools, jsonl, chat_template, kwargs;
    bool gen = false, print = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* c = app.add_subcommand("template", "Render a conversation with the model's chat template");
  c->add_option("model", o->model, "GGUF model or vocab-only file")->required()->check(CLI::ExistingFile);
  auto* msgs = c->add_option("--messages", o->messages, "JSON file holding an OpenAI-style messages array")
                   ->check(CLI::ExistingFile);
  c->add_option("--tools", o->tools, "JSON file holding an array of tool (function) definitions")
      ->check(CLI::ExistingFile);
  c->add_flag("--add-generation-prompt", o->gen, "End with the prompt that starts the assistant's reply");
  c->add_option("--jsonl", o->jsonl,
                "Batch mode: lines {\"id\",\"messages\",\"tools\"?,\"add_generation_prompt\"?,\"kwargs\"?} -> "
                "{\"id\",\"text\"} or {\"id\",\"error\"}")
      ->check(CLI::ExistingFile)
      ->excludes(msgs);
  c->add_option(
       "--chat-template", o->chat_template,
       "Use this Jinja template file instead of the model's (builtin:deepseek-r1|chatml|llama3 for a built-in one)")
      ->check(chat_template_path());
  c->add_flag("--print-template", o->print, "Print the template's Jinja source (and nothing else)");
  c->add_option("--kwargs", o->kwargs, "Extra template variables as a JSON object, e.g. '{\"enable_thinking\":false}'");
  c->callback([o] {
    auto f = GgufFile::open(o->model);
    Vocab v(*f);
    const auto tmpl = load_chat_template(*f, v, o->chat_template);
    const ChatTemplate& t = *tmpl;
    if (o->print) {
      std::fwrite(t.source().data(), 1, t.source().size(), stdout);
      return;
    }
    json extra = json::object();
    if (!o->kwargs.empty()) {
      try {
        extra = json::parse(o->kwargs);
      } catch (const json::exception&) {
        throw Error("--kwargs: not valid JSON: " + o->kwargs);
      }
      if (!extra.is_object()) throw Error("--kwargs: must be a JSON object");
    }
    if (!o->jsonl.empty()) {
      for_each_jsonl<json>(o->jsonl, "messages", [&](const json& j, size_t) {
        json out = {{"id", j.value("id", json())}};
        json kw = extra;
        if (j.contains("kwargs") && j["kwargs"].is_object())
          for (const auto& [k, x] : j["kwargs"].items()) kw[k] = x;
        try {
          out["text"] = t.apply(j["messages"], j.value("tools", json()), j.value("add_generation_prompt", false), kw);
        } catch (const Error& e) {
          out["error"] = e.what();
        }
        std::printf("%s\n", out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
      });
      return;
    }
    if (o->messages.empty()) throw Error("template: give --messages FILE, --jsonl FILE or --print-template");
    const json messages = read_json_file(o->messages, "--messages");
    const json tools = o->tools.empty() ? json() : read_json_file(o->tools, "--tools");
    const std::string s = t.apply(messages, tools, o->gen, extra);
    std::fwrite(s.data(), 1, s.size(), stdout);
  });
}

}  // namespace dawn
