// Constrained generation over the schema suite (tests/data/schemas): random-weight models of
// each architecture, greedy and at temperature 1, with max_tokens short enough to cut most
// answers; every output is checked by an independent validator (python3-jsonschema, through
// tests/schema/validate_outputs.py), so the grammar, the mask and the closing in time are all
// held to the schema by something that is not dawn.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/generate.h"
#include "engine/session.h"
#include "models/model.h"
#include "models/synth.h"
#include "text/gbnf.h"
#include "text/grammar_matcher.h"
#include "text/json_schema_grammar.h"
#include "text/vocab.h"

namespace dawn {
namespace {

namespace fs = std::filesystem;

struct Tiny {
  std::unique_ptr<Model> model;
  std::unique_ptr<Vocab> vocab;
};

TEST(SchemaGeneration, EveryOutputValidatesWithJsonschema) {
  const fs::path dir = fs::temp_directory_path() / ("dawn-schemagen-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::vector<std::pair<std::string, nlohmann::ordered_json>> schemas;
  for (const auto& e : fs::directory_iterator(std::string(DAWN_TEST_DATA) + "/schemas")) {
    std::ifstream in(e.path());
    schemas.push_back({e.path().stem().string(), nlohmann::ordered_json::parse(in)["schema"]});
  }
  std::sort(schemas.begin(), schemas.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  ASSERT_GE(schemas.size(), 40u);
  const fs::path out_path = dir / "outputs.jsonl";
  std::ofstream out(out_path);
  int n = 0;
  for (const char* preset : {"tiny-llama3", "tiny-qwen2", "tiny-qwen3", "tiny-deepseek-v3"}) {
    SynthConfig c;
    c.seed = 3;
    ASSERT_TRUE(synth_preset(preset, &c));
    const std::string path = (dir / (std::string(preset) + ".gguf")).string();
    synth_model(c, path);
    Tiny t{load_model(path), nullptr};
    t.vocab = std::make_unique<Vocab>(*t.model->file);
    const std::vector<int32_t> prompt = t.vocab->encode("Answer in JSON:", true);
    for (size_t k = 0; k < schemas.size(); ++k) {
      const auto& [name, schema] = schemas[k];
      const Grammar g = parse_gbnf(json_schema_to_gbnf(schema));
      auto compiled = std::make_shared<CompiledGrammar>(g, t.vocab->token_trie(), t.vocab->eog_ids());
      // Short enough to cut most answers (closing in time must finish them), never below the
      // shortest answer (one byte per token at worst) plus a little.
      const int64_t shortest = GrammarMatcher(compiled).distance();
      for (float temp : {0.0f, 1.0f}) {
        GenerateParams p;
        p.n_predict = int(std::max<int64_t>(48 + int64_t(k % 3) * 24, shortest + 8));
        p.sampling.temp = temp, p.sampling.top_k = 0, p.sampling.top_p = 1.0f, p.sampling.min_p = 0.0f;
        p.sampling.seed = 100 + k;
        p.constraint.grammar = compiled;
        std::string text;
        Session s(*t.model, 256, 1);  // one thread: ctest runs tests side by side
        generate(s, *t.vocab, prompt, p, [&](const std::string& piece) { text += piece; });
        nlohmann::ordered_json line = {{"name", std::string(preset) + "/" + name + (temp > 0 ? "/t1" : "/t0")},
                                       {"schema", schema},
                                       {"output", text}};
        out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        ++n;
      }
    }
  }
  out.close();
  const std::string cmd = "python3 " + std::string(DAWN_TEST_DATA) + "/../schema/validate_outputs.py " +
                          out_path.string() + " > " + (dir / "report.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream report(dir / "report.txt");
  const std::string text((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find(std::to_string(n) + "/" + std::to_string(n) + " outputs valid"), std::string::npos) << text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dawn
