// Parsing and validation of OpenAI chat and text completion requests (see openai_request.h).
#include "server/openai_request.h"

#include <algorithm>
#include <limits>

#include "server/json_fields.h"
#include "util/error.h"

namespace dawn::server {

namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr size_t kMaxStops = 4;
constexpr size_t kMaxLogitBias = 1024;
constexpr int kMaxChoices = 16;

std::optional<int> read_max_tokens(const Json& b) {
  std::optional<int> chosen;
  // Both are read so a bad one is reported even when the other wins.
  if (const Json* v = find_field(b, "max_tokens")) chosen = int(read_integer(*v, "max_tokens", 1, kMaxInt));
  if (const Json* v = find_field(b, "max_completion_tokens"))
    chosen = int(read_integer(*v, "max_completion_tokens", 1, kMaxInt));
  return chosen;
}

// OpenAI's seed is an integer; dawn's is 64 unsigned bits, so negative seeds wrap.
uint64_t read_seed(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return uint64_t(v.get<int64_t>());
  return uint64_t(read_integer(v, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
}

std::vector<std::string> read_stop(const Json& v) {
  std::vector<std::string> stop;
  if (v.is_string()) {
    if (v.get_ref<const std::string&>().empty())
      fail("stop", "Invalid value for 'stop': a stop string must not be empty.");
    stop.push_back(v.get<std::string>());
    return stop;
  }
  if (!v.is_array()) fail_type("stop", "a string or an array of strings", v);
  if (v.size() > kMaxStops)
    fail("stop", "Invalid value for 'stop': at most " + std::to_string(kMaxStops) + " stop strings, got " +
                     std::to_string(v.size()) + ".");
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string param = index_path("stop", i);
    const std::string& s = read_string(v[i], param);
    if (s.empty()) fail(param, "Invalid value for '" + param + "': a stop string must not be empty.");
    stop.push_back(s);
  }
  return stop;
}

// A token id written as OpenAI writes logit_bias keys: canonical decimal, "0" .. "2147483647".
std::optional<int32_t> token_id_key(const std::string& k) {
  if (k.empty() || k.size() > 10 || (k.size() > 1 && k[0] == '0')) return std::nullopt;
  int64_t x = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return std::nullopt;
    x = x * 10 + (c - '0');
  }
  if (x > kMaxInt) return std::nullopt;
  return int32_t(x);
}

std::vector<std::pair<int32_t, float>> read_logit_bias(const Json& v) {
  read_object(v, "logit_bias");
  if (v.size() > kMaxLogitBias)
    fail("logit_bias", "Invalid value for 'logit_bias': at most " + std::to_string(kMaxLogitBias) + " entries, got " +
                           std::to_string(v.size()) + ".");
  std::vector<std::pair<int32_t, float>> bias;
  for (const auto& [key, val] : v.items()) {
    const std::string param = field_path("logit_bias", printable(key, 32));
    const std::optional<int32_t> id = token_id_key(key);
    if (!id) fail(param, "Invalid value for '" + param + "': the key must be a token id such as \"50256\".");
    bias.emplace_back(*id, float(read_number(val, param, -100, 100)));
  }
  std::sort(bias.begin(), bias.end());
  return bias;
}

void read_output_format(const Json& b, CommonRequest& r);

void read_common(const Json& b, CommonRequest& r, bool chat) {
  const Json* model = find_field(b, "model");
  if (!model) fail("model", "Missing required parameter: 'model'.", "missing_required_parameter");
  r.model = read_string(*model, "model");
  if (r.model.empty()) fail("model", "Invalid value for 'model': expected a model name, got \"\".");
  r.max_tokens = read_max_tokens(b);
  if (const Json* v = find_field(b, "temperature")) r.temperature = read_number(*v, "temperature", 0, 2);
  if (const Json* v = find_field(b, "top_p")) r.top_p = read_number(*v, "top_p", 0, 1, true);
  if (const Json* v = find_field(b, "min_p")) r.min_p = read_number(*v, "min_p", 0, 1);
  if (const Json* v = find_field(b, "top_k")) r.top_k = int(read_integer(*v, "top_k", 0, kMaxInt));
  if (const Json* v = find_field(b, "seed")) r.seed = read_seed(*v);
  if (const Json* v = find_field(b, "stop")) r.stop = read_stop(*v);
  if (const Json* v = find_field(b, "presence_penalty"))
    r.presence_penalty = read_number(*v, "presence_penalty", -2, 2);
  if (const Json* v = find_field(b, "frequency_penalty"))
    r.frequency_penalty = read_number(*v, "frequency_penalty", -2, 2);
  if (const Json* v = find_field(b, "logit_bias")) r.logit_bias = read_logit_bias(*v);
  if (chat) {
    if (const Json* v = find_field(b, "logprobs")) r.logprobs = read_bool(*v, "logprobs");
    if (const Json* v = find_field(b, "top_logprobs")) {
      r.top_logprobs = int(read_integer(*v, "top_logprobs", 0, 20));
      if (r.top_logprobs > 0 && !r.logprobs)
        fail("top_logprobs", "Invalid value for 'top_logprobs': it needs 'logprobs' to be true.");
    }
  } else if (const Json* v = find_field(b, "logprobs")) {
    r.logprobs = true;
    r.top_logprobs = int(read_integer(*v, "logprobs", 0, 5));
  }
  if (const Json* v = find_field(b, "n")) r.n = int(read_integer(*v, "n", 1, kMaxChoices));
  if (const Json* v = find_field(b, "stream")) r.stream = read_bool(*v, "stream");
  if (const Json* v = find_field(b, "stream_options")) {
    read_object(*v, "stream_options");
    if (!r.stream)
      fail("stream_options", "Invalid value for 'stream_options': it is only allowed when 'stream' is true.");
    if (const Json* u = find_field(*v, "include_usage"))
      r.include_usage = read_bool(*u, "stream_options.include_usage");
  }
  if (const Json* v = find_field(b, "user")) read_string(*v, "user");
  read_output_format(b, r);
  if (const Json* v = find_field(b, "reasoning_format")) {
    const std::string& f = read_string(*v, "reasoning_format");
    if (f == "separate")
      r.reasoning_format = ReasoningFormat::Separate;
    else if (f == "inline")
      r.reasoning_format = ReasoningFormat::Inline;
    else
      fail("reasoning_format",
           "Invalid value for 'reasoning_format': expected \"separate\" or \"inline\", got " + describe(*v) + ".");
  }
}

void read_output_format(const Json& b, CommonRequest& r) {
  if (const Json* v = find_field(b, "response_format")) {
    read_object(*v, "response_format");
    const Json* type = find_field(*v, "type");
    if (!type)
      fail("response_format.type", "Missing required parameter: 'response_format.type'.", "missing_required_parameter");
    const std::string& t = read_string(*type, "response_format.type");
    if (t == "json_object") {
      r.format = OutputFormat::JsonObject;
    } else if (t == "json_schema") {
      const Json* js = find_field(*v, "json_schema");
      if (!js)
        fail("response_format.json_schema", "Missing required parameter: 'response_format.json_schema'.",
             "missing_required_parameter");
      read_object(*js, "response_format.json_schema");
      if (const Json* n = find_field(*js, "name")) read_string(*n, "response_format.json_schema.name");
      if (const Json* st = find_field(*js, "strict")) read_bool(*st, "response_format.json_schema.strict");
      const Json* schema = find_field(*js, "schema");
      if (!schema)
        fail("response_format.json_schema.schema", "Missing required parameter: 'response_format.json_schema.schema'.",
             "missing_required_parameter");
      if (!schema->is_object() && !schema->is_boolean())
        fail_type("response_format.json_schema.schema", "an object", *schema);
      r.format = OutputFormat::JsonSchema;
      r.schema = *schema;
    } else if (t != "text") {
      fail("response_format.type", "Invalid value for 'response_format.type': expected \"text\", \"json_object\" or "
                                   "\"json_schema\", got " + describe(*type) + ".");
    }
  }
  if (const Json* v = find_field(b, "grammar")) {
    r.grammar = read_string(*v, "grammar");
    if (r.format != OutputFormat::Text)
      fail("grammar", "Invalid value for 'grammar': it cannot be combined with a JSON 'response_format'.");
    if (!r.grammar.empty()) r.format = OutputFormat::Grammar;
  }
  if (const Json* v = find_field(b, "reasoning_budget"))
    r.reasoning_budget = int(read_integer(*v, "reasoning_budget", -1, kMaxInt));
  if (const Json* v = find_field(b, "draft")) {
    r.draft = draft_kind_named(read_string(*v, "draft"));
    if (!r.draft)
      fail("draft", "Invalid value for 'draft': expected \"none\", \"mtp\" or \"ngram\", got " + describe(*v) + ".");
  }
  if (const Json* v = find_field(b, "draft_n")) r.draft_n = int(read_integer(*v, "draft_n", 0, 16));
}

// Text of a content array: its text parts joined with "\n" (images and audio are refused).
std::string read_content_parts(const Json& parts, const std::string& param) {
  std::string text;
  for (size_t j = 0; j < parts.size(); ++j) {
    const std::string p = index_path(param, j);
    const Json& part = read_object(parts[j], p);
    const Json* type = find_field(part, "type");
    if (!type)
      fail(field_path(p, "type"), "Missing required parameter: '" + field_path(p, "type") + "'.",
           "missing_required_parameter");
    const std::string& t = read_string(*type, field_path(p, "type"));
    if (t != "text")
      fail(field_path(p, "type"),
           "Invalid value for '" + field_path(p, "type") + "': content parts of type " + describe(*type) +
               " are not supported; this server takes text parts only.",
           "unsupported_value");
    const Json* tx = find_field(part, "text");
    if (!tx)
      fail(field_path(p, "text"), "Missing required parameter: '" + field_path(p, "text") + "'.",
           "missing_required_parameter");
    if (j > 0) text += '\n';
    text += read_string(*tx, field_path(p, "text"));
  }
  return text;
}

void check_tool_calls(const Json& calls, const std::string& param) {
  read_array(calls, param);
  for (size_t j = 0; j < calls.size(); ++j) {
    const std::string p = index_path(param, j);
    const Json& call = read_object(calls[j], p);
    if (const Json* id = find_field(call, "id")) read_string(*id, field_path(p, "id"));
    const Json* fn = find_field(call, "function");
    if (!fn)
      fail(field_path(p, "function"), "Missing required parameter: '" + field_path(p, "function") + "'.",
           "missing_required_parameter");
    read_object(*fn, field_path(p, "function"));
    const Json* name = find_field(*fn, "name");
    const std::string np = field_path(p, "function.name");
    if (!name) fail(np, "Missing required parameter: '" + np + "'.", "missing_required_parameter");
    read_string(*name, np);
  }
}

Json read_message(const Json& m, const std::string& p) {
  read_object(m, p);
  const std::string rp = field_path(p, "role");
  const Json* role = find_field(m, "role");
  if (!role) fail(rp, "Missing required parameter: '" + rp + "'.", "missing_required_parameter");
  std::string r = read_string(*role, rp);
  if (r != "system" && r != "user" && r != "assistant" && r != "tool" && r != "developer")
    fail(rp, "Invalid value for '" + rp + "': expected one of system, developer, user, assistant, tool, got " +
                 describe(*role) + ".");
  // Templates know system, not OpenAI's newer name for it.
  if (r == "developer") r = "system";
  Json out = Json::object();
  out["role"] = r;
  const Json* calls = find_field(m, "tool_calls");
  if (calls && r != "assistant")
    fail(field_path(p, "tool_calls"),
         "Invalid value for '" + field_path(p, "tool_calls") + "': only assistant messages have tool calls.");
  if (calls) check_tool_calls(*calls, field_path(p, "tool_calls"));
  const std::string cp = field_path(p, "content");
  const Json* content = find_field(m, "content");
  if (!content) {
    if (!calls || calls->empty())
      fail(cp, "Missing required parameter: '" + cp + "' (only an assistant message with tool_calls may omit it).",
           "missing_required_parameter");
    out["content"] = nullptr;
  } else if (content->is_string()) {
    out["content"] = *content;
  } else if (content->is_array()) {
    out["content"] = read_content_parts(*content, cp);
  } else {
    fail_type(cp, "a string or an array of content parts", *content);
  }
  if (const Json* v = find_field(m, "name")) out["name"] = read_string(*v, field_path(p, "name"));
  if (calls) out["tool_calls"] = *calls;
  if (const Json* v = find_field(m, "tool_call_id"))
    out["tool_call_id"] = read_string(*v, field_path(p, "tool_call_id"));
  if (const Json* v = find_field(m, "reasoning_content"))
    out["reasoning_content"] = read_string(*v, field_path(p, "reasoning_content"));
  return out;
}

void check_tools(const Json& tools) {
  read_array(tools, "tools");
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string p = index_path("tools", i);
    const Json& t = read_object(tools[i], p);
    const Json* type = find_field(t, "type");
    if (!type)
      fail(field_path(p, "type"), "Missing required parameter: '" + field_path(p, "type") + "'.",
           "missing_required_parameter");
    if (read_string(*type, field_path(p, "type")) != "function")
      fail(field_path(p, "type"),
           "Invalid value for '" + field_path(p, "type") + "': expected \"function\", got " + describe(*type) + ".",
           "unsupported_value");
    const std::string fp = field_path(p, "function");
    const Json* fn = find_field(t, "function");
    if (!fn) fail(fp, "Missing required parameter: '" + fp + "'.", "missing_required_parameter");
    read_object(*fn, fp);
    const Json* name = find_field(*fn, "name");
    if (!name)
      fail(field_path(fp, "name"), "Missing required parameter: '" + field_path(fp, "name") + "'.",
           "missing_required_parameter");
    if (read_string(*name, field_path(fp, "name")).empty())
      fail(field_path(fp, "name"),
           "Invalid value for '" + field_path(fp, "name") + "': expected a function name, got \"\".");
    if (const Json* d = find_field(*fn, "description")) read_string(*d, field_path(fp, "description"));
    if (const Json* s = find_field(*fn, "parameters")) read_object(*s, field_path(fp, "parameters"));
  }
}

