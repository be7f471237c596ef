// The chat-template engine against Jinja2's own output (tests/data/jinja-cases.json,
// written by tools/make_jinja_cases.py with Jinja2 configured as transformers does).
#include "text/jinja.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

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
      EXPECT_THROW(jinja::Template(src).render(c["context"]), Error) << "Jinja2 raised " << c["error"];
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
