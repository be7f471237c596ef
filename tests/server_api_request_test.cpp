// OpenAI request parsing: every field's valid and invalid forms, with the error's status,
// type, param and code; the sampler mapping; malformed JSON and invalid UTF-8 located by path.
#include <gtest/gtest.h>

#include <string>

#include "server/openai_request.h"
#include "text/chat.h"
#include "text/jinja.h"

namespace dawn::server {
namespace {

const std::string kChat = R"({"model":"m","messages":[{"role":"user","content":"hi"}])";
const std::string kCompletion = R"({"model":"m","prompt":"Once upon")";

// The base body with more fields: chat_with(R"("n":2)").
std::string chat_with(const std::string& fields) { return kChat + (fields.empty() ? "" : "," + fields) + "}"; }
std::string completion_with(const std::string& fields) {
  return kCompletion + (fields.empty() ? "" : "," + fields) + "}";
}

ChatRequest chat_ok(const std::string& body) {
  ChatParse r = parse_chat_request(body);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << body << " -> " << e->body();
    return {};
  }
  return std::get<ChatRequest>(r);
}

CompletionRequest completion_ok(const std::string& body) {
  CompletionParse r = parse_completion_request(body);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << body << " -> " << e->body();
    return {};
  }
  return std::get<CompletionRequest>(r);
}

ApiError chat_err(const std::string& body) {
  ChatParse r = parse_chat_request(body);
  if (!std::holds_alternative<ApiError>(r)) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  return std::get<ApiError>(r);
}

ApiError completion_err(const std::string& body) {
  CompletionParse r = parse_completion_request(body);
  if (!std::holds_alternative<ApiError>(r)) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  return std::get<ApiError>(r);
}

void expect_error(const ApiError& e, const std::string& param, const std::string& code, const std::string& body) {
  EXPECT_EQ(e.status, 400) << body;
  EXPECT_EQ(e.type, "invalid_request_error") << body;
  EXPECT_EQ(e.param, param) << body << " -> " << e.message;
  EXPECT_EQ(e.code, code) << body << " -> " << e.message;
  EXPECT_FALSE(e.message.empty());
  if (!param.empty()) {
    EXPECT_NE(e.message.find(param.substr(0, param.find('['))), std::string::npos) << e.message;
  }
}

TEST(ServerApiRequest, MinimalChatTakesOpenAiDefaults) {
  const ChatRequest r = chat_ok(chat_with(""));
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], (nlohmann::ordered_json{{"role", "user"}, {"content", "hi"}}));
  EXPECT_FALSE(r.max_tokens);
  EXPECT_EQ(r.temperature, 1.0);
  EXPECT_EQ(r.top_p, 1.0);
  EXPECT_EQ(r.min_p, 0.0);
  EXPECT_EQ(r.top_k, 0);
  EXPECT_FALSE(r.seed);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.logprobs);
  EXPECT_EQ(r.reasoning_format, ReasoningFormat::Separate);
  EXPECT_TRUE(r.tools.is_null());
  EXPECT_TRUE(r.tool_choice.is_null());
  EXPECT_TRUE(r.chat_template_kwargs.empty());

  const SamplerParams p = sampler_params(r, 77);
  EXPECT_EQ(p.temp, 1.0f);
  EXPECT_EQ(p.top_k, 0);
  EXPECT_EQ(p.top_p, 1.0f);
  EXPECT_EQ(p.min_p, 0.0f);
  EXPECT_EQ(p.repeat_penalty, 1.0f);
  EXPECT_EQ(p.penalty_last_n, -1);
  EXPECT_EQ(p.seed, 77u);
}

