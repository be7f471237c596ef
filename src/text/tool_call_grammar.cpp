// Tool-call grammars (tool_call_grammar.h).
#include "text/tool_call_grammar.h"

#include <algorithm>
#include <cstdio>

#include "text/json_schema_grammar.h"
#include "util/error.h"

namespace dawn {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A GBNF string literal of text.
std::string literal(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::string prefix_gbnf_rules(const std::string& gbnf, const std::string& prefix) {
  std::string out;
  for (size_t i = 0; i < gbnf.size();) {
    const char c = gbnf[i];
    if (c == '"' || c == '[') {  // copied through, escapes and all
      const char close = c == '"' ? '"' : ']';
      size_t j = i + 1;
      while (j < gbnf.size() && gbnf[j] != close) j += gbnf[j] == '\\' ? 2 : 1;
      out.append(gbnf, i, j + 1 - i);
      i = j + 1;
    } else if (c == '#') {
      while (i < gbnf.size() && gbnf[i] != '\n') out += gbnf[i++];
    } else if (name_char(c)) {  // a rule name, or a repetition count (digits only: kept)
      size_t j = i;
      while (j < gbnf.size() && name_char(gbnf[j])) ++j;
      const bool count = std::all_of(gbnf.begin() + long(i), gbnf.begin() + long(j), [](char d) { return d >= '0' && d <= '9'; });
      if (!count) out += prefix;
      out.append(gbnf, i, j - i);
      i = j;
    } else {
      out += gbnf[i++];
    }
  }
  return out;
}

std::string tool_call_gbnf(ToolCallFormat format, const nlohmann::ordered_json& tools, const std::string& only,
                           bool parallel) {
  if (format == ToolCallFormat::None) throw Error("tools: this model's chat template has no tool-call format");
  std::string rules, calls;
  int n = 0;
  for (const auto& t : tools) {
    const auto& fn = t.at("function");
    const std::string name = fn.at("name").get<std::string>();
    if (!only.empty() && name != only) continue;
    const nlohmann::ordered_json params = fn.contains("parameters") ? fn["parameters"] : nlohmann::ordered_json::object();
    std::string prefix = "t";  // (appended, not "t" + ...: GCC 12 warns falsely on that form)
    prefix += std::to_string(n);
    prefix += '-';
    rules += prefix_gbnf_rules(json_schema_to_gbnf(params), prefix) + "\n";
    const std::string args = prefix + "root";
    std::string call;
    switch (format) {
      case ToolCallFormat::DeepSeek:
        call = literal("<｜tool▁call▁begin｜>function<｜tool▁sep｜>" + name + "\n```json\n") + " " + args + " " +
               literal("\n```<｜tool▁call▁end｜>");
        break;
      case ToolCallFormat::DeepSeekV31:
        call = literal("<｜tool▁call▁begin｜>" + name + "<｜tool▁sep｜>") + " " + args + " " +
               literal("<｜tool▁call▁end｜>");
        break;
      case ToolCallFormat::Qwen:
        call = literal("<tool_call>\n{\"name\": \"" + name + "\", \"arguments\": ") + " " + args + " " +
               literal("}\n</tool_call>");
        break;
      case ToolCallFormat::Llama3:
        call = literal("{\"name\": \"" + name + "\", \"parameters\": ") + " " + args + " " + literal("}");
        break;
      case ToolCallFormat::None:
        break;
    }
    if (n) calls += " | ";
    calls += call;
    ++n;
  }
  if (n == 0) throw Error(only.empty() ? std::string("tools: no function to call") : "tool_choice: no tool named '" + only + "'");
  std::string root;
  const std::string more = parallel ? " call*" : "";
  switch (format) {
    case ToolCallFormat::DeepSeek:
    case ToolCallFormat::DeepSeekV31:
      root = literal("<｜tool▁calls▁begin｜>") + " call" + more + " " + literal("<｜tool▁calls▁end｜>");
      break;
    case ToolCallFormat::Qwen:
      root = parallel ? std::string("call ( \"\\n\" call )*") : std::string("call");
      break;
    default:
      root = parallel ? std::string("call ( \";\" call )*") : std::string("call");
      break;
  }
  std::string out = "root ::= ";
  out += root;
  out += "\ncall ::= ";
  out += calls;
  out += "\n";
  out += rules;
  return out;
}

}  // namespace dawn
