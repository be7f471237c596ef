#include "text/reasoning.h"

#include <algorithm>

namespace dawn {

namespace {

constexpr std::string_view kOpen = "<think>", kClose = "</think>";

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Length of the longest suffix of s that is a proper prefix of tag.
size_t partial_tag(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

}  // namespace

void ReasoningSplitter::feed(std::string_view text, const Sink& sink) {
  held_.append(text);
  while (!held_.empty()) {
    if (at_start_) {  // drop leading whitespace of a part
      const size_t k =
          size_t(std::find_if(held_.begin(), held_.end(), [](char c) { return !is_ws(c); }) - held_.begin());
      held_.erase(0, k);
      if (held_.empty()) return;
    }
    if (maybe_open_) {
      if (held_.size() < kOpen.size() && kOpen.substr(0, held_.size()) == held_) return;  // could still be <think>
      maybe_open_ = false;
      if (held_.compare(0, kOpen.size(), kOpen) == 0) {
        held_.erase(0, kOpen.size());
        in_reasoning_ = true;
        at_start_ = true;
        continue;
      }
    }
    const Part part = in_reasoning_ ? Reasoning : Answer;
    if (!in_reasoning_) {  // the answer runs to the end: no tags to look for
      sink(part, held_);
      held_.clear();
      at_start_ = false;
      return;
    }
    const size_t close = held_.find(kClose);
    if (close != std::string::npos) {
      size_t end = close;
      while (end > 0 && is_ws(held_[end - 1])) --end;  // whitespace before </think>
      if (end > 0) sink(part, std::string_view(held_).substr(0, end));
      held_.erase(0, close + kClose.size());
      in_reasoning_ = false;
      at_start_ = true;
      continue;
    }
    // Hold back a possible partial </think> and trailing whitespace (it may precede the tag).
    size_t keep = partial_tag(held_, kClose);
    size_t end = held_.size() - keep;
    while (end > 0 && is_ws(held_[end - 1])) --end;
    if (end > 0) {
      sink(part, std::string_view(held_).substr(0, end));
      held_.erase(0, end);
      at_start_ = false;
    }
    return;
  }
}

void ReasoningSplitter::finish(const Sink& sink) {
  if (maybe_open_ && !held_.empty()) {  // an unfinished "<thi" is answer text after all
    maybe_open_ = false;
    sink(Answer, held_);
  } else if (!held_.empty() && !in_reasoning_) {
    sink(Answer, held_);
  } else if (!held_.empty()) {
    size_t end = held_.size();
    while (end > 0 && is_ws(held_[end - 1])) --end;
    if (end > 0) sink(Reasoning, std::string_view(held_).substr(0, end));
  }
  held_.clear();
}

ReasoningSplit split_reasoning(std::string_view text, bool in_reasoning) {
  ReasoningSplit r;
  ReasoningSplitter s(in_reasoning);
  const auto sink = [&](ReasoningSplitter::Part p, std::string_view t) {
    (p == ReasoningSplitter::Reasoning ? r.reasoning : r.answer).append(t);
  };
  s.feed(text, sink);
  s.finish(sink);
  return r;
}

bool ends_with_tag(std::string_view text, std::string_view tag) {
  const size_t end = text.find_last_not_of(" \t\r\n");
  return end != std::string_view::npos && end + 1 >= tag.size() && text.substr(end + 1 - tag.size(), tag.size()) == tag;
}

}  // namespace dawn
