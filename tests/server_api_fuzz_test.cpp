// Fuzz-style test of the request parsers: ~20 valid bodies, thousands of random mutations
// (byte flips, truncations, deleted and duplicated runs, values swapped for other JSON types,
// huge numbers, deep nesting, structural edits of the parsed document). Every parse must end
// in a request that keeps the documented invariants or in a 4xx ApiError with a readable
// message; nothing may throw or crash (CI runs this under ASan/UBSan too).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "server/json_fields.h"
#include "server/openai_request.h"
#include "server/tokenize_api.h"

namespace dawn::server {
namespace {

const std::vector<std::string> kSeeds = {
    R"({"model":"m","messages":[{"role":"user","content":"hi"}]})",
    R"({"model":"dawn-brown-v3","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}],"max_tokens":64,"temperature":0.7,"top_p":0.9})",
    R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true},"n":2,"seed":42})",
    R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],"stop":["\n","END"]})",
    R"({"model":"m","messages":[{"role":"user","content":"w?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"sunny"}]})",
    R"({"model":"m","messages":[{"role":"user","content":"t"}],"tools":[{"type":"function","function":{"name":"get","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],"tool_choice":"auto"})",
    R"({"model":"m","messages":[{"role":"developer","content":"d"},{"role":"user","content":"u"}],"chat_template_kwargs":{"enable_thinking":false},"reasoning_format":"inline"})",
    R"({"model":"m","messages":[{"role":"user","content":"lp"}],"logprobs":true,"top_logprobs":5,"logit_bias":{"50256":-100,"7":3.5}})",
    R"({"model":"m","messages":[{"role":"user","content":"p"}],"presence_penalty":0.5,"frequency_penalty":-0.5,"min_p":0.05,"top_k":40,"max_completion_tokens":10,"user":"u"})",
    R"({"model":"m","messages":[{"role":"user","content":"\u00e9\u4f60\ud83d\ude00"}],"stop":"\u00e9"})",
    R"({"model":"m","messages":[{"role":"assistant","content":"a","reasoning_content":"r","name":"n"},{"role":"user","content":"u"}],"response_format":{"type":"text"}})",
    R"({"model":"m","prompt":"Once upon a time"})",
    R"({"model":"m","prompt":["Once"],"max_tokens":16,"echo":true,"logprobs":3})",
    R"({"model":"m","prompt":[1,2,3,4],"temperature":0,"stop":["."]})",
    R"({"model":"m","prompt":[[5,6,7]],"suffix":"","best_of":1,"n":3})",
    R"({"model":"m","prompt":"x","stream":true,"stream_options":{"include_usage":false},"seed":-7})",
    R"({"content":"Hello world","add_special":true,"with_pieces":true})",
    R"({"content":"<|im_end|>","parse_special":false,"model":"m"})",
    R"({"tokens":[1,2,3,50256]})",
    R"({"tokens":[],"model":"m"})",
};

const std::vector<std::string> kSnippets = {
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1",
    "16",
    "17",
    "1e400",
    "-1e400",
    "1e-400",
    "99999999999999999999999",
    "-9223372036854775809",
    "18446744073709551616",
    "0.5",
    "2147483648",
    "-0",
    "1.0",
    "2.5",
    "\"\"",
    "\"x\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\u0000\"",
    "\"\xff\"",
    "\"\xc0\xaf\"",
    "\"\xed\xa0\x80\"",
    "[]",
    "{}",
    "[1,2,3]",
    "{\"a\":1}",
    "[[[[[[]]]]]]",
    "[\"a\",\"b\",\"c\",\"d\",\"e\"]",
    "{\"role\":\"user\"}",
    "[{\"type\":\"text\",\"text\":\"a\"}]",
    "[{\"type\":\"image_url\"}]",
    "\"auto\"",
    "{\"50256\":-100}",
    "{\"-1\":5}",
    "[null]",
    "\"inline\"",
    "\"\\\"",
    "\"\\",
    "[",
    "{",
    "]",
    "}",
    ",",
    ":",
    "\"",
};

class Fuzzer {
 public:
  explicit Fuzzer(uint32_t seed) : rng_(seed) {}

  size_t below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  const std::string& snippet() { return kSnippets[below(kSnippets.size())]; }

  std::string deep(size_t depth) {
    const bool obj = below(2);
    std::string s;
    for (size_t i = 0; i < depth; ++i) s += obj ? "{\"a\":" : "[";
    s += "1";
    for (size_t i = 0; i < depth; ++i) s += obj ? '}' : ']';
    return s;
  }

  // A long JSON string of ASCII, two-byte characters and brackets (which must not count as nesting).
  std::string huge_string() {
    static const char* parts[] = {"a", "\xc3\xa9", "[", "{", "\\n"};
    std::string s = "\"";
    for (size_t i = 1000 + below(20000); i > 0; --i) s += parts[below(std::size(parts))];
    return s + "\"";
  }

