// OpenAI response shapes: chat.completion and text_completion objects, logprobs in both
// APIs' forms, usage, models, tokenize/detokenize, errors; SSE framing and ChatStream's
// chunk sequence (field names and types as OpenAI's docs and the openai npm client read them).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/openai_stream.h"
#include "server/tokenize_api.h"

namespace dawn::server {
namespace {

using Json = nlohmann::ordered_json;

const ResponseMeta kMeta{"chatcmpl-abc", 1700000000, "dawn-brown-v3", "fp_dawn"};

// The JSON objects of an SSE body; every event must be "data: <json>\n\n" and the last [DONE].
std::vector<Json> parse_sse(const std::string& sse, bool expect_done = true) {
  std::vector<Json> events;
  size_t pos = 0;
  bool done = false;
  while (pos < sse.size()) {
    EXPECT_FALSE(done) << "event after [DONE]";
    EXPECT_EQ(sse.compare(pos, 6, "data: "), 0) << sse.substr(pos);
    const size_t end = sse.find("\n\n", pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated event: " << sse.substr(pos);
      break;
    }
    const std::string data = sse.substr(pos + 6, end - pos - 6);
    EXPECT_EQ(data.find('\n'), std::string::npos) << "newline inside an event";
    if (data == "[DONE]") {
      done = true;
    } else {
      events.push_back(Json::parse(data));
    }
    pos = end + 2;
  }
  EXPECT_EQ(done, expect_done);
  return events;
}

TEST(ServerApiResponse, ChatCompletionShape) {
  ChatChoice c;
  c.content = "The answer is 4.";
  c.reasoning = "2+2";
  c.finish_reason = finish_reason("eog");
  ChatChoice d;
  d.content = "Four";
  d.finish_reason = finish_reason("length");
  const Json j = chat_completion_json(kMeta, {c, d}, Usage{12, 5, 8, 3});
  EXPECT_EQ(j["id"], "chatcmpl-abc");
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_TRUE(j["created"].is_number_integer());
  EXPECT_EQ(j["created"], 1700000000);
  EXPECT_EQ(j["model"], "dawn-brown-v3");
  EXPECT_EQ(j["system_fingerprint"], "fp_dawn");
  ASSERT_EQ(j["choices"].size(), 2u);
  const Json& c0 = j["choices"][0];
  EXPECT_EQ(c0["index"], 0);
  EXPECT_EQ(c0["message"]["role"], "assistant");
  EXPECT_EQ(c0["message"]["content"], "The answer is 4.");
  EXPECT_EQ(c0["message"]["reasoning_content"], "2+2");
  EXPECT_TRUE(c0["message"]["refusal"].is_null());
  EXPECT_TRUE(c0["logprobs"].is_null());
  EXPECT_EQ(c0["finish_reason"], "stop");
  const Json& c1 = j["choices"][1];
  EXPECT_EQ(c1["index"], 1);
  EXPECT_FALSE(c1["message"].contains("reasoning_content"));
  EXPECT_EQ(c1["finish_reason"], "length");
  const Json& u = j["usage"];
  EXPECT_EQ(u["prompt_tokens"], 12);
  EXPECT_EQ(u["completion_tokens"], 5);
  EXPECT_EQ(u["total_tokens"], 17);
  EXPECT_EQ(u["prompt_tokens_details"]["cached_tokens"], 8);
  EXPECT_EQ(u["completion_tokens_details"]["reasoning_tokens"], 3);
  EXPECT_FALSE(usage_json(Usage{1, 2, 0}).contains("completion_tokens_details"));
  EXPECT_FALSE(chat_completion_json(ResponseMeta{"x", 1, "m", ""}, {d}, {}).contains("system_fingerprint"));
}

TEST(ServerApiResponse, FinishReasons) {
  EXPECT_EQ(finish_reason("eog"), "stop");
  EXPECT_EQ(finish_reason("stop"), "stop");
  EXPECT_EQ(finish_reason("length"), "length");
  EXPECT_EQ(finish_reason("context"), "length");
}

TEST(ServerApiResponse, ChatLogprobsShape) {
  ChatChoice c;
  c.content = "Hi\xe4\xbd\xa0";
  c.finish_reason = "stop";
  c.logprobs = true;
  c.tokens = {
      TokenLogprob{5, "Hi", -0.25, {{5, "Hi", -0.25}, {9, "Hey", -1.5}}},
      TokenLogprob{7, "\xe4\xbd", -0.5, {{7, "\xe4\xbd", -0.5}, {8, "x", -std::numeric_limits<double>::infinity()}}},
      TokenLogprob{3, "\xa0", -0.125, {}}};
  const Json lp = chat_completion_json(kMeta, {c}, {})["choices"][0]["logprobs"];
  ASSERT_TRUE(lp["content"].is_array());
  EXPECT_TRUE(lp["refusal"].is_null());
  const Json& t0 = lp["content"][0];
  EXPECT_EQ(t0["token"], "Hi");
  EXPECT_TRUE(t0["logprob"].is_number());
  EXPECT_EQ(t0["logprob"], -0.25);
  EXPECT_EQ(t0["bytes"], Json::array({72, 105}));
  ASSERT_EQ(t0["top_logprobs"].size(), 2u);
  EXPECT_EQ(t0["top_logprobs"][1], (Json{{"token", "Hey"}, {"logprob", -1.5}, {"bytes", {72, 101, 121}}}));
  // Part of a character: the bytes: form, exact bytes beside it; -inf as OpenAI's -9999.
  const Json& t1 = lp["content"][1];
  EXPECT_EQ(t1["token"], "bytes:\\xe4\\xbd");
  EXPECT_EQ(t1["bytes"], Json::array({0xe4, 0xbd}));
  EXPECT_EQ(t1["top_logprobs"][1]["logprob"], -9999.0);
  EXPECT_EQ(lp["content"][2]["top_logprobs"], Json::array());
  // The whole response still dumps as valid JSON.
  EXPECT_TRUE(Json::accept(dump_json(chat_completion_json(kMeta, {c}, {}))));
}

TEST(ServerApiResponse, TextCompletionShapeAndLogprobs) {
  TextChoice c;
  c.text = "Once upon a t\xc3\xa9me";
  c.finish_reason = finish_reason("length");
  c.logprobs = true;
  // Echoed prompt first (no logprob for its first token), then the completion.
  c.tokens = {TokenLogprob{1, "Once", std::nullopt, {}}, TokenLogprob{2, " upon", -1.0, {{2, " upon", -1.0}}},
              TokenLogprob{3, " a", -0.5, {{3, " a", -0.5}, {4, " the", -2.0}}}, TokenLogprob{5, " t\xc3", -0.1, {}},
              TokenLogprob{6, "\xa9me", -0.2, {}}};
  const Json j = text_completion_json(ResponseMeta{"cmpl-1", 5, "m", ""}, {c}, Usage{2, 3, 0});
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["id"], "cmpl-1");
  const Json& c0 = j["choices"][0];
  EXPECT_EQ(c0["text"], "Once upon a t\xc3\xa9me");
  EXPECT_EQ(c0["index"], 0);
  EXPECT_EQ(c0["finish_reason"], "length");
  const Json& lp = c0["logprobs"];
  EXPECT_EQ(lp["tokens"], (Json{"Once", " upon", " a", "bytes:\\x20\\x74\\xc3", "bytes:\\xa9\\x6d\\x65"}));
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_EQ(lp["token_logprobs"][1], -1.0);
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  EXPECT_EQ(lp["top_logprobs"][2], (Json{{" a", -0.5}, {" the", -2.0}}));
  // Code-point offsets: "é" (two bytes, split over two tokens) counts once.
  EXPECT_EQ(lp["text_offset"], (Json{0, 4, 9, 11, 14}));
  EXPECT_EQ(completion_logprobs_json({TokenLogprob{1, "ab", -1.0, {}}}, 10)["text_offset"], Json::array({10}));
  EXPECT_EQ(j["usage"]["total_tokens"], 5);
  TextChoice plain;
  plain.text = "x";
  plain.finish_reason = "stop";
  EXPECT_TRUE(text_completion_json(kMeta, {plain}, {})["choices"][0]["logprobs"].is_null());
}

TEST(ServerApiResponse, IdsAndMeta) {
  const std::string a = random_id("chatcmpl"), b = random_id("chatcmpl");
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 9u + 32u);
  EXPECT_EQ(a.substr(0, 9), "chatcmpl-");
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", 9), std::string::npos);
  const ResponseMeta m = new_response_meta("cmpl", "dawn-brown-v3");
  EXPECT_EQ(m.id.substr(0, 5), "cmpl-");
  EXPECT_GT(m.created, 1'600'000'000);
  EXPECT_EQ(m.model, "dawn-brown-v3");
}

TEST(ServerApiResponse, ReasoningFormats) {
  const std::string out = "<think>\nLet me see.\n</think>\n\nFour.";
  ReasoningSplit s = split_for_response(out, ReasoningFormat::Separate, false);
  EXPECT_EQ(s.reasoning, "Let me see.");
  EXPECT_EQ(s.answer, "Four.");
  s = split_for_response("Let me see.\n</think>\n\nFour.", ReasoningFormat::Separate, true);
  EXPECT_EQ(s.reasoning, "Let me see.");
  EXPECT_EQ(s.answer, "Four.");
  s = split_for_response(out, ReasoningFormat::Inline, false);
  EXPECT_EQ(s.reasoning, "");
  EXPECT_EQ(s.answer, out);
  s = split_for_response("Let me see.\n</think>\n\nFour.", ReasoningFormat::Inline, true);
  EXPECT_EQ(s.answer, "<think>\nLet me see.\n</think>\n\nFour.");
}

TEST(ServerApiResponse, ModelsList) {
  const Json j = model_list_json({ModelInfo{"dawn-brown-v3", 1700000000}, ModelInfo{"other", 1, "me"}});
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][0],
            (Json{{"id", "dawn-brown-v3"}, {"object", "model"}, {"created", 1700000000}, {"owned_by", "dawn"}}));
  EXPECT_EQ(j["data"][1]["owned_by"], "me");
  EXPECT_EQ(model_list_json({})["data"], Json::array());
}