void check_tool_choice(const Json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s != "none" && s != "auto" && s != "required")
      fail("tool_choice",
           "Invalid value for 'tool_choice': expected \"none\", \"auto\", \"required\" or an object, got " +
               describe(v) + ".");
    return;
  }
  if (!v.is_object()) fail_type("tool_choice", "a string or an object", v);
  const Json* type = find_field(v, "type");
  if (!type || !type->is_string() || *type != "function")
    fail("tool_choice.type", "Invalid value for 'tool_choice.type': expected \"function\", got " +
                                 (type ? describe(*type) : std::string("nothing")) + ".");
  const Json* fn = find_field(v, "function");
  const Json* name = fn && fn->is_object() ? find_field(*fn, "name") : nullptr;
  if (!name)
    fail("tool_choice.function.name", "Missing required parameter: 'tool_choice.function.name'.",
         "missing_required_parameter");
  read_string(*name, "tool_choice.function.name");
}

void read_chat(const Json& b, ChatRequest& r) {
  read_common(b, r, true);
  const Json* msgs = find_field(b, "messages");
  if (!msgs) fail("messages", "Missing required parameter: 'messages'.", "missing_required_parameter");
  read_array(*msgs, "messages");
  if (msgs->empty()) fail("messages", "Invalid value for 'messages': expected a non-empty array.");
  for (size_t i = 0; i < msgs->size(); ++i) r.messages.push_back(read_message((*msgs)[i], index_path("messages", i)));
  if (const Json* v = find_field(b, "tools")) {
    check_tools(*v);
    r.tools = *v;
  }
  if (const Json* v = find_field(b, "tool_choice")) {
    check_tool_choice(*v);
    r.tool_choice = *v;
  }
  if (const Json* v = find_field(b, "chat_template_kwargs")) {
    read_object(*v, "chat_template_kwargs");
    // These would replace what the server itself hands the template.
    for (const char* k : {"messages", "tools", "add_generation_prompt", "bos_token", "eos_token", "documents"})
      if (v->contains(k))
        fail(field_path("chat_template_kwargs", k),
             "Invalid value for '" + field_path("chat_template_kwargs", k) + "': the server sets it, not the request.");
    r.chat_template_kwargs = *v;
  }
}

