// Building a request's output constraint (output_constraint.h).
#include "server/output_constraint.h"

#include "text/gbnf.h"
#include "text/grammar_matcher.h"
#include "text/json_schema_grammar.h"
#include "util/error.h"

namespace dawn::server {

namespace {

// Whether text ends with tag, then only whitespace.
bool ends_with_tag(const std::string& text, std::string_view tag) {
  const size_t end = text.find_last_not_of(" \t\r\n");
  return end != std::string::npos && end + 1 >= tag.size() && text.compare(end + 1 - tag.size(), tag.size(), tag) == 0;
}

}  // namespace

std::variant<ConstraintParams, ApiError> request_constraint(const CommonRequest& r, const Vocab& v,
                                                            const std::string& prompt_text) {
  ConstraintParams p;
  if (r.format == OutputFormat::Text) return p;
  std::string gbnf, param;
  try {
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
  } catch (const SchemaError& e) {
    return bad_request(param, std::string("Invalid schema: ") + e.what(), "invalid_schema");
  }
  Grammar g;
  try {
    g = parse_gbnf(gbnf);
  } catch (const Error& e) {
    return bad_request(param, std::string("Invalid grammar: ") + e.what(), "invalid_grammar");
  }
  p.in_reasoning = ends_with_tag(prompt_text, "<think>");
  // A prompt that already closed the think block (Qwen3 with thinking off) leaves none to open.
  p.may_reason = !p.in_reasoning && v.find("<think>") >= 0 && !ends_with_tag(prompt_text, "</think>");
  if (p.in_reasoning || p.may_reason) g = with_leading_whitespace(std::move(g), 4);
  p.reasoning_budget = r.reasoning_budget;
  p.grammar = std::make_shared<CompiledGrammar>(g, v.token_trie(), v.eog_ids());
  return p;
}

}  // namespace dawn::server
