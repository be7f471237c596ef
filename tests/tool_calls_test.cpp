// Tool-call parsing: hand-written outputs of each model family, parsed whole and streamed in
// pieces split at every byte (and at random), malformed calls, the JSON scanner against
// nlohmann::json, and format detection from chat templates.
#include "text/tool_calls.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "formats/gguf.h"
#include "text/chat.h"
#include "text/json_scan.h"
#include "text/unicode.h"
#include "text/vocab.h"

namespace dawn {
namespace {

using F = ToolCallFormat;
constexpr uint64_t kSeed = 42;

// Calls named and argued as given, with the ids the parser gives them under kSeed.
std::vector<ToolCall> calls(std::initializer_list<std::pair<const char*, const char*>> list) {
  std::vector<ToolCall> out;
  for (const auto& [name, args] : list) out.push_back({tool_call_id(kSeed, out.size()), name, args});
  return out;
}

struct Case {
  const char* name;
  F format;
  std::string text;
  std::string content;
  std::vector<ToolCall> calls;
};

const std::string kGetWeather =
    "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>";

std::vector<Case> cases() {
  std::vector<Case> v;
  // ---- DeepSeek V3 / R1 / R1 distills
  v.push_back({"ds_single", F::DeepSeek, "<｜tool▁calls▁begin｜>" + kGetWeather + "<｜tool▁calls▁end｜>", "",
               calls({{"get_weather", R"({"city":"Paris"})"}})});
  v.push_back(
      {"ds_content_two_calls", F::DeepSeek,
       "Let me check both.\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n"
       "```json\n{\"city\": \"東京\", \"unit\": \"celsius\"}\n```<｜tool▁call▁end｜>\n"
       "<｜tool▁call▁begin｜>function<｜tool▁sep｜>run_code\n```json\n{\n  \"code\": \"print('}') # ```not a "
       "fence``` {\",\n  \"opts\": {\"deep\": [1, -2.5e3, {\"x\": null}, []], \"flag\": true}\n}\n```"
       "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "Let me check both.",
       calls(
           {{"get_weather", R"({"city":"東京","unit":"celsius"})"},
            {"run_code",
             R"({"code":"print('}') # ```not a fence``` {","opts":{"deep":[1,-2.5e3,{"x":null},[]],"flag":true}})"}})});
  v.push_back(
      {"ds_no_outer_begin_no_end", F::DeepSeek, kGetWeather, "", calls({{"get_weather", R"({"city":"Paris"})"}})});
  v.push_back({"ds_missing_calls_end", F::DeepSeek, "<｜tool▁calls▁begin｜>" + kGetWeather + "\n", "",
               calls({{"get_weather", R"({"city":"Paris"})"}})});
  for (const auto& [tag, sep] : std::vector<std::pair<const char*, std::string>>{
           {"ds_underscores", "_"}, {"ds_spaces", " "}, {"ds_escaped_underscores", "\\_"}}) {
    const auto m = [&](std::string words) {
      for (size_t p; (p = words.find('.')) != std::string::npos;) words.replace(p, 1, sep);
      return "<｜" + words + "｜>";
    };
    v.push_back({tag, F::DeepSeek,
                 "ok " + m("tool.calls.begin") + m("tool.call.begin") + "function" + m("tool.sep") +
                     "search\n```json\n{\"query\": \"llamas\"}\n```" + m("tool.call.end") + m("tool.calls.end"),
                 "ok", calls({{"search", R"({"query":"llamas"})"}})});
  }
  v.push_back(
      {"ds_mixed_spellings", F::DeepSeek,
       "<｜tool_calls_begin｜><｜tool▁call▁begin｜>function<｜tool sep｜>f\n```json\n{}\n```<｜tool\\_call\\_end｜>",
       "", calls({{"f", "{}"}})});
  v.push_back({"ds_unicode_escapes_kept", F::DeepSeek,
               "<｜tool▁call▁begin｜>function<｜tool▁sep｜>echo\n```json\n{\"s\": \"\\u00e9\\ud83d\\ude00 😀 \\\"q\\\" "
               "\\\\\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
               "", calls({{"echo", R"({"s":"\u00e9\ud83d\ude00 😀 \"q\" \\"})"}})});
  v.push_back({"ds_content_after_block", F::DeepSeek,
               "Before. <｜tool▁calls▁begin｜>" + kGetWeather + "<｜tool▁calls▁end｜>\n\nAfter.", "Before.After.",
               calls({{"get_weather", R"({"city":"Paris"})"}})});
  v.push_back({"ds_text_after_call_without_end", F::DeepSeek, kGetWeather + "\nand then text", "and then text",
               calls({{"get_weather", R"({"city":"Paris"})"}})});
  v.push_back({"ds_unfenced_and_tagless_fence", F::DeepSeek,
               "<｜tool▁call▁begin｜>function<｜tool▁sep｜>a\n{\"x\": 1}<｜tool▁call▁end｜>\n"
               "<｜tool▁call▁begin｜>function<｜tool▁sep｜>b\n```\n{\"y\": 2}\n```<｜tool▁call▁end｜>",
               "", calls({{"a", R"({"x":1})"}, {"b", R"({"y":2})"}})});
  v.push_back(
      {"ds_v31_layout", F::DeepSeek,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}<｜tool▁call▁end｜>"
       "<｜tool▁calls▁end｜>",
       "", calls({{"get_weather", R"({"city":"Paris"})"}})});
  v.push_back({"ds_plain_text",
               F::DeepSeek,
               "No tools here: a < b, <｜User｜> and ``` fences.\n",
               "No tools here: a < b, "
               "<｜User｜> and ``` fences.\n",
               {}});
  v.push_back({"ds_empty_block", F::DeepSeek, "Hi <｜tool▁calls▁begin｜><｜tool▁calls▁end｜>", "Hi", {}});
  // ---- DeepSeek V3.1
  v.push_back({"v31_two_calls", F::DeepSeekV31,
               "Checking.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}"
               "<｜tool▁call▁end｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"query\": \"a}b`c\", \"n\": [0, 1e-3]}"
               "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
               "Checking.",
               calls({{"get_weather", R"({"city":"Paris"})"}, {"search", R"({"query":"a}b`c","n":[0,1e-3]})"}})});
  v.push_back(
      {"v31_nested_args", F::DeepSeekV31,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>plan<｜tool▁sep｜>\n{\"steps\": [{\"do\": \"x\", \"then\": {\"do\": "
       "\"y\"}}], \"note\": \"ünï \\n\"}\n<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "", calls({{"plan", R"({"steps":[{"do":"x","then":{"do":"y"}}],"note":"ünï \n"})"}})});
  v.push_back({"v31_v3_layout", F::DeepSeekV31, kGetWeather, "", calls({{"get_weather", R"({"city":"Paris"})"}})});
  // ---- Qwen (Hermes)
  v.push_back({"qwen_single", F::Qwen,
               "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", "",
               calls({{"get_weather", R"({"city":"Paris"})"}})});
  v.push_back({"qwen_content_and_two_calls", F::Qwen,
               "I'll look both up.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"東京\", "
               "\"unit\": \"celsius\"}}\n</tool_call>\n<tool_call>\n{\"arguments\": {\"query\": \"</tool_call> } ``` "
               "{\", \"deep\": {\"a\": [true, false, null]}}, \"name\": \"search\"}\n</tool_call>",
               "I'll look both up.",
               calls({{"get_weather", R"({"city":"東京","unit":"celsius"})"},
                      {"search", R"({"query":"</tool_call> } ``` {","deep":{"a":[true,false,null]}})"}})});
  v.push_back({"qwen_missing_arguments_and_extra_keys", F::Qwen,
               "<tool_call>{\"name\": \"now\", \"id\": 7}</tool_call><tool_call>{\"type\": \"function\", \"name\": "
               "\"get\\u005fweather\", \"arguments\": {}}</tool_call>",
               "", calls({{"now", "{}"}, {"get_weather", "{}"}})});
  v.push_back({"qwen_content_between_and_after", F::Qwen,
               "A <tool_call>{\"name\": \"f\", \"arguments\": {\"x\": 1}}</tool_call> B\n<tool_call>{\"name\": \"g\", "
               "\"arguments\": {}}</tool_call>\n C",
               "ABC", calls({{"f", R"({"x":1})"}, {"g", "{}"}})});
  v.push_back({"qwen_plain_text",
               F::Qwen,
               "Use <tool_calls> or <tool> tags, 1 < 2.",
               "Use <tool_calls> or <tool> tags, 1 < 2.",
               {}});
  // ---- Llama 3.1
  v.push_back({"llama_bare", F::Llama3, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "",
               calls({{"get_weather", R"({"city":"Paris"})"}})});
  v.push_back({"llama_python_tag_and_content", F::Llama3,
               "Let me check.<|python_tag|>{\"name\": \"search\", \"parameters\": {\"query\": \"}{\\\"\", \"k\": 3}}",
               "Let me check.", calls({{"search", R"({"query":"}{\"","k":3})"}})});
  v.push_back(
      {"llama_semicolons_newlines", F::Llama3,
       "\n{\"name\": \"a\", \"parameters\": {\"v\": 1.5}}; {\"type\": \"function\", \"name\": \"b\", \"arguments\": "
       "{\"w\": [\"😀\"]}}\n{\"parameters\": {}, \"name\": \"c\"}",
       "", calls({{"a", R"({"v":1.5})"}, {"b", R"({"w":["😀"]})"}, {"c", "{}"}})});
  v.push_back({"llama_call_then_text", F::Llama3, "{\"name\": \"a\", \"parameters\": {}}\nThat was a call.",
               "That was a call.", calls({{"a", "{}"}})});
  v.push_back({"llama_json_answer_is_content",
               F::Llama3,
               "  {\"answer\": 42, \"name\": \"x\"}",
               "  {\"answer\": 42, \"name\": \"x\"}",
               {}});
  v.push_back({"llama_object_mid_text_is_content",
               F::Llama3,
               "Here: {\"name\": \"f\", \"parameters\": {}}",
               "Here: {\"name\": \"f\", \"parameters\": {}}",
               {}});
  v.push_back({"llama_no_parameters_is_content", F::Llama3, "{\"name\": \"Bob\"}", "{\"name\": \"Bob\"}", {}});
  // ---- no format
  v.push_back({"none_keeps_everything",
               F::None,
               "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>",
               "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>",
               {}});
  return v;
}

// Texts that hold no (complete, valid) call: all of it is content.
std::vector<std::pair<F, std::string>> malformed() {
  const std::string ds = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n";
  return {
      {F::DeepSeek, ds + "{\"a\": 1"},                                                // truncated
      {F::DeepSeek, ds + "{\"a\": 1}\n```"},                                          // truncated before call end
      {F::DeepSeek, ds + "{\"a\": 1,}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"},  // bad JSON
      {F::DeepSeek, ds + "[1, 2]\n```<｜tool▁call▁end｜>"},                           // not an object
      {F::DeepSeek, ds + "{\"a\": 1}<｜tool▁call▁end｜>"},                            // unclosed fence
      {F::DeepSeek, ds + "{\"a\": \"\\ud800\"}\n```<｜tool▁call▁end｜>"},             // lone surrogate
      {F::DeepSeek, "<|tool▁calls▁begin|><|tool▁call▁begin|>function<|tool▁sep|>f\n```json\n{}\n```<|tool▁call▁end|>"},
      {F::DeepSeek, "<｜tool-calls-begin｜><｜tool-call-begin｜>function<｜tool-sep｜>f\n```json\n{}\n```"},
      {F::DeepSeek, "<｜tool▁call▁begin｜>function<｜tool▁sep｜>\n```json\n{}\n```<｜tool▁call▁end｜>"},  // no name
      {F::DeepSeek, "<｜tool▁call▁begin｜>func\ntion<｜tool▁sep｜>f\n```json\n{}\n```<｜tool▁call▁end｜>"},
      {F::DeepSeek, "<｜tool▁calls▁begin｜>text<｜tool▁call▁begin｜>"},
      {F::DeepSeek, "<｜tool▁call▁begin｜>function<｜tool▁call▁end｜>"},
      {F::DeepSeekV31, "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{\"a\": tru}<｜tool▁call▁end｜>"},
      {F::DeepSeekV31, "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{\"a\": 1}"},
      {F::Qwen, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": }}\n</tool_call>"},
      {F::Qwen, "<tool_call>{\"arguments\": {}}</tool_call>"},
      {F::Qwen, "<tool_call>{\"name\": 5, \"arguments\": {}}</tool_call>"},
      {F::Qwen, "<tool_call>{\"name\": \"\", \"arguments\": {}}</tool_call>"},
      {F::Qwen, "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}}"},  // no closing tag
      {F::Qwen, "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}</tool_call>"},
      {F::Qwen, "<tool_call>{\"name\": \"f\", \"name\": \"g\", \"arguments\": {}}</tool_call>"},
      {F::Qwen, "<tool_call>not json</tool_call>"},
      {F::Qwen, "<tool_call>{\"name\": \"f\", \"arguments\": {}} trailing</tool_call>"},
      {F::Qwen, "<tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"\x01\"}}</tool_call>"},
      {F::Qwen, "<tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"\xC3\x28\"}}</tool_call>"},  // bad UTF-8
      {F::Llama3, "{\"name\": \"f\", \"parameters\": {}, \"extra\": 1}"},
      {F::Llama3, "<|python_tag|>brave_search.call(query=\"x\")"},
      {F::Llama3, "{\"name\": \"f\", \"parameters\": {\"a\":"},
      {F::Llama3, "{\"name\": \"f\", \"parameters\": [1]}"},
      {F::Llama3, "{}"},
  };
}

bool complete_utf8(std::string_view s) {
  return utf8_complete_prefix(s) == s.size() && (s.empty() || (uint8_t(s[0]) & 0xC0) != 0x80);
}

// Feeds the pieces, checks the event stream's own rules and returns what it describes.
ParsedToolCalls stream(F f, const std::vector<std::string_view>& pieces, std::string* problem) {
  ToolCallStream s(f, kSeed);
  ToolCallCollector c;
  long open = -1;  // index of the call between Begin and End
  size_t live = 0;
  const auto note = [&](const std::string& what) {
    if (problem->empty()) *problem = what;
  };
  const ToolCallStream::Sink sink = [&](const ToolCallEvent& e) {
    switch (e.kind) {
      case ToolCallEvent::Content:
        if (open >= 0) note("content inside a call");
        if (e.text.empty()) note("empty content event");
        if (!complete_utf8(e.text)) note("content splits a UTF-8 character");
        break;
      case ToolCallEvent::Begin:
        if (open >= 0 || e.index != live) note("begin out of order");
        if (e.id != tool_call_id(kSeed, e.index)) note("unexpected id");
        open = long(e.index), ++live;
        break;
      case ToolCallEvent::Arguments:
        if (open < 0 || e.index != size_t(open)) note("arguments outside their call");
        if (e.text.empty() || !complete_utf8(e.text)) note("arguments piece splits a UTF-8 character");
        break;
      case ToolCallEvent::End:
        if (open < 0 || e.index != size_t(open)) note("end without begin");
        open = -1;
        break;
      case ToolCallEvent::Abort:
        if (open < 0 || e.index != size_t(open)) note("abort of no open call");
        open = -1, --live;
        break;
    }
    c(e);
  };
  for (const std::string_view p : pieces) s.feed(p, sink);
  s.finish(sink);
  if (open >= 0) note("call left open");
  return c.take();
}

// The text in pieces: cut at every byte position, byte by byte, and at random places.
void expect_split_invariant(F f, const std::string& text, const ParsedToolCalls& whole) {
  std::string problem;
  EXPECT_EQ(stream(f, {text}, &problem), whole);
  for (size_t k = 0; k <= text.size(); ++k) {
    const std::string_view t(text);
    ASSERT_EQ(stream(f, {t.substr(0, k), t.substr(k)}, &problem), whole) << "split at byte " << k;
  }
  std::vector<std::string_view> bytes;
  for (size_t k = 0; k < text.size(); ++k) bytes.push_back(std::string_view(text).substr(k, 1));
  EXPECT_EQ(stream(f, bytes, &problem), whole) << "byte by byte";
  std::mt19937 rng(uint32_t(text.size()));
  for (int round = 0; round < 30; ++round) {
    std::vector<std::string_view> pieces;
    for (size_t at = 0; at < text.size();) {
      const size_t n = std::min(text.size() - at, size_t(rng() % 9));
      pieces.push_back(std::string_view(text).substr(at, n));  // empty pieces too
      at += n;
    }
    ASSERT_EQ(stream(f, pieces, &problem), whole) << "random pieces, round " << round;
  }
  EXPECT_EQ(problem, "");
}

TEST(ToolCallParse, EachFamilyWholeText) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const ParsedToolCalls got = parse_tool_calls(c.format, c.text, kSeed);
    EXPECT_EQ(got.content, c.content);
    EXPECT_EQ(got.calls, c.calls);
    for (const ToolCall& call : got.calls) EXPECT_TRUE(nlohmann::json::accept(call.arguments)) << call.arguments;
  }
}

TEST(ToolCallStream, EverySplitGivesTheWholeTextParse) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    expect_split_invariant(c.format, c.text, parse_tool_calls(c.format, c.text, kSeed));
  }
}

TEST(ToolCallParse, MalformedCallsAreContent) {
  for (const auto& [f, text] : malformed()) {
    SCOPED_TRACE(text);
    const ParsedToolCalls got = parse_tool_calls(f, text, kSeed);
    EXPECT_EQ(got.content, text);
    EXPECT_TRUE(got.calls.empty());
    expect_split_invariant(f, text, got);
  }
}

TEST(ToolCallParse, CallsBeforeAMalformedOneStay) {
  const std::string bad =
      "\n<tool_call>{\"name\": \"g\", \"arguments\": {\"a\": 1,}}</tool_call>\n<tool_call>"
      "{\"name\": \"h\", \"arguments\": {}}</tool_call>";
  const std::string text = "Hi <tool_call>{\"name\": \"f\", \"arguments\": {\"ok\": true}}</tool_call>" + bad;
  const ParsedToolCalls got = parse_tool_calls(F::Qwen, text, kSeed);
  EXPECT_EQ(got.content, "Hi" + bad);  // the failed call and all after it, byte for byte
  EXPECT_EQ(got.calls, calls({{"f", R"({"ok":true})"}}));
  expect_split_invariant(F::Qwen, text, got);

  const std::string ds_bad = "\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>g\n```json\n{oops}\n```<｜tool▁call▁end｜>";
  const std::string ds = "<｜tool▁calls▁begin｜>" + kGetWeather + ds_bad;
  const ParsedToolCalls got_ds = parse_tool_calls(F::DeepSeek, ds, kSeed);
  EXPECT_EQ(got_ds.content, ds_bad);
  EXPECT_EQ(got_ds.calls, calls({{"get_weather", R"({"city":"Paris"})"}}));
  expect_split_invariant(F::DeepSeek, ds, got_ds);
}

std::vector<ToolCallEvent::Kind> kinds_of(ToolCallStream& s, std::string_view piece, std::string* text,
                                          bool finish = false) {
  std::vector<ToolCallEvent::Kind> k;
  const ToolCallStream::Sink sink = [&](const ToolCallEvent& e) {
    k.push_back(e.kind);
    text->append(e.text);
  };
  if (finish) {
    s.finish(sink);
  } else {
    s.feed(piece, sink);
  }
  return k;
}

TEST(ToolCallStream, HoldsBackOnlyWhatMayBeCallSyntax) {
  using K = ToolCallEvent::Kind;
  ToolCallStream s(F::Qwen, kSeed);
  std::string t;
  EXPECT_EQ(kinds_of(s, "The answer is 42", &t), std::vector<K>{K::Content});
  EXPECT_EQ(t, "The answer is 42");
  t.clear();
  EXPECT_EQ(kinds_of(s, ". \xE6\x9D", &t), std::vector<K>{K::Content});  // half of 東
  EXPECT_EQ(t, ". ");
  t.clear();
  EXPECT_EQ(kinds_of(s, "\xB1 <tool", &t), std::vector<K>{K::Content});  // the space may precede an opener
  EXPECT_EQ(t, "\xE6\x9D\xB1");
  t.clear();
  EXPECT_EQ(kinds_of(s, "s> ok", &t), std::vector<K>{K::Content});  // not an opener after all
  EXPECT_EQ(t, " <tools> ok");
  t.clear();
  // The name starts the call as soon as it is complete; the arguments stream as they come.
  EXPECT_EQ(kinds_of(s, "\n<tool_call>\n{\"name\": \"sea", &t), std::vector<K>{});
  EXPECT_EQ(kinds_of(s, "rch\", \"arguments\": {\"q\": \"ll", &t), (std::vector<K>{K::Begin, K::Arguments}));
  EXPECT_EQ(t, "search{\"q\":\"ll");
  t.clear();
  EXPECT_EQ(kinds_of(s, "amas\"}}\n</tool_", &t), (std::vector<K>{K::Arguments}));
  EXPECT_EQ(t, "amas\"}");
  EXPECT_EQ(kinds_of(s, "call>", &t), (std::vector<K>{K::End}));
  EXPECT_EQ(kinds_of(s, "", &t, true), (std::vector<K>{}));
}

TEST(ToolCallStream, AbortsABegunCallThatTurnsOutMalformed) {
  using K = ToolCallEvent::Kind;
  ToolCallStream s(F::DeepSeek, kSeed);
  std::string t;
  EXPECT_EQ(kinds_of(s, "Sure.<｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\": [1", &t),
            (std::vector<K>{K::Content, K::Begin, K::Arguments}));
  t.clear();
  EXPECT_EQ(kinds_of(s, ", }", &t), (std::vector<K>{K::Abort, K::Content}));
  EXPECT_EQ(t, "<｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\": [1, }");
  t.clear();
  EXPECT_EQ(kinds_of(s, "<tool_call>", &t), (std::vector<K>{K::Content}));  // everything after is content
  EXPECT_EQ(kinds_of(s, "", &t, true), (std::vector<K>{}));
}

TEST(ToolCallStream, RandomTextsNeverBreakIt) {
  // Random concatenations of call syntax, JSON pieces and text: whatever comes out, every
  // split agrees with the whole-text parse and all calls hold valid JSON.
  const std::vector<std::string> atoms = {
      "<｜tool▁calls▁begin｜>",
      "<｜tool▁call▁begin｜>",
      "function",
      "<｜tool▁sep｜>",
      "<｜tool_sep｜>",
      "f",
      "\n",
      "```json\n",
      "```",
      "<｜tool▁call▁end｜>",
      "<｜tool▁calls▁end｜>",
      "<tool_call>",
      "</tool_call>",
      "<|python_tag|>",
      "{\"name\": \"g\", ",
      "\"arguments\": ",
      "\"parameters\": ",
      "{",
      "}",
      "[",
      "]",
      "\"a\"",
      ":",
      ",",
      " ",
      "1",
      "-0.5e+2",
      "\"é😀\\u00e9\"",
      "true",
      ";",
      "text",
      "<",
      "｜",
      "\xF0\x9F",
      "\\",
      "\"",
      // whole calls, so that many texts hold some
      kGetWeather,
      "<tool_call>{\"name\": \"q\", \"arguments\": {\"k\": [1, \"}\"]}}</tool_call>",
      "{\"name\": \"l\", \"parameters\": {\"v\": \"x\"}}",
      "<｜tool▁call▁begin｜>n<｜tool▁sep｜>{\"a\": {}}<｜tool▁call▁end｜>",
  };
  size_t with_calls = 0;
  std::mt19937 rng(7);
  for (int n = 0; n < 400; ++n) {
    std::string text;
    const size_t len = 1 + rng() % 24;
    for (size_t k = 0; k < len; ++k) text += atoms[rng() % atoms.size()];
    for (const F f : {F::DeepSeek, F::DeepSeekV31, F::Qwen, F::Llama3}) {
      const ParsedToolCalls whole = parse_tool_calls(f, text, kSeed);
      with_calls += !whole.calls.empty();
      for (const ToolCall& c : whole.calls) ASSERT_TRUE(nlohmann::json::accept(c.arguments)) << c.arguments;
      std::string problem;
      for (size_t k = 0; k <= text.size(); k += 1 + rng() % 5) {
        const std::string_view t(text);
        ASSERT_EQ(stream(f, {t.substr(0, k), t.substr(k)}, &problem), whole)
            << tool_call_format_name(f) << ": " << text;
      }
    }
  }
  EXPECT_GT(with_calls, 200u);  // of 1600 parses
}

TEST(ToolCallId, DeterministicAlphanumeric) {
  const std::string a = tool_call_id(1, 0);
  EXPECT_EQ(a.size(), 5u + 24u);
  EXPECT_EQ(a.rfind("call_", 0), 0u);
  for (const char ch : a.substr(5)) EXPECT_TRUE(std::isalnum(uint8_t(ch))) << a;
  EXPECT_EQ(a, tool_call_id(1, 0));
  EXPECT_NE(a, tool_call_id(1, 1));
  EXPECT_NE(a, tool_call_id(2, 0));
}

TEST(ToolCallFormat, DetectedFromTheTemplate) {
  EXPECT_EQ(detect_tool_call_format(builtin_chat_template("deepseek-r1")), F::DeepSeek);
  EXPECT_EQ(detect_tool_call_format(builtin_chat_template("chatml")), F::Qwen);
  EXPECT_EQ(detect_tool_call_format(builtin_chat_template("llama3")), F::Llama3);
  // DeepSeek-V3.1 renders the name before the separator and no fence.
  EXPECT_EQ(detect_tool_call_format("{{'<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['function']['name'] + "
                                    "'<｜tool▁sep｜>' + tool['function']['arguments'] + '<｜tool▁call▁end｜>'}}"),
            F::DeepSeekV31);
  // Llama 3.0's template renders no calls; 3.1's opens built-in tool calls with <|python_tag|>.
  EXPECT_EQ(detect_tool_call_format("{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"),
            F::None);
  EXPECT_EQ(detect_tool_call_format("{{- '<|python_tag|>' + tool_call.name }}"), F::Llama3);
  EXPECT_EQ(detect_tool_call_format("{{ messages[0].content }}"), F::None);
  EXPECT_STREQ(tool_call_format_name(F::DeepSeekV31), "deepseek-v3.1");
}

// A vocabulary of the 256 byte tokens plus the given control tokens.
ToolCallFormat format_of_vocab(const std::vector<std::string>& specials, const std::string& tmpl) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(byte_to_unicode(uint8_t(b)));
  std::vector<int32_t> types(tokens.size(), kTokNormal);
  for (const std::string& t : specials) tokens.push_back(t), types.push_back(kTokControl);
  GgufWriter w;
  w.set_str("general.architecture", "llama");
  w.set_str("tokenizer.ggml.model", "gpt2");
  w.set_str_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_str_array("tokenizer.ggml.merges", {});
  const std::string path =
      std::filesystem::temp_directory_path() / ("dawn-toolcall-vocab-" + std::to_string(getpid()) + ".gguf");
  w.write(path);
  auto g = GgufFile::open(path);
  Vocab v(*g);
  std::filesystem::remove(path);
  const ChatTemplate t(tmpl, v, "test");
  EXPECT_EQ(t.tool_call_format(), detect_tool_call_format(tmpl, v));
  return t.tool_call_format();
}

TEST(ToolCallFormat, FallsBackOnTheVocabulary) {
  const std::string plain = "{% for m in messages %}{{ m.content }}{% endfor %}";
  EXPECT_EQ(format_of_vocab({"<|im_start|>", "<tool_call>", "</tool_call>"}, plain), F::Qwen);
  // An R1 distill over Qwen: DeepSeek's markers beside Qwen's <tool_call>.
  EXPECT_EQ(format_of_vocab({"<tool_call>", "<｜tool▁calls▁begin｜>"}, plain), F::DeepSeek);
  EXPECT_EQ(format_of_vocab({"<|python_tag|>"}, plain), F::Llama3);
  EXPECT_EQ(format_of_vocab({"<|im_start|>"}, plain), F::None);
  // The template wins over the vocabulary.
  EXPECT_EQ(format_of_vocab({"<tool_call>"}, builtin_chat_template("deepseek-r1")), F::DeepSeek);
}

// ---- the JSON scanner

// The scanner's verdict on a whole text, and the compact bytes it keeps.
bool scan(std::string_view text, std::string* compact) {
  JsonScanner j;
  compact->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    bool keep = true;
    const auto r = j.push(text[i], keep);
    if (r == JsonScanner::Fail) return false;
    if (keep && r != JsonScanner::EndedBefore) *compact += text[i];
    if (r == JsonScanner::Done || r == JsonScanner::EndedBefore) {
      // Only whitespace may follow a complete value.
      return text.substr(r == JsonScanner::Done ? i + 1 : i).find_first_not_of(" \t\r\n") == std::string_view::npos;
    }
  }
  return j.finish() == JsonScanner::Done;
}

TEST(ToolCallJson, ScannerAgreesWithNlohmann) {
  const std::vector<std::string> seeds = {
      R"({"a": [1, -0, 0.5, 1e5, 2E-3, -1.25e+10, true, false, null], "b": {"c": "\"\\\/\b\f\n\r\t\u00e9"}})",
      R"(["😀 東京", "\ud83d\ude00", {}, [], [[]], {"": ""}])",
      "  42  ",
      "\"s\"",
      "-7",
      "0",
      "[1.5]",
  };
  for (const std::string& s : seeds) {
    std::string compact;
    ASSERT_TRUE(scan(s, &compact)) << s;
    EXPECT_EQ(nlohmann::json::parse(compact), nlohmann::json::parse(s));
  }
  for (const char* bad : {"{\"a\": 1,}",
                          "[01]",
                          "1.",
                          ".5",
                          "1e",
                          "-",
                          "+1",
                          "\"\\x\"",
                          "\"\\ud800\"",
                          "\"\\udc00\"",
                          "\"\\ud800\\u0041\"",
                          "\"a\nb\"",
                          "{'a': 1}",
                          "[1 2]",
                          "{\"a\" 1}",
                          "tru",
                          "nul",
                          "[",
                          "]",
                          "\"\xC0\x80\"",
                          "\"\xED\xA0\x80\"",
                          "\"\xF4\x90\x80\x80\"",
                          "\"\xE6\x9D\"",
                          "{} {}",
                          ""}) {
    std::string compact;
    EXPECT_FALSE(scan(bad, &compact)) << bad;
    EXPECT_FALSE(nlohmann::json::accept(bad)) << bad;
  }
  // Mutations of the seeds: one byte replaced, inserted or deleted, many times over.
  const std::string alphabet = "{}[]\":,.-+eE0123456789 \\/ubfnrtaxl\n\x01\xC3\xA9\xED\xA0\x80\xF0\x9F";
  std::mt19937 rng(11);
  size_t checked = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string s = seeds[rng() % seeds.size()];
    for (int edits = 1 + int(rng() % 3); edits > 0; --edits) {
      const size_t at = rng() % (s.size() + 1);
      const char ch = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          if (at < s.size()) s[at] = ch;
          break;
        case 1: s.insert(s.begin() + long(at), ch); break;
        default:
          if (at < s.size()) s.erase(at, 1);
      }
    }
    std::string compact;
    const bool ours = scan(s, &compact);
    bool theirs = true;
    try {
      const auto parsed = nlohmann::json::parse(s);
      (void)parsed;
    } catch (const nlohmann::json::out_of_range&) {
      continue;  // a number past a double's range: valid JSON, which nlohmann declines
    } catch (const nlohmann::json::parse_error&) {
      theirs = false;
    }
    ASSERT_EQ(ours, theirs) << s;
    if (ours) {
      ASSERT_EQ(nlohmann::json::parse(compact), nlohmann::json::parse(s)) << s;
    }
    ++checked;
  }
  EXPECT_GT(checked, 19000u);
}

TEST(ToolCallJson, DepthIsBounded) {
  std::string deep(300, '[');
  std::string compact;
  EXPECT_FALSE(scan(deep + std::string(300, ']'), &compact));
  EXPECT_TRUE(scan(std::string(200, '[') + std::string(200, ']'), &compact));
}

}  // namespace
}  // namespace dawn
