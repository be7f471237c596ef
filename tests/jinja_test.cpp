// The chat-template engine against Jinja2's own output (tests/data/jinja-cases.json,
// written by tools/make_jinja_cases.py with Jinja2 configured as transformers does).
#include "text/jinja.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "text/chat.h"
#include "util/error.h"

namespace dawn {
namespace {

using json = nlohmann::ordered_json;

json load_cases() {
  std::ifstream in(std::string(DAWN_TEST_DATA) + "/jinja-cases.json");
  return json::parse(in);
}

TEST(Jinja, MatchesJinja2OnEveryCase) {
  const json cases = load_cases();
  ASSERT_GE(cases.size(), 40u);
  for (const json& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const std::string src = c["template"];
    if (c.contains("error")) {
      // With the same message: Jinja2's "TypeError: msg" ends as dawn's "chat template: line N: msg".
      const std::string want = c["error"], msg = want.substr(want.find(": ") + 2);
      try {
        jinja::Template(src).render(c["context"]);
        ADD_FAILURE() << "Jinja2 raised " << want;
      } catch (const Error& e) {
        const std::string got = e.what();
        EXPECT_TRUE(got.size() >= msg.size() && got.compare(got.size() - msg.size(), msg.size(), msg) == 0)
            << "Jinja2: " << want << "\ndawn:   " << got;
      }
      continue;
    }
    try {
      EXPECT_EQ(jinja::Template(src).render(c["context"]), c["expected"].get<std::string>());
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST(Jinja, SyntaxErrorsNameTheLine) {
  for (const char* bad :
       {"a\n{% if x %}", "{{ 1 + }}", "{% for %}", "{{ 'open }}", "{% frobnicate %}", "x\n\n{{ ) }}"}) {
    try {
      jinja::Template t(bad);
      t.render(json::object());
      ADD_FAILURE() << "no error for: " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("chat template: line "), std::string::npos) << e.what();
    }
  }
}

TEST(Jinja, RaiseExceptionCarriesTheMessage) {
  try {
    jinja::Template("{{ raise_exception('roles must alternate') }}").render(json::object());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("roles must alternate"), std::string::npos);
  }
}

TEST(Jinja, BuiltinTemplatesRenderTheirFormats) {
  const json msgs = json::parse(R"([{"role":"system","content":"S"},{"role":"user","content":"U"},
    {"role":"assistant","content":"<think>old</think>A"},{"role":"user","content":"V"}])");
  json ctx = {{"messages", msgs}, {"add_generation_prompt", true}, {"bos_token", "<B>"}, {"tools", nullptr}};
  EXPECT_EQ(jinja::Template(builtin_chat_template("deepseek-r1")).render(ctx),
            "<B>S<｜User｜>U<｜Assistant｜>A<｜end▁of▁sentence｜><｜User｜>V<｜Assistant｜><think>\n");
  EXPECT_EQ(jinja::Template(builtin_chat_template("chatml")).render(ctx),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n<think>old</think>A"
            "<|im_end|>\n<|im_start|>user\nV<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(jinja::Template(builtin_chat_template("llama3")).render(ctx),
            "<B><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU"
            "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<think>old</think>A<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nV<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

}  // namespace
}  // namespace dawn

namespace dawn {
namespace {

// Hostile templates: deep nesting, runaway loops and random mutations of real ones end in an
// Error (or render), never a crash or a hang. CI runs this under ASan/UBSan.
TEST(Jinja, HostileTemplatesFailCleanly) {
  const json ctx = json::parse(R"({"messages":[{"role":"user","content":"hi"}],"add_generation_prompt":true})");
  for (const std::string& bad :
       {std::string(100000, '(') + "1", "{{ " + std::string(5000, '[') + " }}", std::string(3000, '-') + "1",
        "{{ " + std::string(2000, 'n') + " }}", std::string("{% if 1 %}") + std::string(0, ' ')}) {
    EXPECT_THROW(jinja::Template("{{ " + bad + " }}").render(ctx), Error);
  }
  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += "{% if true %}";
  EXPECT_THROW(jinja::Template(nested).render(ctx), Error);
  EXPECT_THROW(
      jinja::Template("{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}").render(ctx),
      Error);
  EXPECT_THROW(jinja::Template("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}").render(ctx),
               Error);  // runaway recursion
  EXPECT_THROW(jinja::Template("{% macro m(n) %}{{ m(n) ~ m(n) }}{% endmacro %}{{ m(1) }}").render(ctx), Error);
  EXPECT_THROW(jinja::Template("{% macro m(a %}{% endmacro %}"), Error);
  EXPECT_THROW(jinja::Template("{% macro m() %}x"), Error);
  EXPECT_THROW(jinja::Template("{{ 'x' * 300000000 }}").render(ctx), Error);
  EXPECT_THROW(jinja::Template("{% for i in range(300) %}{{ 'x' * 1000000 }}{% endfor %}").render(ctx), Error);
}

TEST(Jinja, FuzzedTemplatesNeverCrash) {
  std::vector<std::string> seeds = {builtin_chat_template("deepseek-r1"), builtin_chat_template("chatml"),
                                    builtin_chat_template("llama3")};
  for (const json& c : load_cases()) seeds.push_back(c["template"].get<std::string>());
  const json ctx = json::parse(
      R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"},{"role":"assistant","content":"<think>r</think>a","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"t"}],"add_generation_prompt":true,"bos_token":"<s>","tools":[{"type":"function"}]})");
  std::mt19937 rng(1234);
  const std::string alphabet = "{}%#-+()[]'\"|.,:~=!<> \n\tabcdefgifnotrue0123456789";
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string src = seeds[rng() % seeds.size()];
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits && !src.empty(); ++e) {
      const size_t at = rng() % src.size();
      switch (rng() % 3) {
        case 0: src.erase(at, 1 + rng() % 3); break;
        case 1: src.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: src.insert(at, src.substr(rng() % src.size(), rng() % 8)); break;
      }
    }
    try {
      jinja::Template t(src);
      ++parsed;
      t.render(ctx);
    } catch (const Error&) {
      // a clear error is the expected outcome for most mutations
    }
  }
  EXPECT_GT(parsed, 100);  // the mutations also reach the renderer
}

}  // namespace
}  // namespace dawn
