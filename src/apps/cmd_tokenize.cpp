#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/commands.h"
#include "apps/jsonl.h"
#include "text/vocab.h"
#include "util/error.h"
#include "util/file.h"

namespace dawn {

namespace {

using nlohmann::json;

// Invalid UTF-8 (a token may end mid-character) is written as U+FFFD, as Hugging Face decodes it.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::vector<int32_t> parse_ids(const std::string& s, const Vocab& v) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      ids.push_back(std::stoi(item));
    } catch (const std::exception&) {
      throw Error("--tokens: '" + item + "' is not a token id");
    }
    if (ids.back() < 0 || ids.back() >= v.size()) throw Error("--tokens: id " + item + " is outside the vocabulary");
  }
  return ids;
}

}  // namespace

void add_tokenize_commands(CLI::App& app) {
  struct Opts {
    std::string model, text, text_file, jsonl, tokens;
    bool json = false, add_special = false, no_special = false, time = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* t = app.add_subcommand("tokenize", "Print the token ids of a text");
  t->add_option("model", o->model, "GGUF model or vocab-only file")->required()->check(CLI::ExistingFile);
  auto* text = t->add_option("--text", o->text, "Text to tokenize");
  auto* file = t->add_option("--text-file", o->text_file, "Read the text from a file")->check(CLI::ExistingFile);
  auto* jsonl = t->add_option("--jsonl", o->jsonl,
                              "Batch mode: read lines {\"id\":..,\"text\":..}, write {\"id\":..,\"ids\":[..]}")
                    ->check(CLI::ExistingFile);
  text->excludes(file)->excludes(jsonl);
  file->excludes(jsonl);
  t->add_flag("--json", o->json, "Print a JSON array of ids");
  t->add_flag("--add-special", o->add_special, "Add BOS/EOS as the model asks");
  t->add_flag("--no-special", o->no_special, "Treat control-token text as plain text");
  t->add_flag("--time", o->time, "Print the tokenization time and MB/s to stderr (the vocabulary load excluded)");
  t->callback([o] {
    auto f = GgufFile::open(o->model);
    Vocab v(*f);
    if (!o->jsonl.empty()) {
      for_each_jsonl<json>(o->jsonl, "text", [&](const json& j, size_t n) {
        const json& text = j.at("text");
        if (!text.is_string()) throw Error(o->jsonl + ":" + std::to_string(n) + ": 'text' is not a string");
        const auto ids = v.encode(text.get<std::string>(), o->add_special, !o->no_special);
        std::printf("%s\n", dump(json{{"id", j.value("id", json())}, {"ids", ids}}).c_str());
      });
      return;
    }
    const std::string s = o->text_file.empty() ? o->text : read_file(o->text_file);
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = v.encode(s, o->add_special, !o->no_special);
    if (o->time) {
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "tokenized %zu bytes into %zu tokens in %.1f ms: %.2f MB/s\n", s.size(), ids.size(),
                   sec * 1e3, double(s.size()) / 1e6 / sec);
    }
    if (o->json) {
      std::printf("%s\n", json(ids).dump().c_str());
      return;
    }
    for (int32_t id : ids) std::printf("%d\t%s\n", id, dump(json(v.piece(id, true))).c_str());
  });

  CLI::App* d = app.add_subcommand("detokenize", "Print the text of token ids");
  d->add_option("model", o->model, "GGUF model or vocab-only file")->required()->check(CLI::ExistingFile);
  auto* tokens = d->add_option("--tokens", o->tokens, "Token ids, comma-separated");
  d->add_option("--jsonl", o->jsonl, "Batch mode: read lines {\"id\":..,\"ids\":[..]}, write {\"id\":..,\"text\":..}")
      ->check(CLI::ExistingFile)
      ->excludes(tokens);
  d->callback([o] {
    auto f = GgufFile::open(o->model);
    Vocab v(*f);
    if (!o->jsonl.empty()) {
      for_each_jsonl<json>(o->jsonl, "ids", [&](const json& j, size_t n) {
        std::vector<int32_t> list;
        for (const json& x : j.at("ids")) {
          if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= v.size())
            throw Error(o->jsonl + ":" + std::to_string(n) + ": " + x.dump() + " is not a token id of this vocabulary");
          list.push_back(x.get<int32_t>());
        }
        std::printf("%s\n", dump(json{{"id", j.value("id", json())}, {"text", v.decode(list, true)}}).c_str());
      });
      return;
    }
    if (o->tokens.empty()) throw Error("detokenize: give --tokens or --jsonl");
    const std::string s = v.decode(parse_ids(o->tokens, v), true);
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
  });
}

}  // namespace dawn
