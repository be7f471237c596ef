// The grammar of a tool-call answer, per template family (text/tool_calls.h), with each
// function's arguments held to its `parameters` schema: what tool_choice "required" or a named
// function enforces. The reasoning before it stays free (engine/constraint.h).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "text/tool_calls.h"

namespace dawn {

// GBNF for one or more calls (one only unless parallel) of the tools (OpenAI's `tools` array:
// {"type": "function", "function": {"name", "parameters"}}), or of the one named `only` when
// not empty. Throws SchemaError for a parameters schema the converter cannot express, Error for
// a format without tool calls or an unknown `only`.
std::string tool_call_gbnf(ToolCallFormat format, const nlohmann::ordered_json& tools, const std::string& only,
                           bool parallel);

// GBNF text with every rule name given a prefix (rule names outside literals and classes).
std::string prefix_gbnf_rules(const std::string& gbnf, const std::string& prefix);

}  // namespace dawn
