// Server-sent events for streamed completions (see openai_stream.h).
#include "server/openai_stream.h"

namespace dawn::server {

namespace {

using OJson = nlohmann::ordered_json;

OJson null_if_empty(std::string_view s) { return s.empty() ? OJson(nullptr) : OJson(std::string(s)); }

}  // namespace

std::string sse_event(const OJson& j) { return "data: " + dump_json(j) + "\n\n"; }

std::string sse_done() { return "data: [DONE]\n\n"; }

std::string sse_error(const ApiError& e) { return sse_event(e.to_json()); }

OJson chat_chunk_json(const ResponseMeta& meta, int index, OJson delta, OJson logprobs, std::string_view finish_reason,
                      bool include_usage) {
  OJson j = response_head_json(meta, "chat.completion.chunk");
  OJson c = OJson::object();
  c["index"] = index;
  c["delta"] = std::move(delta);
  c["logprobs"] = std::move(logprobs);
  c["finish_reason"] = null_if_empty(finish_reason);
  j["choices"] = OJson::array({std::move(c)});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

OJson text_chunk_json(const ResponseMeta& meta, int index, std::string_view text, OJson logprobs,
                      std::string_view finish_reason, bool include_usage) {
  OJson j = response_head_json(meta, "text_completion");
  OJson c = OJson::object();
  c["text"] = std::string(text);
  c["index"] = index;
  c["logprobs"] = std::move(logprobs);
  c["finish_reason"] = null_if_empty(finish_reason);
  j["choices"] = OJson::array({std::move(c)});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

OJson usage_chunk_json(const ResponseMeta& meta, const char* object, const Usage& usage) {
  OJson j = response_head_json(meta, object);
  j["choices"] = OJson::array();
  j["usage"] = usage_json(usage);
  return j;
}

ChatStream::ChatStream(ResponseMeta meta, const CommonRequest& request, bool template_opens_think)
    : meta_(std::move(meta)),
      format_(request.reasoning_format),
      include_usage_(request.include_usage),
      logprobs_(request.logprobs) {
  for (int i = 0; i < request.n; ++i) {
    Choice c(template_opens_think);
    c.inline_prefix = format_ == ReasoningFormat::Inline && template_opens_think;
    choices_.push_back(std::move(c));
  }
}

ChatStream::Choice& ChatStream::choice(int i) { return choices_.at(size_t(i)); }

std::string ChatStream::begin(int i) {
  Choice& c = choice(i);
  if (c.begun) return "";
  c.begun = true;
  return sse_event(
      chat_chunk_json(meta_, i, OJson{{"role", "assistant"}, {"content", ""}}, nullptr, "", include_usage_));
}

void ChatStream::parse_tool_calls(ToolCallFormat format, uint64_t id_seed) {
  for (size_t i = 0; i < choices_.size(); ++i)
    choices_[i].tools = std::make_unique<ToolCallStream>(format, id_seed + uint64_t(i) * 0x9E3779B97F4A7C15ull);
}

std::string ChatStream::emit(int i, const std::vector<std::pair<ReasoningSplitter::Part, std::string>>& in,
                             bool last) {
  Choice& c = choice(i);
  std::string out;
  // With tool calls parsed, the answer goes through the call parser first: its content stays
  // content, its calls become tool_calls deltas.
  std::vector<std::pair<ReasoningSplitter::Part, std::string>> parts;
  std::vector<OJson> call_deltas;  // in order with parts: a delta replaces an empty Answer part
  const auto on_event = [&](const ToolCallEvent& e) {
    switch (e.kind) {
      case ToolCallEvent::Content:
      case ToolCallEvent::Abort:
        parts.emplace_back(ReasoningSplitter::Answer, std::string(e.text));
        call_deltas.emplace_back(nullptr);
        break;
      case ToolCallEvent::Begin:
        parts.emplace_back(ReasoningSplitter::Answer, "");
        call_deltas.push_back(OJson::array({{{"index", e.index},
                                             {"id", std::string(e.id)},
                                             {"type", "function"},
                                             {"function", {{"name", std::string(e.text)}, {"arguments", ""}}}}}));
        break;
      case ToolCallEvent::Arguments:
        parts.emplace_back(ReasoningSplitter::Answer, "");
        call_deltas.push_back(OJson::array({{{"index", e.index}, {"function", {{"arguments", std::string(e.text)}}}}}));
        break;
      case ToolCallEvent::End:
        c.called = true;
        break;
    }
  };
  for (const auto& [part, text] : in) {
    if (part == ReasoningSplitter::Answer && c.tools) {
      c.tools->feed(text, on_event);
    } else {
      parts.emplace_back(part, text);
      call_deltas.emplace_back(nullptr);
    }
  }
  if (last && c.tools) c.tools->finish(on_event);
  // In text order: adjacent pieces of the same part as one chunk, each call delta a chunk.
  for (size_t k = 0; k < parts.size();) {
    OJson delta;
    if (!call_deltas[k].is_null()) {
      delta = OJson{{"tool_calls", std::move(call_deltas[k])}};
      ++k;
    } else {
      const ReasoningSplitter::Part part = parts[k].first;
      std::string text;
      for (; k < parts.size() && parts[k].first == part && call_deltas[k].is_null(); ++k) text += parts[k].second;
      if (text.empty()) continue;
      delta = OJson{{part == ReasoningSplitter::Reasoning ? "reasoning_content" : "content", text}};
    }
    OJson lp = c.pending.empty() ? OJson(nullptr) : chat_logprobs_json(c.pending);
    c.pending.clear();
    out += sse_event(chat_chunk_json(meta_, i, std::move(delta), std::move(lp), "", include_usage_));
  }
  return out;
}

std::string ChatStream::feed(int i, std::string_view text, const std::vector<TokenLogprob>& tokens) {
  std::string out = begin(i);
  Choice& c = choice(i);
  if (c.finished) return out;
  if (logprobs_) c.pending.insert(c.pending.end(), tokens.begin(), tokens.end());
  std::vector<std::pair<ReasoningSplitter::Part, std::string>> parts;
  if (format_ == ReasoningFormat::Inline) {
    std::string s = c.inline_prefix && !text.empty() ? "<think>\n" : "";
    if (!text.empty()) c.inline_prefix = false;
    s += text;
    parts.emplace_back(ReasoningSplitter::Answer, std::move(s));
  } else {
    c.splitter.feed(text,
                    [&](ReasoningSplitter::Part p, std::string_view t) { parts.emplace_back(p, std::string(t)); });
  }
  out += emit(i, parts, false);
  return out;
}

std::string ChatStream::finish(int i, std::string_view stop_reason) {
  std::string out = begin(i);
  Choice& c = choice(i);
  if (c.finished) return out;
  c.finished = true;
  std::vector<std::pair<ReasoningSplitter::Part, std::string>> parts;
  if (format_ == ReasoningFormat::Separate)
    c.splitter.finish([&](ReasoningSplitter::Part p, std::string_view t) { parts.emplace_back(p, std::string(t)); });
  out += emit(i, parts, true);
  OJson lp = c.pending.empty() ? OJson(nullptr) : chat_logprobs_json(c.pending);
  c.pending.clear();
  const std::string reason = c.called ? "tool_calls" : finish_reason(stop_reason);
  out += sse_event(chat_chunk_json(meta_, i, OJson::object(), std::move(lp), reason, include_usage_));
  return out;
}

std::string ChatStream::end(const Usage& usage) {
  std::string out;
  if (include_usage_) out += sse_event(usage_chunk_json(meta_, "chat.completion.chunk", usage));
  out += sse_done();
  return out;
}

}  // namespace dawn::server