TEST(ServerApiResponse, ErrorShapesAndStatuses) {
  const ApiError e = bad_request("messages[2].content", "Bad.", "invalid_value");
  const Json j = Json::parse(e.body());
  ASSERT_TRUE(j["error"].is_object());
  EXPECT_EQ(j["error"]["message"], "Bad.");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "messages[2].content");
  EXPECT_EQ(j["error"]["code"], "invalid_value");
  const Json n = Json::parse(internal_error("boom").body());
  EXPECT_TRUE(n["error"]["param"].is_null());
  EXPECT_EQ(n["error"]["type"], "server_error");

  EXPECT_EQ(invalid_api_key("x").status, 401);
  EXPECT_EQ(invalid_api_key("x").code, "invalid_api_key");
  EXPECT_EQ(invalid_api_key("x").type, "invalid_request_error");
  EXPECT_EQ(forbidden("x").status, 403);
  const ApiError nf = model_not_found("gpt-9");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.code, "model_not_found");
  EXPECT_EQ(nf.param, "model");
  EXPECT_EQ(nf.message, "The model `gpt-9` does not exist or you do not have access to it.");
  EXPECT_EQ(unknown_endpoint("POST /v1/foo").status, 404);
  EXPECT_EQ(method_not_allowed("GET /v1/completions").status, 405);
  EXPECT_EQ(payload_too_large(1 << 20).status, 413);
  EXPECT_NE(payload_too_large(1 << 20).message.find("1048576"), std::string::npos);
  EXPECT_EQ(too_many_requests("busy").status, 429);
  EXPECT_EQ(service_unavailable("loading").status, 503);
  EXPECT_EQ(internal_error("x").status, 500);
  const ApiError ctx = context_length_exceeded(4096, 4000, 200, "messages");
  EXPECT_EQ(ctx.status, 400);
  EXPECT_EQ(ctx.code, "context_length_exceeded");
  EXPECT_EQ(ctx.param, "messages");
  EXPECT_NE(ctx.message.find("4096"), std::string::npos);
  EXPECT_NE(ctx.message.find("4200"), std::string::npos);
  // A message quoting bad bytes still yields valid JSON.
  EXPECT_TRUE(Json::accept(bad_request("p", "bad \xff byte").body()));
}

