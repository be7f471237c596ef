// Building a request's output constraint (output_constraint.h).
#include "server/output_constraint.h"

#include <list>
#include <mutex>

#include "text/gbnf.h"
#include "text/grammar_matcher.h"
#include "text/json_schema_grammar.h"
#include "text/reasoning.h"
#include "text/tool_call_grammar.h"
#include "util/error.h"

namespace dawn::server {

namespace {

// Compiled grammars kept for the next requests that ask for the same one (an application sends
// the same schema again and again): their per-frame caches are filled already, so the first
// tokens of a string or a number cost microseconds, not the milliseconds of a first walk.
std::shared_ptr<CompiledGrammar> compiled(const Vocab& v, const std::string& key, const Grammar& g) {
  constexpr size_t kKeep = 32;
  static std::mutex mu;
  static std::list<std::pair<std::string, std::shared_ptr<CompiledGrammar>>> lru;
  const std::string k = std::to_string(reinterpret_cast<uintptr_t>(&v)) + "\n" + key;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = lru.begin(); it != lru.end(); ++it) {
      if (it->first == k) {
        lru.splice(lru.begin(), lru, it);
        return lru.front().second;
      }
    }
  }
  auto c = std::make_shared<CompiledGrammar>(g, v.token_trie(), v.eog_ids());
  std::lock_guard<std::mutex> lock(mu);
  lru.emplace_front(k, c);
  if (lru.size() > kKeep) lru.pop_back();
  return c;
}

}  // namespace

bool parses_tool_calls(const ChatRequest& c, ToolCallFormat tools_format) {
  return tools_format != ToolCallFormat::None && c.tools.is_array() && !c.tools.empty() &&
         !(c.tool_choice.is_string() && c.tool_choice == "none");
}

std::variant<ConstraintParams, ApiError> request_constraint(const CommonRequest& r, const ChatRequest* chat,
                                                            ToolCallFormat tools_format, const Vocab& v,
                                                            const std::string& prompt_text) {
  ConstraintParams p;
  // tool_choice "required" or {"type": "function", "function": {"name"}}: a call is enforced.
  std::string forced_tool;
  bool call_required = false;
  if (chat && chat->tools.is_array() && !chat->tools.empty()) {
    const auto& tc = chat->tool_choice;
    if (tc.is_string() && tc == "required") call_required = true;
    if (tc.is_object()) {
      call_required = true;
      forced_tool = tc["function"]["name"].get<std::string>();
    }
  }
  if (call_required && r.format != OutputFormat::Text) {
    return bad_request("tool_choice", "tool_choice \"required\" or a named function cannot be combined with a "
                                      "response_format or grammar", "unsupported_value");
  }
  if (call_required && tools_format == ToolCallFormat::None) {
    return bad_request("tool_choice", "this model's chat template has no tool-call format, so no call can be "
                                      "enforced", "unsupported_value");
  }
  if (r.format == OutputFormat::Text && !call_required) return p;
  std::string gbnf, param;
  try {
    if (call_required) {
      param = "tools";
      gbnf = tool_call_gbnf(tools_format, chat->tools, forced_tool, true);
    } else {
      switch (r.format) {
        case OutputFormat::JsonObject:
          param = "response_format";
          gbnf = json_object_gbnf();
          break;
        case OutputFormat::JsonSchema:
          param = "response_format.json_schema.schema";
          gbnf = json_schema_to_gbnf(r.schema);
          break;
        default:
          param = "grammar";
          gbnf = r.grammar;
          break;
      }
    }
  } catch (const SchemaError& e) {
    return bad_request(param, std::string("Invalid schema: ") + e.what(), "invalid_schema");
  } catch (const Error& e) {
    return bad_request(forced_tool.empty() ? param : "tool_choice.function.name", e.what());
  }
  Grammar g;
  try {
    g = parse_gbnf(gbnf);
  } catch (const Error& e) {
    return bad_request(param, std::string("Invalid grammar: ") + e.what(), "invalid_grammar");
  }
  p.in_reasoning = ends_with_tag(prompt_text, "<think>");
  // A prompt that already closed the think block (Qwen3 with thinking off) leaves none to open.
  // (Chat only: a completion's prompt is the caller's own text, held to the grammar from its first token.)
  p.may_reason = chat && !p.in_reasoning && v.find("<think>") >= 0 && !ends_with_tag(prompt_text, "</think>");
  if (p.in_reasoning || p.may_reason) g = with_leading_whitespace(std::move(g), 4);
  p.reasoning_budget = r.reasoning_budget;
  p.grammar = compiled(v, (p.in_reasoning || p.may_reason ? "lead\n" : "\n") + gbnf, g);
  return p;
}

}  // namespace dawn::server
