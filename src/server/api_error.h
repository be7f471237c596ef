// OpenAI-shaped API errors: the status, and the {"error": {...}} body that OpenAI's clients
// read (message, type, param, code), with one constructor per case the server answers.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace dawn::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the field path, e.g. "messages[2].content"; "" is sent as null
  std::string code;   // e.g. "invalid_value"; "" is sent as null

  // {"error": {"message", "type", "param", "code"}}.
  nlohmann::ordered_json to_json() const;
  // to_json() as text (any invalid UTF-8 replaced: a message may quote request bytes).
  std::string body() const;
};

// 400, invalid_request_error. code: "invalid_value", "invalid_type", "missing_required_parameter",
// "unsupported_value", "invalid_json", ...
ApiError bad_request(std::string param, std::string message, std::string code = "invalid_value");
// 400 context_length_exceeded: the prompt (prompt_tokens) plus the requested completion
// (max_tokens; 0 when none was asked for) does not fit the n_ctx tokens of the context.
ApiError context_length_exceeded(int64_t n_ctx, int64_t prompt_tokens, int64_t max_tokens, std::string param);
// 401 invalid_api_key: missing, malformed or unknown key. The key itself is never quoted.
ApiError invalid_api_key(std::string message);
// 403: the key is valid but its role does not allow this model or endpoint.
ApiError forbidden(std::string message, std::string param = "");
// 404 model_not_found, in OpenAI's wording.
ApiError model_not_found(const std::string& model);
// 404 for a path the server does not serve, e.g. "POST /v1/foo".
ApiError unknown_endpoint(const std::string& method_and_path);
// 405 for a known path asked with another method.
ApiError method_not_allowed(const std::string& method_and_path);
// 413: a body over the server's limit of max_bytes.
ApiError payload_too_large(uint64_t max_bytes);
// 429: too many requests queued; the client should retry later.
ApiError too_many_requests(std::string message);
// 503: the server cannot take work now (loading, shutting down, overloaded).
ApiError service_unavailable(std::string message);
// 500: a failure on the server's side; message says what, never quoting secrets.
ApiError internal_error(std::string message);

}  // namespace dawn::server
