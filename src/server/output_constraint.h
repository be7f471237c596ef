// The grammar a request's answer is held to — response_format (json_object, json_schema) or a
// GBNF `grammar` — compiled for the model's vocabulary, with the reasoning left free: a prompt
// that ends inside <think> starts the grammar after </think>; in chat, a model whose vocabulary
// has <think> may open one itself. Bad schemas and grammars are 400s naming the field.
#pragma once
#include <string>
#include <variant>

#include "engine/constraint.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "text/tool_calls.h"
#include "text/vocab.h"

namespace dawn::server {

// ConstraintParams with a null grammar for plain text. chat (null for completions) brings its
// tools: tool_choice "required" or a named function holds the answer to a call of the
// template's format (tools_format) with arguments that fit the function's parameters.
std::variant<ConstraintParams, ApiError> request_constraint(const CommonRequest& r, const ChatRequest* chat,
                                                            ToolCallFormat tools_format, const Vocab& v,
                                                            const std::string& prompt_text);

// Whether the answers of this request are parsed for tool calls.
bool parses_tool_calls(const ChatRequest& c, ToolCallFormat tools_format);

}  // namespace dawn::server
