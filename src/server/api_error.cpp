// OpenAI-shaped API errors (see api_error.h). Types and codes follow what OpenAI's own API
// answers, so clients that branch on them (the openai npm and Python packages map the status
// to an exception class and keep type/code) behave as they would against OpenAI.
#include "server/api_error.h"

namespace dawn::server {

namespace {

ApiError make(int status, std::string message, std::string type, std::string param, std::string code) {
  return ApiError{status, std::move(message), std::move(type), std::move(param), std::move(code)};
}

}  // namespace

nlohmann::ordered_json ApiError::to_json() const {
  nlohmann::ordered_json e = nlohmann::ordered_json::object();
  e["message"] = message;
  e["type"] = type;
  e["param"] = param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(param);
  e["code"] = code.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(code);
  return nlohmann::ordered_json{{"error", e}};
}

std::string ApiError::body() const {
  return to_json().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

ApiError bad_request(std::string param, std::string message, std::string code) {
  return make(400, std::move(message), "invalid_request_error", std::move(param), std::move(code));
}

ApiError context_length_exceeded(int64_t n_ctx, int64_t prompt_tokens, int64_t max_tokens, std::string param) {
  std::string m = "This model's maximum context length is " + std::to_string(n_ctx) +
                  " tokens. However, you requested " + std::to_string(prompt_tokens + max_tokens) + " tokens (" +
                  std::to_string(prompt_tokens) + " in the prompt, " + std::to_string(max_tokens) +
                  " for the completion). Please reduce the prompt or the completion length.";
  return make(400, std::move(m), "invalid_request_error", std::move(param), "context_length_exceeded");
}

ApiError invalid_api_key(std::string message) {
  return make(401, std::move(message), "invalid_request_error", "", "invalid_api_key");
}

ApiError forbidden(std::string message, std::string param) {
  return make(403, std::move(message), "invalid_request_error", std::move(param), "permission_denied");
}

ApiError model_not_found(const std::string& model) {
  return make(404, "The model `" + model + "` does not exist or you do not have access to it.", "invalid_request_error",
              "model", "model_not_found");
}

ApiError unknown_endpoint(const std::string& method_and_path) {
  return make(404, "Invalid URL (" + method_and_path + ")", "invalid_request_error", "", "unknown_url");
}

ApiError method_not_allowed(const std::string& method_and_path) {
  return make(405, "Invalid method for URL (" + method_and_path + ")", "invalid_request_error", "",
              "method_not_allowed");
}

ApiError payload_too_large(uint64_t max_bytes) {
  return make(413, "Request body is larger than this server's limit of " + std::to_string(max_bytes) + " bytes.",
              "invalid_request_error", "", "request_too_large");
}

ApiError too_many_requests(std::string message) {
  return make(429, std::move(message), "requests", "", "rate_limit_exceeded");
}

ApiError service_unavailable(std::string message) {
  return make(503, std::move(message), "server_error", "", "service_unavailable");
}

ApiError internal_error(std::string message) {
  return make(500, std::move(message), "server_error", "", "internal_error");
}

}  // namespace dawn::server