TEST(ServerApiRequest, EveryCommonFieldValid) {
  const ChatRequest r = chat_ok(chat_with(
      R"("max_tokens":50,"temperature":0,"top_p":0.9,"min_p":0.05,"top_k":40,"seed":42,"stop":["\n\n","END"],)"
      R"("presence_penalty":-2,"frequency_penalty":2,"logit_bias":{"50256":-100,"7":100,"0":1.5},)"
      R"("logprobs":true,"top_logprobs":20,"n":16,"stream":true,"stream_options":{"include_usage":true},)"
      R"("user":"u-1","reasoning_format":"inline","response_format":{"type":"text"},"store":false)"));
  EXPECT_EQ(r.max_tokens, 50);
  EXPECT_EQ(r.temperature, 0.0);
  EXPECT_DOUBLE_EQ(r.top_p, 0.9);
  EXPECT_DOUBLE_EQ(r.min_p, 0.05);
  EXPECT_EQ(r.top_k, 40);
  EXPECT_EQ(r.seed, 42u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_EQ(r.presence_penalty, -2.0);
  EXPECT_EQ(r.frequency_penalty, 2.0);
  ASSERT_EQ(r.logit_bias.size(), 3u);
  EXPECT_EQ(r.logit_bias[0], (std::pair<int32_t, float>{0, 1.5f}));
  EXPECT_EQ(r.logit_bias[1], (std::pair<int32_t, float>{7, 100.0f}));
  EXPECT_EQ(r.logit_bias[2], (std::pair<int32_t, float>{50256, -100.0f}));
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 20);
  EXPECT_EQ(r.n, 16);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.reasoning_format, ReasoningFormat::Inline);

  const SamplerParams p = sampler_params(r, 77);
  EXPECT_EQ(p.temp, 0.0f);  // greedy
  EXPECT_EQ(p.top_k, 40);
  EXPECT_FLOAT_EQ(p.top_p, 0.9f);
  EXPECT_FLOAT_EQ(p.min_p, 0.05f);
  EXPECT_EQ(p.presence_penalty, -2.0f);
  EXPECT_EQ(p.frequency_penalty, 2.0f);
  EXPECT_EQ(p.seed, 42u);
}

TEST(ServerApiRequest, BoundaryValuesAreAccepted) {
  for (const char* f : {R"("temperature":2)",
                        R"("top_p":1)",
                        R"("top_p":1e-9)",
                        R"("min_p":0)",
                        R"("min_p":1)",
                        R"("top_k":0)",
                        R"("n":1)",
                        R"("max_tokens":1)",
                        R"("max_tokens":2147483647)",
                        R"("max_tokens":100.0)",
                        R"("presence_penalty":2)",
                        R"("top_logprobs":0)",
                        R"("seed":-1)",
                        R"("seed":18446744073709551615)",
                        R"("stop":[])",
                        R"("stop":null)",
                        R"("temperature":null)",
                        R"("logit_bias":{})",
                        R"("stream":false)",
                        R"("user":"")"}) {
    chat_ok(chat_with(f));
  }
  EXPECT_EQ(chat_ok(chat_with(R"("seed":-1)")).seed, ~uint64_t(0));
  EXPECT_EQ(chat_ok(chat_with(R"("seed":18446744073709551615)")).seed, ~uint64_t(0));
  EXPECT_EQ(chat_ok(chat_with(R"("max_tokens":100.0)")).max_tokens, 100);
}

struct BadCase {
  const char* fields;
  const char* param;
  const char* code;
};