TEST(ServerApiResponse, SseFraming) {
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  const std::string ev = sse_event(Json{{"a", "line1\nline2"}});
  EXPECT_EQ(ev, "data: {\"a\":\"line1\\nline2\"}\n\n");
  const std::string err = sse_error(service_unavailable("shutting down"));
  EXPECT_EQ(err.substr(0, 6), "data: ");
  EXPECT_EQ(Json::parse(err.substr(6))["error"]["message"], "shutting down");
  // Invalid UTF-8 in generated text becomes U+FFFD, not an exception.
  const std::string bad = sse_event(chat_chunk_json(kMeta, 0, Json{{"content", "a\xe4"}}, nullptr, "", false));
  EXPECT_NE(bad.find("a\xef\xbf\xbd"), std::string::npos);
}

TEST(ServerApiResponse, ChunkShapes) {
  const Json c = chat_chunk_json(kMeta, 1, Json{{"content", "x"}}, nullptr, "", true);
  EXPECT_EQ(c["object"], "chat.completion.chunk");
  EXPECT_EQ(c["id"], kMeta.id);
  EXPECT_EQ(c["created"], kMeta.created);
  EXPECT_EQ(c["model"], kMeta.model);
  EXPECT_EQ(c["choices"][0]["index"], 1);
  EXPECT_EQ(c["choices"][0]["delta"]["content"], "x");
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(c["choices"][0]["logprobs"].is_null());
  EXPECT_TRUE(c.contains("usage") && c["usage"].is_null());
  EXPECT_FALSE(chat_chunk_json(kMeta, 0, Json::object(), nullptr, "stop", false).contains("usage"));
  const Json t = text_chunk_json(kMeta, 0, "abc", nullptr, "length", false);
  EXPECT_EQ(t["object"], "text_completion");
  EXPECT_EQ(t["choices"][0]["text"], "abc");
  EXPECT_EQ(t["choices"][0]["finish_reason"], "length");
  const Json u = usage_chunk_json(kMeta, "text_completion", Usage{3, 4, 1});
  EXPECT_EQ(u["choices"], Json::array());
  EXPECT_EQ(u["usage"]["total_tokens"], 7);
}