std::vector<int32_t> read_token_array(const Json& v, const std::string& param) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < v.size(); ++i) ids.push_back(int32_t(read_integer(v[i], index_path(param, i), 0, kMaxInt)));
  if (ids.empty()) fail(param, "Invalid value for '" + param + "': expected a non-empty array of token ids.");
  return ids;
}

// A string, an array of token ids, or an array of one of those (OpenAI's batch forms, with one prompt).
void read_prompt(const Json& v, CompletionRequest& r) {
  if (v.is_string()) {
    r.prompt = v.get<std::string>();
    return;
  }
  if (!v.is_array()) fail_type("prompt", "a string or an array of token ids", v);
  if (v.empty()) fail("prompt", "Invalid value for 'prompt': expected a non-empty array.");
  if (!v[0].is_string() && !v[0].is_array()) {
    r.prompt_is_tokens = true;
    r.prompt_tokens = read_token_array(v, "prompt");
    return;
  }
  if (v.size() > 1)
    fail("prompt",
         "Invalid value for 'prompt': batched prompts (" + std::to_string(v.size()) +
             ") are not supported; send one prompt per request.",
         "unsupported_value");
  if (v[0].is_string()) {
    r.prompt = v[0].get<std::string>();
    return;
  }
  r.prompt_is_tokens = true;
  r.prompt_tokens = read_token_array(v[0], "prompt[0]");
}