TEST(ServerApiRequest, EveryCommonFieldInvalid) {
  const BadCase cases[] = {
      {R"("max_tokens":0)", "max_tokens", "invalid_value"},
      {R"("max_tokens":-5)", "max_tokens", "invalid_value"},
      {R"("max_tokens":1.5)", "max_tokens", "invalid_type"},
      {R"("max_tokens":"10")", "max_tokens", "invalid_type"},
      {R"("max_tokens":true)", "max_tokens", "invalid_type"},
      {R"("max_tokens":2147483648)", "max_tokens", "invalid_value"},
      {R"("max_tokens":1e400)", "max_tokens", "invalid_value"},
      {R"("max_tokens":99999999999999999999999)", "max_tokens", "invalid_value"},
      {R"("max_completion_tokens":0)", "max_completion_tokens", "invalid_value"},
      {R"("temperature":-0.1)", "temperature", "invalid_value"},
      {R"("temperature":2.0001)", "temperature", "invalid_value"},
      {R"("temperature":"1")", "temperature", "invalid_type"},
      {R"("temperature":1e400)", "temperature", "invalid_value"},
      {R"("temperature":[1])", "temperature", "invalid_type"},
      {R"("top_p":0)", "top_p", "invalid_value"},
      {R"("top_p":1.01)", "top_p", "invalid_value"},
      {R"("min_p":-0.1)", "min_p", "invalid_value"},
      {R"("min_p":1.5)", "min_p", "invalid_value"},
      {R"("top_k":-1)", "top_k", "invalid_value"},
      {R"("top_k":2.5)", "top_k", "invalid_type"},
      {R"("seed":"42")", "seed", "invalid_type"},
      {R"("seed":1.5)", "seed", "invalid_type"},
      {R"("seed":1e300)", "seed", "invalid_value"},
      {R"("stop":"")", "stop", "invalid_value"},
      {R"("stop":5)", "stop", "invalid_type"},
      {R"("stop":["a","b","c","d","e"])", "stop", "invalid_value"},
      {R"("stop":["a",""])", "stop[1]", "invalid_value"},
      {R"("stop":["a",3])", "stop[1]", "invalid_type"},
      {R"("presence_penalty":2.5)", "presence_penalty", "invalid_value"},
      {R"("frequency_penalty":-3)", "frequency_penalty", "invalid_value"},
      {R"("frequency_penalty":{})", "frequency_penalty", "invalid_type"},
      {R"("logit_bias":[1])", "logit_bias", "invalid_type"},
      {R"("logit_bias":{"abc":1})", "logit_bias.abc", "invalid_value"},
      {R"("logit_bias":{"-1":1})", "logit_bias.-1", "invalid_value"},
      {R"("logit_bias":{"01":1})", "logit_bias.01", "invalid_value"},
      {R"("logit_bias":{"1.5":1})", "logit_bias.1.5", "invalid_value"},
      {R"("logit_bias":{"2147483648":1})", "logit_bias.2147483648", "invalid_value"},
      {R"("logit_bias":{"5":101})", "logit_bias.5", "invalid_value"},
      {R"("logit_bias":{"5":-100.5})", "logit_bias.5", "invalid_value"},
      {R"("logit_bias":{"5":"ban"})", "logit_bias.5", "invalid_type"},
      {R"("logprobs":"yes")", "logprobs", "invalid_type"},
      {R"("logprobs":1)", "logprobs", "invalid_type"},
      {R"("logprobs":true,"top_logprobs":21)", "top_logprobs", "invalid_value"},
      {R"("top_logprobs":2)", "top_logprobs", "invalid_value"},
      {R"("logprobs":false,"top_logprobs":2)", "top_logprobs", "invalid_value"},
      {R"("n":0)", "n", "invalid_value"},
      {R"("n":17)", "n", "invalid_value"},
      {R"("n":"2")", "n", "invalid_type"},
      {R"("stream":"true")", "stream", "invalid_type"},
      {R"("stream":1)", "stream", "invalid_type"},
      {R"("stream_options":{"include_usage":true})", "stream_options", "invalid_value"},
      {R"("stream":false,"stream_options":{})", "stream_options", "invalid_value"},
      {R"("stream":true,"stream_options":5)", "stream_options", "invalid_type"},
      {R"("stream":true,"stream_options":{"include_usage":"yes"})", "stream_options.include_usage", "invalid_type"},
      {R"("user":5)", "user", "invalid_type"},
      {R"("reasoning_format":"raw")", "reasoning_format", "invalid_value"},
      {R"("reasoning_format":true)", "reasoning_format", "invalid_type"},
  };
  for (const BadCase& c : cases) {
    const std::string body = chat_with(c.fields);
    expect_error(chat_err(body), c.param, c.code, body);
  }
  // The same common fields on the completions endpoint.
  expect_error(completion_err(completion_with(R"("temperature":3)")), "temperature", "invalid_value", "completions");
  expect_error(completion_err(completion_with(R"("stop":["",""])")), "stop[0]", "invalid_value", "completions");
}

