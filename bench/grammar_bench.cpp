// Grammar engine timings (not a test): mask time per token along real tokenizations of strings
// of a grammar, median and p99, the first pass over a fresh grammar (its per-frame cache
// filling) apart from later ones, and the compile time.
// Usage: dawn_grammar_bench TOKENIZER_JSON GRAMMAR.gbnf|SCHEMA.json [TEXTS_FILE (one string per line)] [REPEATS]
// A .json file is a JSON Schema: its conversion to GBNF counts in the compile time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "formats/gguf.h"
#include "text/gbnf.h"
#include "text/grammar_matcher.h"
#include "text/hf_tokenizer.h"
#include "text/json_schema_grammar.h"
#include "text/vocab.h"

using namespace dawn;
using Clock = std::chrono::steady_clock;

namespace {

double us(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::micro>(b - a).count(); }

std::string quantiles(std::vector<double> v) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  char buf[128];
  std::snprintf(buf, sizeof buf, "median %.1f us, p99 %.1f us, max %.1f us (%zu tokens)", v[v.size() / 2],
                v[std::min(v.size() - 1, v.size() * 99 / 100)], v.back(), v.size());
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER_JSON GRAMMAR.gbnf [TEXTS_FILE] [REPEATS]\n", argv[0]);
    return 2;
  }
  GgufWriter w;
  write_vocab_metadata(load_hf_tokenizer(argv[1]), w);
  const std::string path = std::filesystem::temp_directory_path() / ("dawn-grammar-bench-" + std::to_string(getpid()));
  w.write(path);
  auto f = GgufFile::open(path);
  Vocab vocab(*f);
  std::filesystem::remove(path);
  auto t0 = Clock::now();
  auto trie = make_token_trie(vocab);
  auto t1 = Clock::now();
  std::printf("vocabulary: %d tokens, trie %zu nodes, built in %.1f ms\n", vocab.size(), trie->nodes().size(),
              us(t0, t1) / 1000);
  std::ifstream gf(argv[2]);
  std::stringstream gs;
  gs << gf.rdbuf();
  const std::string gbnf = gs.str();
  const std::string name = argv[2];
  const bool schema = name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0;
  t0 = Clock::now();
  const Grammar g = parse_gbnf(schema ? json_schema_to_gbnf(nlohmann::ordered_json::parse(gbnf)) : gbnf);
  auto compiled = std::make_shared<CompiledGrammar>(g, trie, eog_tokens(vocab));
  t1 = Clock::now();
  std::printf("grammar: %zu rules, %zu positions, %s in %.2f ms\n", compiled->bytes().alts.size(),
              compiled->bytes().elems.size(), schema ? "schema converted, parsed and compiled" : "parsed and compiled",
              us(t0, t1) / 1000);
  std::vector<std::string> texts;
  if (argc > 3) {
    std::ifstream tf(argv[3]);
    for (std::string line; std::getline(tf, line);)
      if (!line.empty()) texts.push_back(line);
  }
  if (texts.empty()) texts.push_back(R"({"name": "Ada Lovelace", "age": 36, "tags": ["math", "engines"], "ok": true})");
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 5;
  std::vector<double> cold, warm, first;  // first: the first string alone (one request, fresh grammar)
  TokenMask mask;
  for (int rep = 0; rep < repeats; ++rep) {
    for (const std::string& text : texts) {
      GrammarMatcher m(compiled);
      for (int32_t id : vocab.encode(text, false, false)) {
        const auto a = Clock::now();
        m.fill_mask(mask);
        const auto b = Clock::now();
        (rep == 0 ? cold : warm).push_back(us(a, b));
        if (rep == 0 && &text == &texts[0]) first.push_back(us(a, b));
        if (!mask.allowed(id) || !m.accept(id)) {
          std::fprintf(stderr, "text is not in the grammar at token %d: %s\n", id, text.c_str());
          return 1;
        }
      }
    }
  }
  std::printf("mask, first string alone:        %s\n", quantiles(first).c_str());
  std::printf("mask, first pass (cache filling): %s\n", quantiles(cold).c_str());
  std::printf("mask, later passes:               %s\n", quantiles(warm).c_str());
  return 0;
}
