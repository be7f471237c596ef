// Server-sent events for streamed completions: the `data: <json>\n\n` framing, the
// chat.completion.chunk and streamed text_completion objects, the usage chunk and the
// `data: [DONE]` terminator; and ChatStream, which turns a chat request's generated text,
// piece by piece, into those events with <think> reasoning split off as it streams.
//
// A chat stream, per OpenAI: for each choice a first chunk with delta {role: "assistant",
// content: ""}, then chunks with delta {content} or {reasoning_content}, then one with an empty
// delta and the finish_reason; when stream_options.include_usage, every chunk carries
// "usage": null and a last chunk has choices [] and the usage; then data: [DONE].
// An error after the stream has begun is sent as data: {"error": {...}} (sse_error), which
// the openai clients raise as an APIError.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "server/openai_response.h"
#include "text/reasoning.h"
#include "text/tool_calls.h"

namespace dawn::server {

// "data: <json>\n\n" (invalid UTF-8 replaced).
std::string sse_event(const nlohmann::ordered_json& j);
// "data: [DONE]\n\n".
std::string sse_done();
// sse_event(e.to_json()).
std::string sse_error(const ApiError& e);

// One chat.completion.chunk. delta: {"role": ...} / {"content": ...} / {"reasoning_content": ...}
// / {}; logprobs: null or chat_logprobs_json(...); finish_reason: "" is sent as null.
nlohmann::ordered_json chat_chunk_json(const ResponseMeta& meta, int index, nlohmann::ordered_json delta,
                                       nlohmann::ordered_json logprobs, std::string_view finish_reason,
                                       bool include_usage);
// One streamed text_completion: {"choices": [{"text", "index", "logprobs", "finish_reason"}]}.
nlohmann::ordered_json text_chunk_json(const ResponseMeta& meta, int index, std::string_view text,
                                       nlohmann::ordered_json logprobs, std::string_view finish_reason,
                                       bool include_usage);
// The closing chunk of include_usage: choices [] and usage. object: "chat.completion.chunk"
// or "text_completion".
nlohmann::ordered_json usage_chunk_json(const ResponseMeta& meta, const char* object, const Usage& usage);

// The events of one streamed chat completion. Each call returns the SSE text to send now
// (possibly "", e.g. while a tag split across pieces is held back). Choices are 0..n-1 and
// may interleave.
class ChatStream {
 public:
  ChatStream(ResponseMeta meta, const CommonRequest& request, bool template_opens_think);

  // The role chunk; sent by feed/finish too if not called first.
  std::string begin(int choice);
  // The next generated text of a choice and the tokens it came from (their logprobs ride on
  // the next chunk sent; the request's logprobs flag decides whether they are sent at all).
  std::string feed(int choice, std::string_view text, const std::vector<TokenLogprob>& tokens = {});
  // Flushes held-back text, then the finish chunk; stop_reason is dawn's ("eog", "length", ...).
  std::string finish(int choice, std::string_view stop_reason);
  // The usage chunk when the request asked for include_usage, then data: [DONE].
  std::string end(const Usage& usage);

  // Answers are parsed for tool calls in this format from now on (call before the first feed):
  // calls stream as delta.tool_calls (id and name once, then argument pieces) and the finish
  // reason is "tool_calls". A call that turns out malformed after pieces of it went out cannot
  // be taken back: its raw text follows as content.
  void parse_tool_calls(ToolCallFormat format, uint64_t id_seed);

  const ResponseMeta& meta() const { return meta_; }

 private:
  struct Choice {
    explicit Choice(bool in_reasoning) : splitter(in_reasoning) {}
    ReasoningSplitter splitter;
    std::vector<TokenLogprob> pending;
    bool begun = false;
    bool inline_prefix = false;  // Inline format: "<think>\n" still to send
    bool finished = false;
    std::unique_ptr<ToolCallStream> tools;  // when parsing tool calls
    bool called = false;                    // a call completed
  };
  Choice& choice(int i);
  // last: the choice's text has ended (the call parser is flushed).
  std::string emit(int i, const std::vector<std::pair<ReasoningSplitter::Part, std::string>>& parts, bool last);

  ResponseMeta meta_;
  ReasoningFormat format_;
  bool include_usage_, logprobs_;
  std::vector<Choice> choices_;
};

}  // namespace dawn::server