TEST(ServerApiRequest, ModelIsRequired) {
  expect_error(chat_err(R"({"messages":[{"role":"user","content":"hi"}]})"), "model", "missing_required_parameter", "");
  expect_error(chat_err(R"({"model":null,"messages":[{"role":"user","content":"hi"}]})"), "model",
               "missing_required_parameter", "");
  expect_error(chat_err(R"({"model":5,"messages":[{"role":"user","content":"hi"}]})"), "model", "invalid_type", "");
  expect_error(chat_err(R"({"model":"","messages":[{"role":"user","content":"hi"}]})"), "model", "invalid_value", "");
  const ApiError e = chat_err(R"({"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(e.message, "Missing required parameter: 'model'.");
}

TEST(ServerApiRequest, ErrorMessagesNameTheValueAndTheRange) {
  const ApiError e = chat_err(chat_with(R"("temperature":3.5)"));
  EXPECT_EQ(e.message, "Invalid value for 'temperature': expected a number from 0 to 2, got 3.5.");
  const ApiError t = chat_err(chat_with(R"("n":"two")"));
  EXPECT_EQ(t.message, "Invalid type for 'n': expected an integer, got a string (\"two\").");
  const ApiError p = chat_err(chat_with(R"("top_p":0)"));
  EXPECT_EQ(p.message, "Invalid value for 'top_p': expected a number greater than 0 and at most 1, got 0.");
}

TEST(ServerApiRequest, StopAsStringAndList) {
  EXPECT_EQ(chat_ok(chat_with(R"("stop":"###")")).stop, (std::vector<std::string>{"###"}));
  EXPECT_EQ(chat_ok(chat_with(R"("stop":["a","b","c","d"])")).stop, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(chat_ok(chat_with(R"("stop":["\u00e9\n"])")).stop, (std::vector<std::string>{"\xc3\xa9\n"}));
  EXPECT_TRUE(chat_ok(chat_with(R"("stop":[])")).stop.empty());
}

TEST(ServerApiRequest, LogitBias) {
  const ChatRequest r = chat_ok(chat_with(R"("logit_bias":{"2147483647":0.5,"10":-100,"3":100})"));
  ASSERT_EQ(r.logit_bias.size(), 3u);
  EXPECT_EQ(r.logit_bias[0].first, 3);
  EXPECT_EQ(r.logit_bias[1].first, 10);
  EXPECT_EQ(r.logit_bias[1].second, -100.0f);
  EXPECT_EQ(r.logit_bias[2].first, 2147483647);
  // A later duplicate key replaces the earlier one, as JSON parsers do.
  EXPECT_EQ(chat_ok(chat_with(R"("logit_bias":{"4":1,"4":2})")).logit_bias,
            (std::vector<std::pair<int32_t, float>>{{4, 2.0f}}));
  std::string many = R"("logit_bias":{)";
  for (int i = 0; i < 1025; ++i) {
    if (i) many += ',';
    many += '"';
    many += std::to_string(i);
    many += "\":1";
  }
  expect_error(chat_err(chat_with(many + "}")), "logit_bias", "invalid_value", "1025 entries");
  // Against a vocabulary.
  EXPECT_TRUE(check_token_ids(r, 2147483647));
  const ChatRequest small = chat_ok(chat_with(R"("logit_bias":{"5":1,"100":1})"));
  EXPECT_FALSE(check_token_ids(small, 101));
  const std::optional<ApiError> e = check_token_ids(small, 100);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "logit_bias.100");
  EXPECT_NE(e->message.find("0..99"), std::string::npos) << e->message;
}

TEST(ServerApiRequest, MaxTokensAndMaxCompletionTokens) {
  EXPECT_EQ(chat_ok(chat_with(R"("max_tokens":5)")).max_tokens, 5);
  EXPECT_EQ(chat_ok(chat_with(R"("max_completion_tokens":7)")).max_tokens, 7);
  EXPECT_EQ(chat_ok(chat_with(R"("max_tokens":5,"max_completion_tokens":7)")).max_tokens, 7);
  EXPECT_EQ(chat_ok(chat_with(R"("max_completion_tokens":7,"max_tokens":5)")).max_tokens, 7);
  EXPECT_EQ(chat_ok(chat_with(R"("max_tokens":5,"max_completion_tokens":null)")).max_tokens, 5);
  // A bad one is reported even when the other would win.
  expect_error(chat_err(chat_with(R"("max_tokens":0,"max_completion_tokens":7)")), "max_tokens", "invalid_value", "");
  EXPECT_EQ(completion_ok(completion_with(R"("max_tokens":16)")).max_tokens, 16);
}

TEST(ServerApiRequest, MessagesAreValidatedAndNormalized) {
  const ChatRequest r = chat_ok(R"({"model":"m","messages":[
      {"role":"developer","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"one"},{"type":"text","text":"two"}],"name":"bob","extra":1},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"f","arguments":"{}"}}],"reasoning_content":"hm"},
      {"role":"tool","content":"42","tool_call_id":"c1"},
      {"role":"assistant","content":""}]})");
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_EQ(r.messages[0], (nlohmann::ordered_json{{"role", "system"}, {"content", "Be brief."}}));
  EXPECT_EQ(r.messages[1], (nlohmann::ordered_json{{"role", "user"}, {"content", "one\ntwo"}, {"name", "bob"}}));
  EXPECT_TRUE(r.messages[2]["content"].is_null());
  EXPECT_EQ(r.messages[2]["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(r.messages[2]["reasoning_content"], "hm");
  EXPECT_EQ(r.messages[3]["tool_call_id"], "c1");
  EXPECT_EQ(r.messages[4]["content"], "");
}

TEST(ServerApiRequest, MessagesInvalid) {
  const std::string h = R"({"model":"m","messages":)";
  const BadCase cases[] = {
      {"null}", "messages", "missing_required_parameter"},
      {"[]}", "messages", "invalid_value"},
      {R"("hi"})", "messages", "invalid_type"},
      {"[5]}", "messages[0]", "invalid_type"},
      {R"([{"content":"x"}]})", "messages[0].role", "missing_required_parameter"},
      {R"([{"role":"robot","content":"x"}]})", "messages[0].role", "invalid_value"},
      {R"([{"role":"function","content":"x"}]})", "messages[0].role", "invalid_value"},
      {R"([{"role":1,"content":"x"}]})", "messages[0].role", "invalid_type"},
      {R"([{"role":"user"}]})", "messages[0].content", "missing_required_parameter"},
      {R"([{"role":"assistant","content":null}]})", "messages[0].content", "missing_required_parameter"},
      {R"([{"role":"user","content":5}]})", "messages[0].content", "invalid_type"},
      {R"([{"role":"user","content":{"text":"x"}}]})", "messages[0].content", "invalid_type"},
      {R"([{"role":"user","content":"a"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})",
       "messages[1].content[0].type", "unsupported_value"},
      {R"([{"role":"user","content":[{"type":"text"}]}]})", "messages[0].content[0].text",
       "missing_required_parameter"},
      {R"([{"role":"user","content":[{"text":"a"}]}]})", "messages[0].content[0].type", "missing_required_parameter"},
      {R"([{"role":"user","content":[{"type":"text","text":5}]}]})", "messages[0].content[0].text", "invalid_type"},
      {R"([{"role":"user","content":["a"]}]})", "messages[0].content[0]", "invalid_type"},
      {R"([{"role":"user","content":"a","tool_calls":[]}]})", "messages[0].tool_calls", "invalid_value"},
      {R"([{"role":"user","content":"a"},{"role":"assistant","tool_calls":[{"function":{}}]}]})",
       "messages[1].tool_calls[0].function.name", "missing_required_parameter"},
      {R"([{"role":"assistant","tool_calls":{}}]})", "messages[0].tool_calls", "invalid_type"},
      {R"([{"role":"user","content":"a","name":5}]})", "messages[0].name", "invalid_type"},
      {R"([{"role":"tool","content":"a","tool_call_id":[]}]})", "messages[0].tool_call_id", "invalid_type"},
  };
  for (const BadCase& c : cases) {
    const std::string body = h + c.fields;
    expect_error(chat_err(body), c.param, c.code, body);
  }
}

TEST(ServerApiRequest, ToolsToolChoiceAndTemplateKwargs) {
  const ChatRequest r = chat_ok(chat_with(
      R"("tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object"}}}],)"
      R"("tool_choice":{"type":"function","function":{"name":"get_weather"}},)"
      R"("chat_template_kwargs":{"enable_thinking":false,"x":[1,2]})"));
  EXPECT_EQ(r.tools[0]["function"]["name"], "get_weather");
  EXPECT_EQ(r.tool_choice["function"]["name"], "get_weather");
  EXPECT_EQ(r.chat_template_kwargs["enable_thinking"], false);
  for (const char* c : {"none", "auto", "required"})
    EXPECT_EQ(chat_ok(chat_with(std::string(R"("tool_choice":")") + c + "\"")).tool_choice, c);

  const BadCase cases[] = {
      {R"("tools":{})", "tools", "invalid_type"},
      {R"("tools":[5])", "tools[0]", "invalid_type"},
      {R"("tools":[{"type":"retrieval"}])", "tools[0].type", "unsupported_value"},
      {R"("tools":[{"function":{"name":"f"}}])", "tools[0].type", "missing_required_parameter"},
      {R"("tools":[{"type":"function"}])", "tools[0].function", "missing_required_parameter"},
      {R"("tools":[{"type":"function","function":{"name":""}}])", "tools[0].function.name", "invalid_value"},
      {R"("tools":[{"type":"function","function":{"name":"f","parameters":"x"}}])", "tools[0].function.parameters",
       "invalid_type"},
      {R"("tool_choice":"sometimes")", "tool_choice", "invalid_value"},
      {R"("tool_choice":5)", "tool_choice", "invalid_type"},
      {R"("tool_choice":{"type":"function"})", "tool_choice.function.name", "missing_required_parameter"},
      {R"("tool_choice":{"type":"x","function":{"name":"f"}})", "tool_choice.type", "invalid_value"},
      {R"("chat_template_kwargs":[])", "chat_template_kwargs", "invalid_type"},
      {R"("chat_template_kwargs":{"messages":[]})", "chat_template_kwargs.messages", "invalid_value"},
      {R"("chat_template_kwargs":{"add_generation_prompt":false})", "chat_template_kwargs.add_generation_prompt",
       "invalid_value"},
  };
  for (const BadCase& c : cases) {
    const std::string body = chat_with(c.fields);
    expect_error(chat_err(body), c.param, c.code, body);
  }
}

TEST(ServerApiRequest, NormalizedMessagesRenderWithTheChatmlTemplate) {
  const ChatRequest r = chat_ok(R"({"model":"m","messages":[{"role":"developer","content":"S"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]})");
  nlohmann::ordered_json ctx = {{"messages", r.messages}, {"tools", r.tools}, {"add_generation_prompt", true}};
  const std::string out = jinja::Template(builtin_chat_template("chatml")).render(ctx);
  EXPECT_EQ(out, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ServerApiRequest, InvalidUtf8IsLocatedByPath) {
  const std::string body = std::string(R"({"model":"m","messages":[{"role":"user","content":"a"},)") +
                           R"({"role":"assistant","content":"b"},{"role":"user","content":"bad )" + "\xff" +
                           R"( byte"}]})";
  const ApiError e = chat_err(body);
  expect_error(e, "messages[2].content", "invalid_json", "0xff");
  EXPECT_NE(e.message.find("UTF-8"), std::string::npos) << e.message;
  // The error's own JSON is valid whatever the request held.
  EXPECT_TRUE(nlohmann::json::accept(e.body()));

  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"}) {
    const std::string b = chat_with(std::string(R"("stop":["ok","x)") + bad + "\"]");
    expect_error(chat_err(b), "stop[1]", "invalid_json", "utf-8 in stop");
  }
  const ApiError s = chat_err(chat_with(R"("user":"\ud800x")"));
  expect_error(s, "user", "invalid_json", "lone surrogate");
  EXPECT_NE(s.message.find("surrogate"), std::string::npos);
  // In a key: the path is the object holding it.
  expect_error(chat_err(chat_with(std::string("\"stream_options\":{\"\xfe\":1}"))), "stream_options", "invalid_json",
               "key");
}

