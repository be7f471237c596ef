#include "text/chat.h"

#include "util/error.h"
#include "util/file.h"

namespace dawn {

namespace {

// DeepSeek-R1 format (also V3 and the R1 distills): reasoning of earlier turns is
// dropped from history and the generation prompt opens a <think> block.
const char* const kDeepseekR1 = R"TMPL({%- set ns = namespace(system='', first_call=true, in_tools=false) -%}
{%- for m in messages if m.role == 'system' -%}
  {%- set ns.system = ns.system + ('\n\n' if ns.system else '') + m.content -%}
{%- endfor -%}
{{- bos_token ~ ns.system -}}
{%- for m in messages -%}
  {%- if m.role == 'user' -%}
    {%- set ns.in_tools = false -%}
    {{- '<｜User｜>' ~ m.content -}}
  {%- elif m.role == 'assistant' -%}
    {%- set content = m.content if m.content is string else '' -%}
    {%- if '</think>' in content -%}{%- set content = content.split('</think>')[-1] | trim -%}{%- endif -%}
    {%- if ns.in_tools -%}
      {{- '<｜tool▁outputs▁end｜>' -}}
      {%- set ns.in_tools = false -%}
    {%- else -%}
      {{- '<｜Assistant｜>' -}}
    {%- endif -%}
    {{- content -}}
    {%- if m.tool_calls -%}
      {{- '<｜tool▁calls▁begin｜>' -}}
      {%- for call in m.tool_calls -%}
        {%- set f = call.function if call.function is defined else call -%}
        {%- set args = f.arguments if f.arguments is string else (f.arguments | tojson) -%}
        {{- ('\n' if not loop.first else '') ~ '<｜tool▁call▁begin｜>' ~ (call.type or 'function') ~ '<｜tool▁sep｜>' ~ f.name ~ '\n```json\n' ~ args ~ '\n```<｜tool▁call▁end｜>' -}}
      {%- endfor -%}
      {{- '<｜tool▁calls▁end｜>' -}}
    {%- endif -%}
    {{- '<｜end▁of▁sentence｜>' -}}
  {%- elif m.role == 'tool' -%}
    {%- if not ns.in_tools -%}
      {{- '<｜tool▁outputs▁begin｜>' -}}
      {%- set ns.in_tools = true -%}
    {%- else -%}
      {{- '\n' -}}
    {%- endif -%}
    {{- '<｜tool▁output▁begin｜>' ~ m.content ~ '<｜tool▁output▁end｜>' -}}
  {%- endif -%}
{%- endfor -%}
{%- if ns.in_tools -%}{{- '<｜tool▁outputs▁end｜>' -}}{%- endif -%}
{%- if add_generation_prompt -%}{{- '<｜Assistant｜><think>\n' -}}{%- endif -%})TMPL";

// ChatML (Qwen2/2.5/3), with Qwen's tool-calling conventions.
const char* const kChatml = R"TMPL({%- if tools -%}
  {{- '<|im_start|>system\n' -}}
  {%- if messages and messages[0].role == 'system' -%}{{- messages[0].content ~ '\n\n' -}}{%- endif -%}
  {{- '# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>' -}}
  {%- for t in tools -%}{{- '\n' ~ (t | tojson) -}}{%- endfor -%}
  {{- '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' -}}
{%- elif messages and messages[0].role == 'system' -%}
  {{- '<|im_start|>system\n' ~ messages[0].content ~ '<|im_end|>\n' -}}
{%- endif -%}
{%- for m in messages -%}
  {%- if m.role == 'user' or (m.role == 'system' and not loop.first) -%}
    {{- '<|im_start|>' ~ m.role ~ '\n' ~ m.content ~ '<|im_end|>\n' -}}
  {%- elif m.role == 'assistant' -%}
    {{- '<|im_start|>assistant\n' ~ (m.content if m.content is string else '') -}}
    {%- for call in (m.tool_calls or []) -%}
      {%- set f = call.function if call.function is defined else call -%}
      {{- '\n<tool_call>\n{"name": "' ~ f.name ~ '", "arguments": ' ~ (f.arguments if f.arguments is string else (f.arguments | tojson)) ~ '}\n</tool_call>' -}}
    {%- endfor -%}
    {{- '<|im_end|>\n' -}}
  {%- elif m.role == 'tool' -%}
    {%- if loop.first or messages[loop.index0 - 1].role != 'tool' -%}{{- '<|im_start|>user' -}}{%- endif -%}
    {{- '\n<tool_response>\n' ~ m.content ~ '\n</tool_response>' -}}
    {%- if loop.last or messages[loop.index0 + 1].role != 'tool' -%}{{- '<|im_end|>\n' -}}{%- endif -%}
  {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%})TMPL";

