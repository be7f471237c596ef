// OpenAI-shaped response bodies: chat.completion and text_completion objects, usage, logprobs
// in both APIs' shapes, finish reasons, ids, and the /v1/models list. Everything takes plain
// structs the engine fills; nothing here needs the engine.
//
// What the engine must supply:
//   per choice: the generated text (the whole of it; split_for_response separates <think>
//     reasoning), dawn's stop reason ("eog", "stop", "length", "context");
//   per generated token, when the request asked for logprobs: its id, its text (the token's
//     bytes, which may be part of a UTF-8 character), its logprob (natural log of the
//     probability after penalties and temperature, as sampled from), and the top_logprobs most
//     likely alternatives (id, text, logprob), most likely first;
//   per request: prompt tokens, completion tokens, prompt tokens served from the cache, and
//     optionally the completion tokens spent reasoning.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/openai_request.h"
#include "text/reasoning.h"
#include "text/tool_calls.h"

namespace dawn::server {

struct TokenAlternative {
  int32_t id = 0;
  std::string text;
  double logprob = 0;
};

struct TokenLogprob {
  int32_t id = 0;
  std::string text;               // the token's bytes
  std::optional<double> logprob;  // nullopt only for the first prompt token of an echoed prompt
  std::vector<TokenAlternative> top;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;      // prompt tokens whose KV came from the cache
  int64_t reasoning_tokens = -1;  // < 0: not counted (completion_tokens_details left out)
  // Speculative decoding's drafts the replies kept and did not (< 0: the request did not draft),
  // as OpenAI reports predicted outputs.
  int64_t accepted_prediction_tokens = -1, rejected_prediction_tokens = -1;
};

// Who answers: the same id, created and model on every chunk of one response.
struct ResponseMeta {
  std::string id;
  int64_t created = 0;             // unix seconds
  std::string model;               // as the request named it
  std::string system_fingerprint;  // "" leaves it out
};

// prefix + "-" + 32 random hex digits (from the system's CSPRNG): "chatcmpl-...", "cmpl-...".
std::string random_id(std::string_view prefix);
// A new id with that prefix, created now.
ResponseMeta new_response_meta(std::string_view prefix, std::string model, std::string system_fingerprint = "");

// dawn's stop reasons as OpenAI's finish_reason: "eog" and "stop" -> "stop", "length" and
// "context" -> "length". Anything else is a bug in the caller and maps to "stop".
std::string finish_reason(std::string_view stop_reason);

// The text of a token as the logprobs' "token" field shows it: the text itself when it is
// valid UTF-8, else OpenAI's "bytes:\xe2\x80" form (each byte as \xNN); "bytes" carries the
// exact bytes either way.
std::string token_display(std::string_view bytes);

// Generated text as a response carries it: Separate puts <think> reasoning in .reasoning;
// Inline leaves the text whole, adding back the "<think>\n" the prompt opened when the
// template opens it (so the tags in content balance).
ReasoningSplit split_for_response(std::string_view generated, ReasoningFormat format, bool template_opens_think);

// {"id", "object", "created", "model", "system_fingerprint"}: how every response object opens.
nlohmann::ordered_json response_head_json(const ResponseMeta& meta, const char* object);
nlohmann::ordered_json usage_json(const Usage& u);
// {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], "refusal": null}
nlohmann::ordered_json chat_logprobs_json(const std::vector<TokenLogprob>& tokens);
// {"tokens", "token_logprobs", "top_logprobs": [{text: logprob} or null], "text_offset"}.
// Offsets count code points from first_offset (the echoed prompt's length, or the choice's
// start), as Python's string indexes do.
nlohmann::ordered_json completion_logprobs_json(const std::vector<TokenLogprob>& tokens, int64_t first_offset = 0);

struct ChatChoice {
  std::string content;               // "" with tool_calls: content is null
  std::vector<ToolCall> tool_calls;  // parsed from the answer (finish_reason "tool_calls")
  std::string reasoning;             // "" leaves reasoning_content out
  std::string finish_reason;         // OpenAI's: finish_reason(stop_reason)
  bool logprobs = false;             // whether the request asked for them
  std::vector<TokenLogprob> tokens;  // used when logprobs
};

struct TextChoice {
  std::string text;  // with echo: prompt text + completion
  std::string finish_reason;
  bool logprobs = false;
  std::vector<TokenLogprob> tokens;  // with echo: prompt tokens too
};

nlohmann::ordered_json chat_completion_json(const ResponseMeta& meta, const std::vector<ChatChoice>& choices,
                                            const Usage& usage);
nlohmann::ordered_json text_completion_json(const ResponseMeta& meta, const std::vector<TextChoice>& choices,
                                            const Usage& usage);

struct ModelInfo {
  std::string id;
  int64_t created = 0;
  std::string owned_by = "dawn";
};
// GET /v1/models/{id}: {"id", "object": "model", "created", "owned_by"}.
nlohmann::ordered_json model_json(const ModelInfo& m);
// GET /v1/models: {"object": "list", "data": [model, ...]}.
nlohmann::ordered_json model_list_json(const std::vector<ModelInfo>& models);

// Compact JSON text; invalid UTF-8 (a token cut mid-character) becomes U+FFFD instead of throwing.
std::string dump_json(const nlohmann::ordered_json& j);

}  // namespace dawn::server