TEST(ServerApiRequest, MalformedJsonAndWrongBodies) {
  const struct {
    std::string body;
    const char* param;
  } cases[] = {
      {"", ""},
      {"   ", ""},
      {"{", ""},
      {"nul", ""},
      {R"({"model":"m",})", ""},
      {R"({"model":"m","messages":[{"role":"user","content":"hi})", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":"hi"},])", "messages[1]"},
      {R"({"model":"m","temperature":01})", "temperature"},
      {R"({"model":"m","temperature":tru})", "temperature"},
      {R"({"model":'m'})", "model"},
      {"{\"model\":\"m\"}garbage", ""},
  };
  for (const auto& c : cases) expect_error(chat_err(c.body), c.param, "invalid_json", c.body);
  for (const char* body : {"[]", "\"text\"", "42", "null", "true"}) {
    const ApiError e = chat_err(body);
    expect_error(e, "", "invalid_type", body);
    EXPECT_NE(e.message.find("request body"), std::string::npos);
  }
}

TEST(ServerApiRequest, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  const ApiError e = chat_err(chat_with("\"metadata\":" + deep));
  expect_error(
      e,
      "metadata" +
          [] {
            std::string s;
            for (int i = 0; i < 63; ++i) s += "[0]";
            return s;
          }(),
      "invalid_json", "deep");
  EXPECT_NE(e.message.find("deeper than 64"), std::string::npos);
  // A million levels, unbalanced: still a plain 400.
  EXPECT_EQ(chat_err(std::string(1'000'000, '[')).status, 400);
  EXPECT_EQ(chat_err(std::string(1'000'000, '{')).status, 400);
  // Brackets inside strings do not count.
  chat_ok(chat_with("\"user\":\"" + std::string(500, '[') + "\""));
  // 60 levels of an ignored field are fine.
  chat_ok(chat_with("\"metadata\":" + std::string(60, '[') + std::string(60, ']')));
}

