// API keys for `dawn serve --api-keys FILE`: which keys may call which endpoints with which
// models. Keys are kept only as SHA-256 digests and compared in constant time against every
// key; no error message quotes a key or the Authorization header.
//
// The file is JSON:
//   {
//     "roles": {
//       "admin": {"models": ["*"], "endpoints": ["*"]},
//       "user":  {"models": ["dawn-brown-v3", "qwen2-*"]}
//     },
//     "keys": [
//       {"name": "alice", "key": "sk-alice-0123456789abcdef", "role": "user"},
//       {"name": "ops",   "key": "sk-ops-0123456789abcdef",   "role": "admin"}
//     ]
//   }
// roles: at least one. models: model names, "prefix*" patterns or "*"; absent: every model.
// endpoints: paths ("/v1/chat/completions"), "prefix*" patterns ("/v1/*") or "*"; absent:
//   every endpoint except the admin ones (/metrics), which only a pattern matching them opens.
// keys: at least one; names unique; keys unique, 16-256 printable ASCII characters, no spaces;
//   role: one of roles. Unknown fields are errors (a typo must not widen or narrow access).
// A server without a key file (a default-constructed ApiKeys) lets every request through.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"

namespace dawn::server {

// Endpoints only roles whose endpoints name them (or "*") may call.
bool is_admin_endpoint(std::string_view endpoint);

// The key in an Authorization header value "Bearer <key>" (scheme case-insensitive, spaces or
// tabs around); nullopt when the value is not of that form or the key is empty.
std::optional<std::string_view> bearer_token(std::string_view header_value);

// OR of a[i] ^ b[i] over all n bytes: 0 exactly when equal. It reads every byte whatever it
// finds, so its time does not tell where two inputs differ.
uint8_t constant_time_diff(const uint8_t* a, const uint8_t* b, size_t n);

struct AuthResult {
  std::optional<ApiError> error;  // 401 or 403; nullopt: allowed
  std::string key_name;           // the matching key's name ("" without a key file or no match)
  std::string role;
  bool ok() const { return !error; }
};

class ApiKeys {
 public:
  // No keys: authorize() allows everything.
  ApiKeys() = default;

  // Throws dawn::Error naming the file and the field (never quoting a key).
  static ApiKeys load(const std::string& path);
  static ApiKeys parse(std::string_view text, const std::string& origin);

  bool enabled() const { return !keys_.empty(); }
  size_t size() const { return keys_.size(); }

  // header_value: the Authorization header ("" when absent); model: the model the request
  // names, "" for endpoints without one; endpoint: the route's path, e.g. "/v1/chat/completions".
  AuthResult authorize(std::string_view header_value, std::string_view model, std::string_view endpoint) const;
  // Whether an authorized caller's role may use model (e.g. to filter /v1/models).
  bool allows_model(const AuthResult& who, std::string_view model) const;

  // The index of the key equal to `key` (-1 if none) and how many stored keys were compared
  // (always all of them).
  struct Match {
    int index = -1;
    size_t compared = 0;
  };
  Match match(std::string_view key) const;

 private:
  struct Role {
    std::string name;
    std::vector<std::string> models, endpoints;
    bool default_endpoints = false;  // endpoints absent: all but the admin ones
  };
  struct Key {
    std::string name;
    std::array<uint8_t, 32> digest;
    size_t role;
  };
  const Role* role_of(const AuthResult& who) const;

  std::vector<Role> roles_;
  std::vector<Key> keys_;
};

}  // namespace dawn::server