void read_completion(const Json& b, CompletionRequest& r) {
  read_common(b, r, false);
  const Json* prompt = find_field(b, "prompt");
  if (!prompt) fail("prompt", "Missing required parameter: 'prompt'.", "missing_required_parameter");
  read_prompt(*prompt, r);
  if (const Json* v = find_field(b, "echo")) r.echo = read_bool(*v, "echo");
  if (const Json* v = find_field(b, "suffix"))
    if (!read_string(*v, "suffix").empty())
      fail("suffix", "Invalid value for 'suffix': insertion (suffix) is not supported by this server.",
           "unsupported_value");
  if (const Json* v = find_field(b, "best_of"))
    if (read_integer(*v, "best_of", 1, kMaxChoices) != 1)
      fail("best_of", "Invalid value for 'best_of': only 1 is supported by this server; use 'n' for several choices.",
           "unsupported_value");
}

}  // namespace

ChatParse parse_chat_request(std::string_view body) { return parse_object<ChatRequest>(body, read_chat); }

CompletionParse parse_completion_request(std::string_view body) {
  return parse_object<CompletionRequest>(body, read_completion);
}

SamplerParams sampler_params(const CommonRequest& r, uint64_t seed_if_absent) {
  SamplerParams p;
  p.temp = float(r.temperature);
  p.top_k = r.top_k;
  p.top_p = float(r.top_p);
  p.min_p = float(r.min_p);
  p.repeat_penalty = 1.0f;
  p.presence_penalty = float(r.presence_penalty);
  p.frequency_penalty = float(r.frequency_penalty);
  p.penalty_last_n = -1;
  p.seed = r.seed.value_or(seed_if_absent);
  return p;
}