TEST(ServerApiRequest, UnknownFieldsAreIgnored) {
  const ChatRequest r = chat_ok(chat_with(
      R"("response_format":{"type":"json_object"},"parallel_tool_calls":true,"metadata":{"a":"b"},"foo":[1,{"x":null}])"));
  EXPECT_EQ(r.model, "m");
}

TEST(ServerApiRequest, CompletionPromptForms) {
  CompletionRequest r = completion_ok(completion_with(""));
  EXPECT_EQ(r.prompt, "Once upon");
  EXPECT_FALSE(r.prompt_is_tokens);
  EXPECT_FALSE(r.logprobs);
  r = completion_ok(R"({"model":"m","prompt":["one"]})");
  EXPECT_EQ(r.prompt, "one");
  r = completion_ok(R"({"model":"m","prompt":""})");
  EXPECT_EQ(r.prompt, "");
  r = completion_ok(R"({"model":"m","prompt":[1,2,3]})");
  EXPECT_TRUE(r.prompt_is_tokens);
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  r = completion_ok(R"({"model":"m","prompt":[[4,5]]})");
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{4, 5}));
  EXPECT_FALSE(check_token_ids(r, 6));
  const std::optional<ApiError> v = check_token_ids(r, 5);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->param, "prompt[1]");

  const BadCase cases[] = {
      {R"("prompt":null)", "prompt", "missing_required_parameter"},
      {R"("prompt":5)", "prompt", "invalid_type"},
      {R"("prompt":[])", "prompt", "invalid_value"},
      {R"("prompt":["a","b"])", "prompt", "unsupported_value"},
      {R"("prompt":[[1],[2]])", "prompt", "unsupported_value"},
      {R"("prompt":[[]])", "prompt[0]", "invalid_value"},
      {R"("prompt":[1,"a"])", "prompt[1]", "invalid_type"},
      {R"("prompt":[-1])", "prompt[0]", "invalid_value"},
      {R"("prompt":[1.5])", "prompt[0]", "invalid_type"},
      {R"("prompt":[[1,[2]]])", "prompt[0][1]", "invalid_type"},
      {R"("prompt":[{"a":1}])", "prompt[0]", "invalid_type"},
  };
  for (const BadCase& c : cases) {
    const std::string body = std::string(R"({"model":"m",)") + c.fields + "}";
    expect_error(completion_err(body), c.param, c.code, body);
  }
}

