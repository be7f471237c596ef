// Typed, validated OpenAI requests: the bodies of POST /v1/chat/completions and
// POST /v1/completions, parsed into structs, or an ApiError (status 4xx) naming the field,
// the value and what was expected. Unknown fields are ignored (OpenAI clients send extras);
// a null optional field counts as absent. Strings are valid UTF-8 once parsed.
//
// Limits and defaults (OpenAI's unless said otherwise):
//   model                     required, non-empty string
//   max_completion_tokens /   integer >= 1; max_completion_tokens wins when both are given;
//   max_tokens                absent: the caller's default (OpenAI's completions default is 16)
//   temperature               0..2, default 1; 0 samples greedily
//   top_p                     (0, 1], default 1 (off)
//   min_p                     [0, 1], default 0 (off)           -- extension, as llama-server
//   top_k                     integer >= 0, default 0 (off)      -- extension, as llama-server
//   seed                      any integer (negative ones are taken modulo 2^64); absent: the caller's
//   stop                      a string or an array of at most 4 strings, none empty
//   presence_penalty,         -2..2, default 0; counted over the whole token history the
//   frequency_penalty         engine hands the sampler (see sampler_params)
//   logit_bias                object, token-id string -> -100..100 (at most 1024 entries)
//   logprobs, top_logprobs    chat: bool, and 0..20 (needs logprobs: true); completions: logprobs 0..5
//   n                         1..16, default 1
//   stream, stream_options    bool; stream_options.include_usage (bool) needs stream: true
//   user                      string, ignored
//   reasoning_format          "separate" (default): <think> reasoning goes to reasoning_content;
//                             "inline": it stays in content, tags and all  -- dawn extension
//   response_format           {"type": "text"} (default), {"type": "json_object"}, or {"type": "json_schema",
//                             "json_schema": {"name", "schema", "strict"}}: the answer (after any reasoning)
//                             is constrained to JSON / to the schema
//   grammar                   a GBNF grammar for the answer (as llama-server's field; not with a
//                             response_format other than text)  -- extension
//   reasoning_budget          integer >= -1: reasoning tokens before </think> is forced (-1: no cap)  -- extension
//   draft                     "none", "mtp" or "ngram": speculative decoding for this request (absent: the
//                             server's --draft); the reply is the same either way  -- extension
//   draft_n                   integer 0..16: tokens drafted per step (0: the drafter's default)  -- extension
// Chat only: messages, tools, tool_choice, chat_template_kwargs. Completions only: prompt,
// echo, suffix (refused), best_of (only 1).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "engine/sampler.h"
#include "engine/speculative.h"
#include "server/api_error.h"

namespace dawn::server {

enum class ReasoningFormat { Separate, Inline };
enum class OutputFormat { Text, JsonObject, JsonSchema, Grammar };

// The fields chat and text completions share.
struct CommonRequest {
  std::string model;
  std::optional<int> max_tokens;  // max_completion_tokens, else max_tokens
  double temperature = 1.0;
  double top_p = 1.0;
  double min_p = 0.0;
  int top_k = 0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  // (token id, bias) sorted by id, ids unique; ids are not checked against a vocabulary here
  // (check_token_ids does). The engine adds each bias to that token's logit before sampling
  // (-100 in effect bans the token, +100 in effect forces it).
  std::vector<std::pair<int32_t, float>> logit_bias;
  bool logprobs = false;  // return each sampled token's logprob
  int top_logprobs = 0;   // and this many alternatives per position (0..20)
  int n = 1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  ReasoningFormat reasoning_format = ReasoningFormat::Separate;
  OutputFormat format = OutputFormat::Text;
  nlohmann::ordered_json schema;  // JsonSchema: response_format.json_schema.schema as sent
  std::string grammar;            // Grammar: the GBNF text
  int reasoning_budget = -1;
  std::optional<DraftKind> draft;
  std::optional<int> draft_n;
};

struct ChatRequest : CommonRequest {
  // Normalized for ChatTemplate::apply: each {role, content, and name / tool_calls /
  // tool_call_id / reasoning_content when given}; "developer" becomes "system"; text-part
  // arrays are joined with "\n" into one string; content stays null only for an assistant
  // message with tool_calls.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;        // null or the array as sent (each checked to be a function tool)
  nlohmann::ordered_json tool_choice;  // null, "none" / "auto" / "required", or {type:function, function:{name}}
  nlohmann::ordered_json chat_template_kwargs = nlohmann::ordered_json::object();  // extra template variables
};

struct CompletionRequest : CommonRequest {
  // Either text (prompt_is_tokens false) or token ids.
  std::string prompt;
  std::vector<int32_t> prompt_tokens;
  bool prompt_is_tokens = false;
  bool echo = false;
  // logprobs is the completions API's integer: logprobs true and top_logprobs = that integer.
};

using ChatParse = std::variant<ChatRequest, ApiError>;
using CompletionParse = std::variant<CompletionRequest, ApiError>;

// Never throws for any body (bad input of any kind is an ApiError with status 400); only
// std::bad_alloc can escape.
ChatParse parse_chat_request(std::string_view body);
CompletionParse parse_completion_request(std::string_view body);

// The sampler settings a request asks for. seed_if_absent: the caller's (e.g. random) seed.
// Penalties count the whole history given to the sampler (penalty_last_n = -1); OpenAI counts
// the tokens generated so far, so an engine wanting OpenAI's exact behaviour hands the
// sampler the generated tokens only. logit_bias is not a SamplerParams field: the engine applies it.
SamplerParams sampler_params(const CommonRequest& r, uint64_t seed_if_absent);

// The drafter a request runs: its `draft` (with `draft_n`, else that drafter's default count), else
// the server's default (`server`, with the request's `draft_n` if given). A 400 naming the field
// for mtp on a server that keeps no MTP rows (started without --draft mtp) or a count the drafter
// cannot make.
std::variant<DraftParams, ApiError> request_draft(const CommonRequest& r, const DraftParams& server);

// The first token id in ids that is not below n_vocab, as a 400 naming param[i]; nullopt when all
// are in range. For logit_bias (param "logit_bias"), prompt_tokens ("prompt") and /detokenize.
std::optional<ApiError> check_token_ids(const std::vector<int32_t>& ids, int n_vocab, const std::string& param);
std::optional<ApiError> check_token_ids(const CommonRequest& r, int n_vocab);      // logit_bias
std::optional<ApiError> check_token_ids(const CompletionRequest& r, int n_vocab);  // and prompt_tokens

}  // namespace dawn::server
