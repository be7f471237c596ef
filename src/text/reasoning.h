// Splits R1-style output into reasoning (inside <think>...</think>) and answer,
// as text streams in. The chat REPL shows the two apart; the server's
// `reasoning_content` will come from the same splitter.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace dawn {

class ReasoningSplitter {
 public:
  enum Part { Reasoning, Answer };
  using Sink = std::function<void(Part, std::string_view)>;

  // in_reasoning: the prompt already opened <think> (R1's template does).
  explicit ReasoningSplitter(bool in_reasoning = false) : in_reasoning_(in_reasoning), maybe_open_(!in_reasoning) {}

  // Feeds the next piece of generated text; emits what is certain so far. Whitespace
  // right after <think>, around </think> and before the answer is dropped; a tag split
  // across pieces is held back until it is complete.
  void feed(std::string_view text, const Sink& sink);
  // Emits whatever is still held back.
  void finish(const Sink& sink);

 private:
  std::string held_;
  bool in_reasoning_;
  bool maybe_open_;       // nothing but whitespace seen: a <think> may still open reasoning
  bool at_start_ = true;  // drop leading whitespace of the current part
};

struct ReasoningSplit {
  std::string reasoning, answer;
};
ReasoningSplit split_reasoning(std::string_view text, bool in_reasoning = false);

// Whether text ends with tag and then only whitespace: a prompt that ends inside <think>
// (tag "<think>"), or one whose think block is already closed ("</think>").
bool ends_with_tag(std::string_view text, std::string_view tag);

}  // namespace dawn