  // A JSON value of any type, for structural edits.
  Json value() {
    switch (below(10)) {
      case 0: return nullptr;
      case 1: return bool(below(2));
      case 2: return int64_t(rng_()) >> below(64);
      case 3: return -(int64_t(rng_()) >> below(64));
      case 4: return std::uniform_real_distribution<double>(-3, 3)(rng_);
      case 5: return std::string(below(3) ? "user" : "\xc3\xa9\n").substr(0, below(6));
      case 6: return Json::array({value(), value()});
      case 7: return Json{{"type", below(2) ? "text" : "function"}, {"text", "t"}, {"name", value()}};
      case 8: return Json::parse(deep(1 + below(70)), nullptr, false);
      default: return Json::object();
    }
  }

  void byte_mutation(std::string& s) {
    if (s.empty()) {
      s = snippet();
      return;
    }
    const size_t i = below(s.size());
    switch (below(9)) {
      case 0: s[i] = char(s[i] ^ (1 << below(8))); break;
      case 1: s[i] = char(rng_()); break;
      case 2: s.resize(i); break;
      case 3: s.erase(i, 1 + below(8)); break;
      case 4: s.insert(i, s.substr(i, 1 + below(16))); break;
      case 5: s.insert(i, snippet()); break;
      case 6: s.insert(i, below(3) ? deep(below(2) ? 65 : 5000) : huge_string()); break;
      case 7: s.insert(i, 1, "\"{}[],:\\"[below(8)]); break;
      default: {  // the value after a ':' becomes something else
        const size_t colon = s.find(':', i);
        if (colon == std::string::npos) break;
        const size_t end = s.find_first_of(",}]", colon + 1);
        s.replace(colon + 1, (end == std::string::npos ? s.size() : end) - colon - 1,
                  below(4) ? snippet() : deep(1 + below(80)));
      }
    }
  }

  // Parses s (valid JSON) and changes one node: new value, removed, or an extra member.
  std::string structural_mutation(const std::string& s) {
    // nlohmann copies, dumps and walks documents recursively: deep ones (byte mutations make
    // them) would overflow the test's own stack, so they are left to the byte mutations.
    if (nesting(s) > 100) return s;
    Json j = Json::parse(s, nullptr, false);
    if (j.is_discarded()) return s;
    std::vector<Json::json_pointer> nodes;
    collect(j, Json::json_pointer(), nodes);
    const Json::json_pointer p = nodes[below(nodes.size())];
    switch (below(4)) {
      case 0:
        if (!p.empty()) {
          Json& parent = j[p.parent_pointer()];
          if (parent.is_object())
            parent.erase(p.back());
          else if (parent.is_array() && !parent.empty())
            parent.erase(parent.size() - 1);
          break;
        }
        [[fallthrough]];
      case 1:
        if (j[p].is_object()) {
          static const char* keys[] = {
              "model",          "messages", "n",    "stop",       "logprobs",      "top_logprobs", "stream",
              "stream_options", "content",  "role", "tool_calls", "type",          "text",         "prompt",
              "tokens",         "suffix",   "seed", "logit_bias", "include_usage", "max_tokens"};
          j[p][keys[below(std::size(keys))]] = value();
          break;
        }
        [[fallthrough]];
      default: j[p] = value();
    }
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }

 private:
  static size_t nesting(const std::string& s) {
    size_t depth = 0, deepest = 0;
    for (char c : s) {
      if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
      if ((c == ']' || c == '}') && depth > 0) --depth;
    }
    return deepest;
  }

  static void collect(const Json& j, const Json::json_pointer& at, std::vector<Json::json_pointer>& out) {
    out.push_back(at);
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) collect(v, at / k, out);
    } else if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i) collect(j[i], at / i, out);
    }
  }

  std::mt19937 rng_;
};

struct Tally {
  size_t accepted = 0, rejected = 0, invalid_json = 0;
};

void check_error(const ApiError& e, const std::string& where) {
  EXPECT_GE(e.status, 400) << where;
  EXPECT_LT(e.status, 500) << where;
  EXPECT_FALSE(e.message.empty()) << where;
  EXPECT_FALSE(e.type.empty()) << where;
  EXPECT_TRUE(is_valid_utf8(e.message)) << where << " -> " << printable(e.message, 300);
  EXPECT_TRUE(is_valid_utf8(e.param)) << where;
  EXPECT_TRUE(Json::accept(e.body())) << where;
}

void check_common(const CommonRequest& r, const std::string& where) {
  EXPECT_FALSE(r.model.empty()) << where;
  EXPECT_TRUE(is_valid_utf8(r.model)) << where;
  EXPECT_TRUE(!r.max_tokens || *r.max_tokens >= 1) << where;
  EXPECT_TRUE(r.temperature >= 0 && r.temperature <= 2) << where;
  EXPECT_TRUE(r.top_p > 0 && r.top_p <= 1) << where;
  EXPECT_TRUE(r.min_p >= 0 && r.min_p <= 1) << where;
  EXPECT_GE(r.top_k, 0) << where;
  EXPECT_LE(r.stop.size(), 4u) << where;
  for (const std::string& s : r.stop) EXPECT_TRUE(!s.empty() && is_valid_utf8(s)) << where;
  EXPECT_TRUE(r.presence_penalty >= -2 && r.presence_penalty <= 2) << where;
  EXPECT_TRUE(r.frequency_penalty >= -2 && r.frequency_penalty <= 2) << where;
  for (size_t i = 0; i < r.logit_bias.size(); ++i) {
    EXPECT_GE(r.logit_bias[i].first, 0) << where;
    EXPECT_TRUE(r.logit_bias[i].second >= -100 && r.logit_bias[i].second <= 100) << where;
    if (i) {
      EXPECT_LT(r.logit_bias[i - 1].first, r.logit_bias[i].first) << where;
    }
  }
  EXPECT_TRUE(r.top_logprobs >= 0 && r.top_logprobs <= 20) << where;
  EXPECT_TRUE(r.n >= 1 && r.n <= 16) << where;
  EXPECT_TRUE(!r.include_usage || r.stream) << where;
}

