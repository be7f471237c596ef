// OpenAI-shaped response bodies (see openai_response.h).
#include "server/openai_response.h"

#include <openssl/rand.h>

#include <cmath>
#include <ctime>
#include <random>

#include "server/json_fields.h"

namespace dawn::server {

namespace {

using OJson = nlohmann::ordered_json;

// OpenAI writes -9999 where a probability is 0 (JSON has no -inf).
double finite_logprob(double lp) { return std::isfinite(lp) ? lp : -9999.0; }

OJson bytes_json(std::string_view s) {
  OJson a = OJson::array();
  for (char c : s) a.push_back(int(uint8_t(c)));
  return a;
}

}  // namespace

std::string random_id(std::string_view prefix) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    // Ids need only be unique, not secret: fall back to the standard generator.
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    for (unsigned char& c : raw) c = uint8_t(rng());
  }
  static const char hex[] = "0123456789abcdef";
  std::string id(prefix);
  id += '-';
  for (unsigned char c : raw) {
    id += hex[c >> 4];
    id += hex[c & 15];
  }
  return id;
}

ResponseMeta new_response_meta(std::string_view prefix, std::string model, std::string system_fingerprint) {
  return ResponseMeta{random_id(prefix), int64_t(std::time(nullptr)), std::move(model), std::move(system_fingerprint)};
}

std::string finish_reason(std::string_view stop_reason) {
  if (stop_reason == "length" || stop_reason == "context") return "length";
  return "stop";
}