TEST(ServerApiRequest, CompletionOnlyFields) {
  CompletionRequest r = completion_ok(completion_with(R"("echo":true,"logprobs":3,"suffix":"","best_of":1)"));
  EXPECT_TRUE(r.echo);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  r = completion_ok(completion_with(R"("logprobs":0)"));
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 0);
  EXPECT_FALSE(completion_ok(completion_with(R"("logprobs":null)")).logprobs);

  const BadCase cases[] = {
      {R"("suffix":"def")", "suffix", "unsupported_value"}, {R"("suffix":5)", "suffix", "invalid_type"},
      {R"("echo":"yes")", "echo", "invalid_type"},          {R"("logprobs":6)", "logprobs", "invalid_value"},
      {R"("logprobs":true)", "logprobs", "invalid_type"},   {R"("best_of":2)", "best_of", "unsupported_value"},
      {R"("best_of":0)", "best_of", "invalid_value"},
  };
  for (const BadCase& c : cases) {
    const std::string body = completion_with(c.fields);
    expect_error(completion_err(body), c.param, c.code, body);
  }
  const ApiError s = completion_err(completion_with(R"("suffix":"def")"));
  EXPECT_NE(s.message.find("not supported"), std::string::npos);
  // messages is not a completions field; prompt is not a chat one.
  expect_error(completion_err(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"), "prompt",
               "missing_required_parameter", "");
  expect_error(chat_err(R"({"model":"m","prompt":"x"})"), "messages", "missing_required_parameter", "");
}

}  // namespace
}  // namespace dawn::server