// Runs a chat stream over pieces of generated text; returns the SSE body.
std::string stream(const CommonRequest& r, bool opens_think, const std::vector<std::string>& pieces,
                   const char* stop_reason = "eog") {
  ChatStream s(kMeta, r, opens_think);
  std::string sse;
  for (int c = 0; c < r.n; ++c) sse += s.begin(c);
  for (const std::string& p : pieces)
    for (int c = 0; c < r.n; ++c) sse += s.feed(c, p);
  for (int c = 0; c < r.n; ++c) sse += s.finish(c, stop_reason);
  sse += s.end(Usage{10, 20, 0});
  return sse;
}

TEST(ServerApiResponse, ChatStreamSeparatesReasoning) {
  CommonRequest r;
  r.stream = true;
  r.include_usage = true;
  const std::vector<std::string> pieces = {"Let me", " think.\n</th", "ink>\n\nThe ans", "wer is 4."};
  const std::vector<Json> ev = parse_sse(stream(r, true, pieces));
  ASSERT_GE(ev.size(), 4u);
  EXPECT_EQ(ev[0]["choices"][0]["delta"], (Json{{"role", "assistant"}, {"content", ""}}));
  std::string reasoning, content;
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i]["id"], kMeta.id);
    EXPECT_EQ(ev[i]["created"], kMeta.created);
    EXPECT_EQ(ev[i]["object"], "chat.completion.chunk");
    if (i + 1 < ev.size()) {
      EXPECT_TRUE(ev[i]["usage"].is_null());
      ASSERT_EQ(ev[i]["choices"].size(), 1u);
      const Json& d = ev[i]["choices"][0]["delta"];
      if (i > 0) {
        EXPECT_FALSE(d.contains("role"));
      }
      if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
      if (d.contains("content")) content += d["content"].get<std::string>();
    }
  }
  EXPECT_EQ(reasoning, "Let me think.");
  EXPECT_EQ(content, "The answer is 4.");
  const Json& fin = ev[ev.size() - 2];
  EXPECT_EQ(fin["choices"][0]["delta"], Json::object());
  EXPECT_EQ(fin["choices"][0]["finish_reason"], "stop");
  const Json& usage = ev.back();
  EXPECT_EQ(usage["choices"], Json::array());
  EXPECT_EQ(usage["usage"]["total_tokens"], 30);
  // No reasoning chunk carries content and no chunk but the last carries a finish_reason.
  for (size_t i = 0; i + 2 < ev.size(); ++i) EXPECT_TRUE(ev[i]["choices"][0]["finish_reason"].is_null());
}