std::string token_display(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  static const char hex[] = "0123456789abcdef";
  std::string out = "bytes:";
  for (char ch : bytes) {
    const uint8_t c = uint8_t(ch);
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

ReasoningSplit split_for_response(std::string_view generated, ReasoningFormat format, bool template_opens_think) {
  if (format == ReasoningFormat::Separate) return split_reasoning(generated, template_opens_think);
  ReasoningSplit s;
  if (template_opens_think) s.answer = "<think>\n";
  s.answer += generated;
  return s;
}

OJson response_head_json(const ResponseMeta& meta, const char* object) {
  OJson j = OJson::object();
  j["id"] = meta.id;
  j["object"] = object;
  j["created"] = meta.created;
  j["model"] = meta.model;
  if (!meta.system_fingerprint.empty()) j["system_fingerprint"] = meta.system_fingerprint;
  return j;
}

OJson usage_json(const Usage& u) {
  OJson j = OJson::object();
  j["prompt_tokens"] = u.prompt_tokens;
  j["completion_tokens"] = u.completion_tokens;
  j["total_tokens"] = u.prompt_tokens + u.completion_tokens;
  j["prompt_tokens_details"] = OJson{{"cached_tokens", u.cached_tokens}};
  if (u.reasoning_tokens >= 0 || u.accepted_prediction_tokens >= 0) {
    OJson d = OJson::object();
    if (u.reasoning_tokens >= 0) d["reasoning_tokens"] = u.reasoning_tokens;
    if (u.accepted_prediction_tokens >= 0) {
      d["accepted_prediction_tokens"] = u.accepted_prediction_tokens;
      d["rejected_prediction_tokens"] = u.rejected_prediction_tokens;
    }
    j["completion_tokens_details"] = d;
  }
  return j;
}

OJson chat_logprobs_json(const std::vector<TokenLogprob>& tokens) {
  OJson content = OJson::array();
  for (const TokenLogprob& t : tokens) {
    OJson e = OJson::object();
    e["token"] = token_display(t.text);
    e["logprob"] = finite_logprob(t.logprob.value_or(0.0));
    e["bytes"] = bytes_json(t.text);
    OJson top = OJson::array();
    for (const TokenAlternative& a : t.top)
      top.push_back(OJson{
          {"token", token_display(a.text)}, {"logprob", finite_logprob(a.logprob)}, {"bytes", bytes_json(a.text)}});
    e["top_logprobs"] = std::move(top);
    content.push_back(std::move(e));
  }
  return OJson{{"content", std::move(content)}, {"refusal", nullptr}};
}

OJson completion_logprobs_json(const std::vector<TokenLogprob>& tokens, int64_t first_offset) {
  OJson toks = OJson::array(), lps = OJson::array(), tops = OJson::array(), offsets = OJson::array();
  int64_t offset = first_offset;
  for (const TokenLogprob& t : tokens) {
    toks.push_back(token_display(t.text));
    if (t.logprob) {
      lps.push_back(finite_logprob(*t.logprob));
      OJson top = OJson::object();
      for (const TokenAlternative& a : t.top) {
        const std::string k = token_display(a.text);
        if (!top.contains(k)) top[k] = finite_logprob(a.logprob);
      }
      tops.push_back(std::move(top));
    } else {
      lps.push_back(nullptr);
      tops.push_back(nullptr);
    }
    offsets.push_back(offset);
    for (char c : t.text)
      if ((uint8_t(c) & 0xC0) != 0x80) ++offset;  // code points: count all but continuation bytes
  }
  OJson j = OJson::object();
  j["tokens"] = std::move(toks);
  j["token_logprobs"] = std::move(lps);
  j["top_logprobs"] = std::move(tops);
  j["text_offset"] = std::move(offsets);
  return j;
}

OJson chat_completion_json(const ResponseMeta& meta, const std::vector<ChatChoice>& choices, const Usage& usage) {
  OJson j = response_head_json(meta, "chat.completion");
  OJson cs = OJson::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChatChoice& c = choices[i];
    OJson msg = OJson::object();
    msg["role"] = "assistant";
    msg["content"] = c.content.empty() && !c.tool_calls.empty() ? OJson(nullptr) : OJson(c.content);
    if (!c.reasoning.empty()) msg["reasoning_content"] = c.reasoning;
    if (!c.tool_calls.empty()) {
      OJson calls = OJson::array();
      for (const ToolCall& t : c.tool_calls) {
        calls.push_back({{"id", t.id}, {"type", "function"}, {"function", {{"name", t.name}, {"arguments", t.arguments}}}});
      }
      msg["tool_calls"] = std::move(calls);
    }
    msg["refusal"] = nullptr;
    OJson choice = OJson::object();
    choice["index"] = i;
    choice["message"] = std::move(msg);
    choice["logprobs"] = c.logprobs ? chat_logprobs_json(c.tokens) : OJson(nullptr);
    choice["finish_reason"] = c.finish_reason;
    cs.push_back(std::move(choice));
  }
  j["choices"] = std::move(cs);
  j["usage"] = usage_json(usage);
  return j;
}

OJson text_completion_json(const ResponseMeta& meta, const std::vector<TextChoice>& choices, const Usage& usage) {
  OJson j = response_head_json(meta, "text_completion");
  OJson cs = OJson::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const TextChoice& c = choices[i];
    OJson choice = OJson::object();
    choice["text"] = c.text;
    choice["index"] = i;
    choice["logprobs"] = c.logprobs ? completion_logprobs_json(c.tokens) : OJson(nullptr);
    choice["finish_reason"] = c.finish_reason;
    cs.push_back(std::move(choice));
  }
  j["choices"] = std::move(cs);
  j["usage"] = usage_json(usage);
  return j;
}

OJson model_json(const ModelInfo& m) {
  return OJson{{"id", m.id}, {"object", "model"}, {"created", m.created}, {"owned_by", m.owned_by}};
}

OJson model_list_json(const std::vector<ModelInfo>& models) {
  OJson data = OJson::array();
  for (const ModelInfo& m : models) data.push_back(model_json(m));
  return OJson{{"object", "list"}, {"data", std::move(data)}};
}

std::string dump_json(const OJson& j) { return j.dump(-1, ' ', false, OJson::error_handler_t::replace); }

}  // namespace dawn::server
