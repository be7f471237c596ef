// API keys: loading the key file, Bearer parsing, constant-time matching and the per-role
// model and endpoint checks (see api_keys.h).
#include "server/api_keys.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/file.h"

namespace dawn::server {

namespace {

using Json = nlohmann::json;

std::array<uint8_t, 32> sha256(std::string_view s) {
  std::array<uint8_t, 32> d{};
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 || len != d.size())
    throw Error("api keys: SHA-256 from libcrypto failed");
  return d;
}

bool pattern_matches(std::string_view pattern, std::string_view s) {
  if (!pattern.empty() && pattern.back() == '*') {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 1);
    return s.substr(0, prefix.size()) == prefix;
  }
  return pattern == s;
}

bool any_matches(const std::vector<std::string>& patterns, std::string_view s) {
  for (const std::string& p : patterns)
    if (pattern_matches(p, s)) return true;
  return false;
}

bool printable_ascii(std::string_view s) {
  for (char c : s)
    if (c < 0x21 || c > 0x7E) return false;
  return true;
}

// The loader's errors: "api keys file F: FIELD: what". Values are never quoted except role
// names and patterns, which are printable ASCII once checked.
class FileErrors {
 public:
  explicit FileErrors(const std::string& origin) : origin_(origin) {}
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw Error("api keys file " + origin_ + ": " + (field.empty() ? "" : field + ": ") + what);
  }
  const Json& object(const Json& j, const std::string& field) const {
    if (!j.is_object()) fail(field, std::string("expected an object, got ") + j.type_name());
    return j;
  }
  const std::string& string(const Json& j, const std::string& field) const {
    if (!j.is_string()) fail(field, std::string("expected a string, got ") + j.type_name());
    return j.get_ref<const std::string&>();
  }
  void only_fields(const Json& obj, const std::string& field, std::initializer_list<const char*> allowed) const {
    for (const auto& [k, v] : obj.items()) {
      bool known = false;
      for (const char* a : allowed) known |= k == a;
      if (!known) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        const std::string name = printable_ascii(k) ? k : "(a name that is not printable ASCII)";
        fail(field.empty() ? name : field + "." + name, "unknown field (expected " + list + ")");
      }
    }
  }
  std::vector<std::string> patterns(const Json& j, const std::string& field, bool endpoint) const {
    if (!j.is_array()) fail(field, std::string("expected an array of strings, got ") + j.type_name());
    std::vector<std::string> out;
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string f = field + "[" + std::to_string(i) + "]";
      const std::string& p = string(j[i], f);
      if (p.empty() || p.size() > 256 || !printable_ascii(p))
        fail(f, "expected a non-empty name or pattern of printable ASCII characters");
      if (endpoint && p != "*" && p[0] != '/') fail(f, "\"" + p + "\" is not \"*\" or a path starting with /");
      out.push_back(p);
    }
    return out;
  }

 private:
  const std::string& origin_;
};

}  // namespace

bool is_admin_endpoint(std::string_view endpoint) { return endpoint == "/metrics"; }

std::optional<std::string_view> bearer_token(std::string_view h) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!h.empty() && blank(h.front())) h.remove_prefix(1);
  while (!h.empty() && (blank(h.back()) || h.back() == '\r' || h.back() == '\n')) h.remove_suffix(1);
  static constexpr std::string_view kScheme = "bearer";
  if (h.size() <= kScheme.size() || !blank(h[kScheme.size()])) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if ((h[i] | 0x20) != kScheme[i]) return std::nullopt;
  h.remove_prefix(kScheme.size());
  while (!h.empty() && blank(h.front())) h.remove_prefix(1);
  if (h.empty()) return std::nullopt;
  return h;
}

uint8_t constant_time_diff(const uint8_t* a, const uint8_t* b, size_t n) {
  // volatile: the compiler may not turn the loop into one that stops at the first difference.
  volatile uint8_t acc = 0;
  for (size_t i = 0; i < n; ++i) acc = acc | uint8_t(a[i] ^ b[i]);
  return acc;
}

ApiKeys ApiKeys::load(const std::string& path) { return parse(read_file(path), path); }