// Llama 3 headers; tool results use Llama 3.1's ipython role.
const char* const kLlama3 = R"TMPL({{- bos_token -}}
{%- for m in messages -%}
  {%- set role = 'ipython' if m.role == 'tool' else m.role -%}
  {{- '<|start_header_id|>' ~ role ~ '<|end_header_id|>\n\n' -}}
  {%- if m.tool_calls -%}
    {%- for call in m.tool_calls -%}
      {%- set f = call.function if call.function is defined else call -%}
      {{- '{"name": "' ~ f.name ~ '", "parameters": ' ~ (f.arguments if f.arguments is string else (f.arguments | tojson)) ~ '}' -}}
    {%- endfor -%}
  {%- else -%}
    {{- m.content | trim -}}
  {%- endif -%}
  {{- '<|eot_id|>' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}{%- endif -%})TMPL";

std::string pick_builtin(const Vocab& v) {
  if (v.find("<｜Assistant｜>") >= 0) return "deepseek-r1";
  if (v.find("<|im_start|>") >= 0) return "chatml";
  if (v.find("<|start_header_id|>") >= 0) return "llama3";
  return "";
}

}  // namespace

std::string builtin_chat_template(const std::string& name) {
  if (name == "deepseek-r1") return kDeepseekR1;
  if (name == "chatml") return kChatml;
  if (name == "llama3") return kLlama3;
  return "";
}

ChatTemplate::ChatTemplate(const std::string& source, const Vocab& v, std::string origin)
    : origin_(std::move(origin)), source_(source) {
  if (v.bos() >= 0) bos_ = v.token(v.bos());
  if (v.eos() >= 0) eos_ = v.token(v.eos());
  tmpl_ = std::make_unique<jinja::Template>(source);
  tool_call_format_ = detect_tool_call_format(source, v);
  // Does the generation prompt already open the reasoning block (R1, QwQ)?
  try {
    std::string probe = apply(nlohmann::ordered_json::array({{{"role", "user"}, {"content", "x"}}}), nullptr, true);
    while (!probe.empty() && std::isspace(uint8_t(probe.back()))) probe.pop_back();
    opens_think_ = probe.size() >= 7 && probe.compare(probe.size() - 7, 7, "<think>") == 0;
  } catch (const Error&) {
    // A template that rejects the probe conversation still renders real ones.
  }
}

std::unique_ptr<ChatTemplate> load_chat_template(const GgufFile& f, const Vocab& v, const std::string& template_path) {
  if (template_path.rfind("builtin:", 0) == 0) {
    const std::string src = builtin_chat_template(template_path.substr(8));
    if (src.empty())
      throw Error("--chat-template " + template_path + ": no such built-in template (deepseek-r1, chatml, llama3)");
    return std::make_unique<ChatTemplate>(src, v, template_path);
  }
  if (!template_path.empty()) return std::make_unique<ChatTemplate>(read_file(template_path), v, template_path);
  if (f.find("tokenizer.chat_template"))
    return std::make_unique<ChatTemplate>(f.get_str("tokenizer.chat_template"), v, "file");
  const std::string name = pick_builtin(v);
  if (name.empty()) {
    f.fail("key 'tokenizer.chat_template'",
           "is missing and the vocabulary matches no built-in format (deepseek-r1, chatml, llama3)");
  }
  return std::make_unique<ChatTemplate>(builtin_chat_template(name), v, "builtin:" + name);
}

std::string ChatTemplate::apply(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                bool add_generation_prompt, const nlohmann::ordered_json& extra) const {
  if (!messages.is_array()) throw Error("chat: messages must be a JSON array");
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = messages;
  ctx["tools"] = tools;
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = add_generation_prompt;
  if (!bos_.empty()) ctx["bos_token"] = bos_;
  if (!eos_.empty()) ctx["eos_token"] = eos_;
  if (extra.is_object())
    for (const auto& [k, val] : extra.items()) ctx[k] = val;
  return tmpl_->render(ctx);
}

}  // namespace dawn
