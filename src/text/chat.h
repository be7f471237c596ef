// Chat templates: the model's own `tokenizer.chat_template`, or a built-in
// one for the DeepSeek-V3/R1, ChatML (Qwen) and Llama-3 formats.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "formats/gguf.h"
#include "text/jinja.h"
#include "text/tool_calls.h"
#include "text/vocab.h"

namespace dawn {

class ChatTemplate {
 public:
  ChatTemplate(const std::string& source, const Vocab& v, std::string origin);

  // Renders messages (OpenAI-style array) as transformers' apply_chat_template does;
  // tools may be null; extra holds further template variables (e.g. enable_thinking).
  std::string apply(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                    bool add_generation_prompt,
                    const nlohmann::ordered_json& extra = nlohmann::ordered_json::object()) const;

  // "file", "builtin:<name>" or the path of a --chat-template file.
  const std::string& origin() const { return origin_; }
  // The Jinja source.
  const std::string& source() const { return source_; }
  // How the model writes tool calls, as this template renders them (the vocabulary's
  // markers when the template renders none).
  ToolCallFormat tool_call_format() const { return tool_call_format_; }
  // Whether the template opens a <think> block itself after the generation prompt.
  bool opens_think() const { return opens_think_; }

 private:
  std::string bos_, eos_, origin_, source_;
  bool opens_think_ = false;
  ToolCallFormat tool_call_format_ = ToolCallFormat::None;
  std::unique_ptr<jinja::Template> tmpl_;
};

// The Jinja file at template_path when given ("builtin:NAME" for a built-in one), else the
// model's own template, else the built-in one its vocabulary matches; throws Error when there
// is none.
std::unique_ptr<ChatTemplate> load_chat_template(const GgufFile& f, const Vocab& v, const std::string& template_path);

// Source of a built-in template: deepseek-r1, chatml or llama3 ("" if unknown).
std::string builtin_chat_template(const std::string& name);

}  // namespace dawn