ApiKeys ApiKeys::parse(std::string_view text, const std::string& origin) {
  const FileErrors err(origin);
  Json root;
  try {
    root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // Only the position: the parser's own message quotes the text, and the text holds keys.
    size_t at = e.byte > 0 ? e.byte - 1 : 0, line = 1, col = 1;
    for (size_t i = 0; i < at && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    err.fail("",
             "malformed JSON (or invalid UTF-8) at line " + std::to_string(line) + ", column " + std::to_string(col));
  }
  err.object(root, "");
  err.only_fields(root, "", {"roles", "keys"});
  ApiKeys out;
  if (!root.contains("roles")) err.fail("roles", "missing (an object of role name -> {models, endpoints})");
  const Json& roles = err.object(root["roles"], "roles");
  if (roles.empty()) err.fail("roles", "no roles defined");
  for (const auto& [name, r] : roles.items()) {
    const std::string f = "roles." + name;
    if (name.empty() || name.size() > 64 || !printable_ascii(name))
      err.fail("roles", "role names must be 1-64 printable ASCII characters");
    err.object(r, f);
    err.only_fields(r, f, {"models", "endpoints"});
    Role role;
    role.name = name;
    role.models =
        r.contains("models") ? err.patterns(r["models"], f + ".models", false) : std::vector<std::string>{"*"};
    if (r.contains("endpoints")) {
      role.endpoints = err.patterns(r["endpoints"], f + ".endpoints", true);
    } else {
      role.default_endpoints = true;
    }
    out.roles_.push_back(std::move(role));
  }
  if (!root.contains("keys")) err.fail("keys", "missing (an array of {name, key, role})");
  const Json& keys = root["keys"];
  if (!keys.is_array()) err.fail("keys", std::string("expected an array, got ") + keys.type_name());
  if (keys.empty()) err.fail("keys", "no keys defined (every request would be refused)");
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string f = "keys[" + std::to_string(i) + "]";
    const Json& k = err.object(keys[i], f);
    err.only_fields(k, f, {"name", "key", "role"});
    for (const char* field : {"name", "key", "role"})
      if (!k.contains(field)) err.fail(f + "." + field, "missing");
    Key key;
    key.name = err.string(k["name"], f + ".name");
    if (key.name.empty() || key.name.size() > 64 || !printable_ascii(key.name))
      err.fail(f + ".name", "must be 1-64 printable ASCII characters without spaces");
    for (const Key& other : out.keys_)
      if (other.name == key.name) err.fail(f + ".name", "\"" + key.name + "\" is the name of another key too");
    const std::string& secret = err.string(k["key"], f + ".key");
    if (secret.size() < 16 || secret.size() > 256 || !printable_ascii(secret))
      err.fail(f + ".key", "must be 16-256 printable ASCII characters without spaces (the key is not shown)");
    key.digest = sha256(secret);
    for (const Key& other : out.keys_)
      if (constant_time_diff(other.digest.data(), key.digest.data(), 32) == 0)
        err.fail(f + ".key", "the same key as the key named \"" + other.name + "\" (each key must be unique)");
    const std::string& role = err.string(k["role"], f + ".role");
    key.role = out.roles_.size();
    for (size_t r = 0; r < out.roles_.size(); ++r)
      if (out.roles_[r].name == role) key.role = r;
    if (key.role == out.roles_.size()) {
      std::string names;
      for (const Role& r : out.roles_) names += (names.empty() ? "" : ", ") + r.name;
      err.fail(f + ".role", (printable_ascii(role) ? "\"" + role + "\"" : std::string("the role")) +
                                " is not one of the roles defined (" + names + ")");
    }
    out.keys_.push_back(std::move(key));
  }
  return out;
}

ApiKeys::Match ApiKeys::match(std::string_view key) const {
  const std::array<uint8_t, 32> d = sha256(key);
  Match m;
  uint32_t found = 0;
  uint32_t index = 0;
  for (size_t i = 0; i < keys_.size(); ++i) {
    const uint32_t diff = constant_time_diff(keys_[i].digest.data(), d.data(), d.size());
    const uint32_t eq = ((diff - 1) >> 8) & 1;  // 1 when diff == 0, without a branch
    const uint32_t take = 0u - (eq & (found ^ 1));
    index = (index & ~take) | (uint32_t(i) & take);
    found |= eq;
    ++m.compared;
  }
  m.index = found ? int(index) : -1;
  return m;
}

const ApiKeys::Role* ApiKeys::role_of(const AuthResult& who) const {
  for (const Role& r : roles_)
    if (r.name == who.role) return &r;
  return nullptr;
}

AuthResult ApiKeys::authorize(std::string_view header_value, std::string_view model, std::string_view endpoint) const {
  AuthResult res;
  if (!enabled()) return res;
  const std::optional<std::string_view> token = bearer_token(header_value);
  if (!token) {
    const bool absent = header_value.find_first_not_of(" \t") == std::string_view::npos;
    res.error = invalid_api_key(absent ? "You didn't provide an API key. Send it in an Authorization header using "
                                         "Bearer auth (Authorization: Bearer YOUR_KEY)."
                                       : "The Authorization header is not of the form 'Bearer YOUR_KEY'.");
    return res;
  }
  const Match m = match(*token);
  if (m.index < 0) {
    res.error = invalid_api_key("Incorrect API key provided.");
    return res;
  }
  const Key& key = keys_[size_t(m.index)];
  const Role& role = roles_[key.role];
  res.key_name = key.name;
  res.role = role.name;
  const std::string who = "The API key \"" + key.name + "\" (role \"" + role.name + "\")";
  const bool endpoint_ok =
      role.default_endpoints ? !is_admin_endpoint(endpoint) : any_matches(role.endpoints, endpoint);
  if (!endpoint_ok) {
    res.error = forbidden(who + " may not use " + std::string(endpoint) + ".");
    return res;
  }
  if (!model.empty() && !any_matches(role.models, model))
    res.error = forbidden(who + " may not use the model `" + std::string(model) + "`.", "model");
  return res;
}

bool ApiKeys::allows_model(const AuthResult& who, std::string_view model) const {
  if (!enabled()) return true;
  const Role* r = who.ok() ? role_of(who) : nullptr;
  return r && any_matches(r->models, model);
}

}  // namespace dawn::server