TEST(ServerApiResponse, ChatStreamInlineKeepsTheTags) {
  CommonRequest r;
  r.stream = true;
  r.reasoning_format = ReasoningFormat::Inline;
  const std::vector<Json> ev = parse_sse(stream(r, true, {"Hmm.", "\n</think>\n\n", "Yes."}, "length"));
  std::string content;
  for (const Json& e : ev) {
    EXPECT_FALSE(e.contains("usage"));
    EXPECT_FALSE(e["choices"][0]["delta"].contains("reasoning_content"));
    if (e["choices"][0]["delta"].contains("content")) content += e["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(content, "<think>\nHmm.\n</think>\n\nYes.");
  EXPECT_EQ(ev.back()["choices"][0]["finish_reason"], "length");
}

TEST(ServerApiResponse, ChatStreamSeveralChoicesAndLogprobs) {
  CommonRequest r;
  r.stream = true;
  r.n = 2;
  r.logprobs = true;
  ChatStream s(kMeta, r, false);
  std::string sse = s.feed(1, "B", {TokenLogprob{2, "B", -0.5, {}}});  // begins choice 1 by itself
  sse += s.feed(0, "A", {TokenLogprob{1, "A", -0.25, {}}});
  sse += s.feed(0, "", {TokenLogprob{3, "", -1.0, {}}});  // no text yet: its logprob waits
  sse += s.finish(0, "stop");
  sse += s.finish(1, "context");
  sse += s.finish(1, "context");  // a second finish adds nothing
  sse += s.end({});
  const std::vector<Json> ev = parse_sse(sse);
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[0]["choices"][0]["index"], 1);
  EXPECT_EQ(ev[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(ev[1]["choices"][0]["delta"]["content"], "B");
  EXPECT_EQ(ev[1]["choices"][0]["logprobs"]["content"][0]["logprob"], -0.5);
  EXPECT_EQ(ev[2]["choices"][0]["index"], 0);
  EXPECT_EQ(ev[3]["choices"][0]["delta"]["content"], "A");
  EXPECT_EQ(ev[4]["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(ev[4]["choices"][0]["logprobs"]["content"][0]["logprob"], -1.0);
  EXPECT_EQ(ev[5]["choices"][0]["index"], 1);
  EXPECT_EQ(ev[5]["choices"][0]["finish_reason"], "length");
  // Logprobs are left out unless asked for.
  CommonRequest plain;
  ChatStream q(kMeta, plain, false);
  const std::vector<Json> ev2 = parse_sse(q.feed(0, "x", {TokenLogprob{1, "x", -1.0, {}}}), false);
  EXPECT_TRUE(ev2.back()["choices"][0]["logprobs"].is_null());
}

TEST(ServerApiResponse, TokenizeAndDetokenize) {
  auto t = parse_tokenize_request(R"({"content":"Hello world","add_special":true,"with_pieces":true})");
  ASSERT_TRUE(std::holds_alternative<TokenizeRequest>(t));
  const TokenizeRequest& tr = std::get<TokenizeRequest>(t);
  EXPECT_EQ(tr.content, "Hello world");
  EXPECT_TRUE(tr.add_special);
  EXPECT_TRUE(tr.parse_special);
  EXPECT_TRUE(tr.with_pieces);
  const auto bad_tok = [](const char* body, const char* param) {
    auto r = parse_tokenize_request(body);
    ASSERT_TRUE(std::holds_alternative<ApiError>(r)) << body;
    EXPECT_EQ(std::get<ApiError>(r).status, 400);
    EXPECT_EQ(std::get<ApiError>(r).param, param) << body;
  };
  bad_tok("{}", "content");
  bad_tok(R"({"content":5})", "content");
  bad_tok(R"({"content":"x","add_special":"yes"})", "add_special");
  bad_tok(R"({"content":"x","model":1})", "model");
  bad_tok("[1]", "");

  auto d = parse_detokenize_request(R"({"tokens":[1,2,3],"model":"m"})");
  ASSERT_TRUE(std::holds_alternative<DetokenizeRequest>(d));
  EXPECT_EQ(std::get<DetokenizeRequest>(d).tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(std::get<DetokenizeRequest>(d).model, "m");
  for (const auto& [body, param] :
       std::vector<std::pair<const char*, const char*>>{{"{}", "tokens"},
                                                        {R"({"tokens":"1,2"})", "tokens"},
                                                        {R"({"tokens":[1,-2]})", "tokens[1]"},
                                                        {R"({"tokens":[1,"2"]})", "tokens[1]"},
                                                        {R"({"tokens":[3000000000]})", "tokens[0]"}}) {
    auto r = parse_detokenize_request(body);
    ASSERT_TRUE(std::holds_alternative<ApiError>(r)) << body;
    EXPECT_EQ(std::get<ApiError>(r).param, param) << body;
  }
  ASSERT_TRUE(check_token_ids({1, 2, 99}, 50, "tokens"));
  EXPECT_EQ(check_token_ids({1, 2, 99}, 50, "tokens")->param, "tokens[2]");

  EXPECT_EQ(tokenize_response_json({1, 2}, nullptr), (Json{{"tokens", {1, 2}}}));
  const std::vector<std::string> pieces = {"Hi", "\xe4\xbd"};
  EXPECT_EQ(tokenize_response_json({1, 2}, &pieces),
            (Json{{"tokens", {{{"id", 1}, {"piece", "Hi"}}, {{"id", 2}, {"piece", {0xe4, 0xbd}}}}}}));
  EXPECT_EQ(detokenize_response_json("Hi"), (Json{{"content", "Hi"}}));
  EXPECT_TRUE(Json::accept(dump_json(detokenize_response_json("a\xe4"))));
}

}  // namespace
}  // namespace dawn::server
