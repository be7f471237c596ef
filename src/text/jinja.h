// A Jinja2 subset for chat templates, configured as Hugging Face transformers
// runs them (trim_blocks, lstrip_blocks, loop controls, tojson without HTML
// escaping, raise_exception, strftime_now). Covers what the DeepSeek, Qwen and
// Llama templates use: if/elif/else, for (loop.*, else, filters, unpacking),
// set (incl. namespace attributes and blocks), macros, break/continue, filters, tests,
// Python string/dict methods, slicing, inline if, whitespace control.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace dawn::jinja {

class Template {
 public:
  // Throws Error("chat template: line N: ...") for syntax it cannot parse.
  explicit Template(const std::string& source);
  ~Template();
  Template(Template&&) noexcept;
  // context: a JSON object whose keys become template variables. Throws Error
  // for runtime errors, including the template's own raise_exception().
  std::string render(const nlohmann::ordered_json& context) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dawn::jinja
