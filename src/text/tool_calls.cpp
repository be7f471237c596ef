// Tool-call formats: detection from the chat template, call ids, the event collector and the
// whole-text parse (the streaming parser is in tool_call_stream.cpp).
#include "text/tool_calls.h"

#include "text/vocab.h"

namespace dawn {

namespace {

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

const char* tool_call_format_name(ToolCallFormat f) {
  switch (f) {
    case ToolCallFormat::None: return "none";
    case ToolCallFormat::DeepSeek: return "deepseek";
    case ToolCallFormat::DeepSeekV31: return "deepseek-v3.1";
    case ToolCallFormat::Qwen: return "qwen";
    case ToolCallFormat::Llama3: return "llama3";
  }
  return "none";
}

ToolCallFormat detect_tool_call_format(const std::string& src) {
  if (contains(src, "tool▁call▁begin") || contains(src, "tool▁calls▁begin")) {
    // V3 and R1 write the name on its own line and fence the arguments as ```json;
    // V3.1 puts the name before <｜tool▁sep｜> and the bare arguments after it.
    return contains(src, "```json") ? ToolCallFormat::DeepSeek : ToolCallFormat::DeepSeekV31;
  }
  if (contains(src, "<tool_call>")) return ToolCallFormat::Qwen;
  // Llama 3.1-3.3 render calls as {"name": ..., "parameters": ...}; <|python_tag|> opens them.
  if (contains(src, "<|python_tag|>") || (contains(src, "<|start_header_id|>") && contains(src, "\"parameters\"")))
    return ToolCallFormat::Llama3;
  return ToolCallFormat::None;
}

ToolCallFormat detect_tool_call_format(const std::string& src, const Vocab& v) {
  const ToolCallFormat f = detect_tool_call_format(src);
  if (f != ToolCallFormat::None) return f;
  // The R1 distills over Qwen keep Qwen's <tool_call> token too: DeepSeek's markers go first.
  if (v.find("<｜tool▁calls▁begin｜>") >= 0) return ToolCallFormat::DeepSeek;
  if (v.find("<tool_call>") >= 0) return ToolCallFormat::Qwen;
  if (v.find("<|python_tag|>") >= 0) return ToolCallFormat::Llama3;
  return ToolCallFormat::None;
}

std::string tool_call_id(uint64_t seed, size_t index) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  uint64_t state = seed;
  state = splitmix64(state) ^ (uint64_t(index) * 0xD1B54A32D192ED03ull);
  std::string id = "call_";
  for (int k = 0; k < 24; ++k) id += kAlphabet[splitmix64(state) % 62];
  return id;
}

void ToolCallCollector::operator()(const ToolCallEvent& e) {
  switch (e.kind) {
    case ToolCallEvent::Content: r_.content.append(e.text); break;
    case ToolCallEvent::Begin: r_.calls.push_back({std::string(e.id), std::string(e.text), ""}); break;
    case ToolCallEvent::Arguments:
      if (e.index < r_.calls.size()) r_.calls[e.index].arguments.append(e.text);
      break;
    case ToolCallEvent::End: break;
    case ToolCallEvent::Abort:
      if (e.index < r_.calls.size()) r_.calls.resize(e.index);
      r_.content.append(e.text);
      break;
  }
}

ParsedToolCalls parse_tool_calls(ToolCallFormat format, std::string_view text, uint64_t id_seed) {
  ToolCallStream s(format, id_seed);
  ToolCallCollector c;
  const ToolCallStream::Sink sink = [&](const ToolCallEvent& e) { c(e); };
  s.feed(text, sink);
  s.finish(sink);
  return c.take();
}

}  // namespace dawn