void run_all_parsers(const std::string& body, const std::string& where, Tally& t) {
  const auto note = [&](const ApiError& e) {
    check_error(e, where);
    ++t.rejected;
    t.invalid_json += e.code == "invalid_json";
  };
  try {
    ChatParse c = parse_chat_request(body);
    if (auto* e = std::get_if<ApiError>(&c)) {
      note(*e);
    } else {
      const ChatRequest& r = std::get<ChatRequest>(c);
      check_common(r, where);
      EXPECT_FALSE(r.messages.empty()) << where;
      for (const Json& m : r.messages) {
        EXPECT_TRUE(m["content"].is_string() || (m["content"].is_null() && m["role"] == "assistant")) << where;
        EXPECT_NE(m["role"], "developer") << where;
      }
      EXPECT_TRUE(r.chat_template_kwargs.is_object()) << where;
      (void)r.messages.dump();  // strict dump: throws on invalid UTF-8, which must not be there
      ++t.accepted;
    }
    CompletionParse p = parse_completion_request(body);
    if (auto* e = std::get_if<ApiError>(&p)) {
      note(*e);
    } else {
      const CompletionRequest& r = std::get<CompletionRequest>(p);
      check_common(r, where);
      EXPECT_TRUE(!r.prompt_is_tokens || !r.prompt_tokens.empty()) << where;
      EXPECT_TRUE(is_valid_utf8(r.prompt)) << where;
      EXPECT_TRUE(r.top_logprobs <= 5) << where;
      ++t.accepted;
    }
    auto tk = parse_tokenize_request(body);
    if (auto* e = std::get_if<ApiError>(&tk))
      note(*e);
    else
      ++t.accepted;
    auto dt = parse_detokenize_request(body);
    if (auto* e = std::get_if<ApiError>(&dt)) {
      note(*e);
    } else {
      for (int32_t id : std::get<DetokenizeRequest>(dt).tokens) EXPECT_GE(id, 0) << where;
      ++t.accepted;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << where << ": threw " << e.what();
  } catch (...) {
    ADD_FAILURE() << where << ": threw a non-std exception";
  }
}

TEST(ServerApiFuzz, SeedsParse) {
  // Each seed is valid for the parser it was written for.
  for (size_t i = 0; i < kSeeds.size(); ++i) {
    const std::string& s = kSeeds[i];
    bool ok;
    if (s.find("\"messages\"") != std::string::npos)
      ok = std::holds_alternative<ChatRequest>(parse_chat_request(s));
    else if (s.find("\"prompt\"") != std::string::npos)
      ok = std::holds_alternative<CompletionRequest>(parse_completion_request(s));
    else if (s.find("\"content\"") != std::string::npos)
      ok = std::holds_alternative<TokenizeRequest>(parse_tokenize_request(s));
    else
      ok = std::holds_alternative<DetokenizeRequest>(parse_detokenize_request(s));
    EXPECT_TRUE(ok) << "seed " << i << ": " << s;
  }
}

TEST(ServerApiFuzz, MutatedBodiesGiveARequestOr4xx) {
  Fuzzer f(20240611);
  Tally t;
  size_t mutations = 0, bodies = 0;
  for (size_t seed = 0; seed < kSeeds.size(); ++seed) {
    for (int iter = 0; iter < 300; ++iter) {
      std::string body = kSeeds[seed];
      const size_t n = 1 + f.below(3);
      for (size_t k = 0; k < n; ++k) {
        if (f.below(2))
          body = f.structural_mutation(body);
        else
          f.byte_mutation(body);
        ++mutations;
      }
      ++bodies;
      run_all_parsers(
          body, "seed " + std::to_string(seed) + " iteration " + std::to_string(iter) + ": " + printable(body, 300), t);
      if (::testing::Test::HasFailure()) return;  // one body's report is enough
    }
  }
  EXPECT_GE(mutations, 5000u);
  // The mutations reach past the JSON reader into the field checks, and some still pass them.
  EXPECT_GT(t.rejected - t.invalid_json, bodies);
  EXPECT_GT(t.accepted, bodies / 20);
  std::printf("%zu bodies, %zu mutations: %zu parses accepted, %zu rejected (%zu as malformed JSON)\n", bodies,
              mutations, t.accepted, t.rejected, t.invalid_json);
}

}  // namespace
}  // namespace dawn::server
