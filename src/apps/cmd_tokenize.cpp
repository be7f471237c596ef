#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/commands.h"
#include "text/vocab.h"
#include "util/error.h"

namespace dawn {

void add_tokenize_commands(CLI::App& app) {
  struct Opts {
    std::string model, text, text_file, tokens;
    bool json = false, add_special = false, no_special = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* t = app.add_subcommand("tokenize", "Print the token ids of a text");
  t->add_option("model", o->model, "GGUF model or vocab-only file")->required()->check(CLI::ExistingFile);
  auto* text = t->add_option("--text", o->text, "Text to tokenize");
  t->add_option("--text-file", o->text_file, "Read the text from a file")->excludes(text)->check(CLI::ExistingFile);
  t->add_flag("--json", o->json, "Print a JSON array of ids");
  t->add_flag("--add-special", o->add_special, "Add BOS as the model asks");
  t->add_flag("--no-special", o->no_special, "Treat special-token text as plain text");
  t->callback([o] {
    auto f = GgufFile::open(o->model);
    Vocab v(*f);
    std::string s = o->text;
    if (!o->text_file.empty()) {
      std::ifstream in(o->text_file, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      s = ss.str();
    }
    const auto ids = v.encode(s, o->add_special, !o->no_special);
    if (o->json) {
      std::printf("%s\n", nlohmann::json(ids).dump().c_str());
      return;
    }
    for (int32_t id : ids) std::printf("%d\t%s\n", id, nlohmann::json(v.piece(id, true)).dump().c_str());
  });

  CLI::App* d = app.add_subcommand("detokenize", "Print the text of token ids");
  d->add_option("model", o->model, "GGUF model or vocab-only file")->required()->check(CLI::ExistingFile);
  d->add_option("--tokens", o->tokens, "Token ids, comma-separated")->required();
  d->callback([o] {
    auto f = GgufFile::open(o->model);
    Vocab v(*f);
    std::vector<int32_t> ids;
    std::stringstream ss(o->tokens);
    std::string item;
    while (std::getline(ss, item, ',')) {
      try {
        ids.push_back(std::stoi(item));
      } catch (const std::exception&) {
        throw Error("--tokens: '" + item + "' is not a token id");
      }
      if (ids.back() < 0 || ids.back() >= v.size()) throw Error("--tokens: id " + item + " is outside the vocabulary");
    }
    const std::string s = v.decode(ids, true);
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::fputc('\n', stdout);
  });
}

}  // namespace dawn
