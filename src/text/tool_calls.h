// Tool calls in generated text, per model family: which format a chat template asks for, call
// ids, and a streaming parser (with a whole-text parse on top) that splits the text into
// content and calls in OpenAI's shape.
//
// Formats (what the model writes):
//   DeepSeek
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>
//                ... more calls, optionally newline-separated ... <｜tool▁calls▁end｜>
//                (V3, R1 and the R1 distills; the outer calls-begin may be missing, the markers
//                may be spelled with _, space or \_ for ▁, the final calls-end may be missing)
//   DeepSeekV31
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>ARGS<｜tool▁call▁end｜>...<｜tool▁calls▁end｜>
//                (both DeepSeek formats accept both call layouts: the text after the separator
//                tells them apart, so a model whose template was swapped still parses)
//   Qwen         <tool_call>\n{"name": NAME, "arguments": ARGS}\n</tool_call> ... (Hermes style)
//   Llama3       {"name": NAME, "parameters": ARGS} as the answer itself (or after <|python_tag|>),
//                several separated by ';' or newlines; "arguments" is accepted for "parameters"
//
// Rules shared by all formats:
//   - ARGS must be a JSON object; `arguments` is its compact text: the bytes as written minus
//     the whitespace between tokens (numbers, escapes and key order untouched), for the
//     DeepSeek fences as for the others, so the same call reads the same in every family.
//   - Text outside calls is content. Whitespace next to call syntax (before an opener, between
//     and after calls) is dropped; text without calls is returned unchanged.
//   - A call that does not parse (bad JSON, arguments that are no object, a missing name, a
//     marker spelled some other way, text cut off inside a call) is no call: it and all text
//     after it are content, byte for byte. Calls completed before it stay calls.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dawn {

class Vocab;

enum class ToolCallFormat : uint8_t { None, DeepSeek, DeepSeekV31, Qwen, Llama3 };

// "none", "deepseek", "deepseek-v3.1", "qwen", "llama3".
const char* tool_call_format_name(ToolCallFormat f);

// The format a chat template renders assistant tool calls in (None if it renders none).
ToolCallFormat detect_tool_call_format(const std::string& template_source);
// The same, falling back on the vocabulary's special tokens when the template shows no format
// (a DeepSeek vocabulary gives DeepSeek, <tool_call> Qwen, <|python_tag|> Llama3).
ToolCallFormat detect_tool_call_format(const std::string& template_source, const Vocab& v);

struct ToolCall {
  std::string id;  // "call_" + 24 letters and digits
  std::string name;
  std::string arguments;  // compact JSON object text (OpenAI's function.arguments)
  bool operator==(const ToolCall&) const = default;
};

struct ParsedToolCalls {
  std::string content;
  std::vector<ToolCall> calls;
  bool operator==(const ParsedToolCalls&) const = default;
};

// The id of the index-th call of an answer: "call_" + 24 random-looking alphanumerics, a hash
// of (seed, index). The caller picks the seed (per request); the same pair gives the same id.
std::string tool_call_id(uint64_t seed, size_t index);

// What the streaming parser emits, in text order.
struct ToolCallEvent {
  enum Kind : uint8_t {
    Content,    // text: content that is certainly no part of a call
    Begin,      // a call starts: index, id, name (text); once per call
    Arguments,  // text: the next piece of the call's arguments (never splits a UTF-8 character)
    End,        // the call is complete; its joined Arguments are valid JSON
    Abort,      // the call that began at index did not parse after all: forget it; text (its
                // raw text, with the whitespace dropped before its opener) is content, as is
                // all text after it
  };
  Kind kind;
  size_t index = 0;       // the call's 0-based position in the answer (all but Content)
  std::string_view text;  // Content, Arguments, Abort: the text; Begin: the name
  std::string_view id;    // Begin
};

// Incremental parser: feed the text as it is generated, in pieces split anywhere (inside a
// marker, a JSON token or a UTF-8 character). Holds back only what may still turn out to be
// call syntax: a possible marker prefix, whitespace that may precede one, an unfinished UTF-8
// character, and a call's name until it is complete. The events of any split of a text are
// the same calls and content as parse_tool_calls gives for it.
class ToolCallStream {
 public:
  using Sink = std::function<void(const ToolCallEvent&)>;

  explicit ToolCallStream(ToolCallFormat format, uint64_t id_seed = 0);
  ~ToolCallStream();
  ToolCallStream(ToolCallStream&&) noexcept;
  ToolCallStream& operator=(ToolCallStream&&) noexcept;

  void feed(std::string_view piece, const Sink& sink);
  // The text ended: resolves what was held back (an unfinished call becomes content).
  // Feed nothing after it.
  void finish(const Sink& sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Applies events to a ParsedToolCalls, as a non-streaming response needs them.
class ToolCallCollector {
 public:
  void operator()(const ToolCallEvent& e);
  const ParsedToolCalls& result() const { return r_; }
  ParsedToolCalls take() { return std::move(r_); }

 private:
  ParsedToolCalls r_;
};

// The whole text at once (ToolCallStream fed once, then finished).
ParsedToolCalls parse_tool_calls(ToolCallFormat format, std::string_view text, uint64_t id_seed = 0);

}  // namespace dawn