std::variant<DraftParams, ApiError> request_draft(const CommonRequest& r, const DraftParams& server) {
  DraftParams d = server;
  if (r.draft && *r.draft != d.kind) {
    d.kind = *r.draft;
    d.n_draft = 0;
  }
  if (r.draft_n) d.n_draft = *r.draft_n;
  if (d.kind == DraftKind::Mtp && server.kind != DraftKind::Mtp) {
    return bad_request("draft", "Invalid value for 'draft': this server drafts without the MTP layer "
                                "(start it with --draft mtp to allow \"mtp\").");
  }
  try {
    draft_count(d, "draft_n");
  } catch (const Error& e) {
    return bad_request("draft_n", e.what());
  }
  return d;
}

std::optional<ApiError> check_token_ids(const std::vector<int32_t>& ids, int n_vocab, const std::string& param) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= n_vocab) {
      const std::string p = index_path(param, i);
      return bad_request(p, "Invalid value for '" + p + "': token id " + std::to_string(ids[i]) +
                                " is not in this model's vocabulary (0.." + std::to_string(n_vocab - 1) + ").");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> check_token_ids(const CommonRequest& r, int n_vocab) {
  for (const auto& [id, bias] : r.logit_bias) {
    if (id >= n_vocab) {
      const std::string p = field_path("logit_bias", std::to_string(id));
      return bad_request(p, "Invalid value for '" + p + "': token id " + std::to_string(id) +
                                " is not in this model's vocabulary (0.." + std::to_string(n_vocab - 1) + ").");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> check_token_ids(const CompletionRequest& r, int n_vocab) {
  if (auto e = check_token_ids(static_cast<const CommonRequest&>(r), n_vocab)) return e;
  return check_token_ids(r.prompt_tokens, n_vocab, "prompt");
}

}  // namespace dawn::server
