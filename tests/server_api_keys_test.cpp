// API keys: the key file's format and its errors (naming file and field, never a key),
// Bearer parsing, authorize() outcomes, and a comparison that reads every byte of every key.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "server/api_keys.h"
#include "util/error.h"

namespace dawn::server {
namespace {

const std::string kAlice = "sk-alice-0123456789abcdef";
const std::string kOps = "sk-ops-fedcba9876543210";
const std::string kBot = "sk-bot-aaaaaaaaaaaaaaaa";

const std::string kFile = R"({
  "roles": {
    "admin": {"models": ["*"], "endpoints": ["*"]},
    "user": {"models": ["dawn-brown-v3", "qwen2-*"]},
    "tokenizer": {"endpoints": ["/tokenize", "/detokenize"]}
  },
  "keys": [
    {"name": "alice", "key": ")" +
                          kAlice + R"(", "role": "user"},
    {"name": "ops", "key": ")" +
                          kOps + R"(", "role": "admin"},
    {"name": "bot", "key": ")" +
                          kBot + R"(", "role": "tokenizer"}
  ]
})";

std::string bearer(const std::string& k) { return "Bearer " + k; }

// The message of the Error that parsing text raises ("" when it parses).
std::string load_error(const std::string& text) {
  try {
    ApiKeys::parse(text, "keys.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ServerApiKeys, ParsesTheDocumentedFormat) {
  const ApiKeys keys = ApiKeys::parse(kFile, "keys.json");
  EXPECT_TRUE(keys.enabled());
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_FALSE(ApiKeys().enabled());
}

TEST(ServerApiKeys, LoadsFromAFile) {
  const std::string path = ::testing::TempDir() + "/dawn_api_keys_test.json";
  std::ofstream(path) << kFile;
  EXPECT_EQ(ApiKeys::load(path).size(), 3u);
  std::remove(path.c_str());
  try {
    ApiKeys::load(path);
    FAIL() << "loaded a missing file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(ServerApiKeys, FileErrorsNameTheFileAndFieldButNeverAKey) {
  const std::string secret = "sk-secret-do-not-print-0001";
  const std::string key1 = R"({"name":"a","key":")" + secret + R"(","role":"user"})";
  const std::string roles = R"("roles":{"user":{"models":["m"]}})";
  const struct {
    std::string text;
    const char* needle;
  } cases[] = {
      {"{\"roles\": {\"user\": {}}, \"keys\": [{\"key\": \"" + secret + "\"", "line 1, column"},
      {"{\n  \"keys\": [\n    {\"key\": \"" + secret + "\" oops}", "line 3, column"},
      {"[]", "expected an object"},
      {R"({"keys":[)" + key1 + "]}", "roles: missing"},
      {R"({"roles":[],"keys":[)" + key1 + "]}", "roles: expected an object"},
      {R"({"roles":{},"keys":[)" + key1 + "]}", "roles: no roles"},
      {R"({"roles":{"user":{"modles":["m"]}},"keys":[)" + key1 + "]}", "roles.user.modles: unknown field"},
      {R"({"roles":{"user":{"models":"m"}},"keys":[)" + key1 + "]}", "roles.user.models: expected an array"},
      {R"({"roles":{"user":{"models":[""]}},"keys":[)" + key1 + "]}", "roles.user.models[0]"},
      {R"({"roles":{"user":{"endpoints":["v1/chat"]}},"keys":[)" + key1 + "]}", "roles.user.endpoints[0]"},
      {"{" + roles + R"(,"extra":1,"keys":[)" + key1 + "]}", "extra: unknown field"},
      {"{" + roles + "}", "keys: missing"},
      {"{" + roles + R"(,"keys":[]})", "keys: no keys"},
      {"{" + roles + R"(,"keys":{}})", "keys: expected an array"},
      {"{" + roles + R"(,"keys":[5]})", "keys[0]: expected an object"},
      {"{" + roles + R"(,"keys":[{"name":"a","role":"user"}]})", "keys[0].key: missing"},
      {"{" + roles + R"(,"keys":[{"name":"a","key":")" + secret + R"("}]})", "keys[0].role: missing"},
      {"{" + roles + R"(,"keys":[{"name":"a","key":"sk-short","role":"user"}]})", "keys[0].key: must be 16-256"},
      {"{" + roles + R"(,"keys":[{"name":"a","key":"sk-has space-0123456","role":"user"}]})", "keys[0].key: must be"},
      {"{" + roles + R"(,"keys":[{"name":"a","key":12345678901234567890,"role":"user"}]})",
       "keys[0].key: expected a string"},
      {"{" + roles + R"(,"keys":[{"name":"a","key":")" + secret + R"(","role":"usr"}]})",
       "keys[0].role: \"usr\" is not one of the roles defined (user)"},
      {"{" + roles + R"(,"keys":[{"name":"","key":")" + secret + R"(","role":"user"}]})", "keys[0].name"},
      {"{" + roles + R"(,"keys":[)" + key1 + R"(,{"name":"a","key":"sk-other-key-00000001","role":"user"}]})",
       "keys[1].name: \"a\" is the name of another key"},
      {"{" + roles + R"(,"keys":[)" + key1 + R"(,{"name":"b","key":")" + secret + R"(","role":"user"}]})",
       "keys[1].key: the same key as the key named \"a\""},
      {"{" + roles + R"(,"keys":[{"name":"a","key":")" + secret + R"(","role":"user","scope":"x"}]})",
       "keys[0].scope: unknown field"},
  };
  for (const auto& c : cases) {
    const std::string msg = load_error(c.text);
    ASSERT_FALSE(msg.empty()) << "accepted: " << c.text;
    EXPECT_EQ(msg.rfind("api keys file keys.json: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find("secret"), std::string::npos) << "a key leaked into: " << msg;
    EXPECT_EQ(msg.find("sk-short"), std::string::npos) << msg;
  }
}

TEST(ServerApiKeys, BearerParsing) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER \t abc  "), "abc");
  EXPECT_EQ(bearer_token("  Bearer abc\r\n"), "abc");
  EXPECT_FALSE(bearer_token(""));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer   "));
  EXPECT_FALSE(bearer_token("Bearerabc"));
  EXPECT_FALSE(bearer_token("Basic YWxhZGRpbjpvcGVuc2VzYW1l"));
  EXPECT_FALSE(bearer_token("abc"));
}

TEST(ServerApiKeys, AuthorizeOutcomes) {
  const ApiKeys keys = ApiKeys::parse(kFile, "keys.json");
  const auto check = [&](const std::string& header, const char* model, const char* endpoint, int status,
                         const char* key_name) {
    const AuthResult r = keys.authorize(header, model, endpoint);
    const std::string what = header + " " + model + " " + endpoint;
    if (status == 200) {
      EXPECT_TRUE(r.ok()) << what << " -> " << r.error->body();
    } else {
      ASSERT_FALSE(r.ok()) << what;
      EXPECT_EQ(r.error->status, status) << what;
      // No error quotes the header or a key.
      for (const std::string& k : {kAlice, kOps, kBot, std::string("sk-wrong")})
        EXPECT_EQ(r.error->body().find(k), std::string::npos) << r.error->body();
    }
    EXPECT_EQ(r.key_name, key_name) << what;
  };
  check("", "dawn-brown-v3", "/v1/chat/completions", 401, "");
  check("   ", "dawn-brown-v3", "/v1/chat/completions", 401, "");
  check("Basic abc", "dawn-brown-v3", "/v1/chat/completions", 401, "");
  check(bearer("sk-wrong-0123456789abcdef"), "dawn-brown-v3", "/v1/chat/completions", 401, "");
  check(bearer(kAlice + "x"), "dawn-brown-v3", "/v1/chat/completions", 401, "");
  check(bearer(kAlice.substr(0, kAlice.size() - 1)), "dawn-brown-v3", "/v1/chat/completions", 401, "");
  check(bearer(kAlice), "dawn-brown-v3", "/v1/chat/completions", 200, "alice");
  check("bearer  " + kAlice, "qwen2-1.5b", "/v1/completions", 200, "alice");
  check(bearer(kAlice), "llama3-8b", "/v1/chat/completions", 403, "alice");
  check(bearer(kAlice), "", "/v1/models", 200, "alice");
  check(bearer(kAlice), "", "/metrics", 403, "alice");
  check(bearer(kOps), "anything", "/v1/chat/completions", 200, "ops");
  check(bearer(kOps), "", "/metrics", 200, "ops");
  check(bearer(kBot), "", "/tokenize", 200, "bot");
  check(bearer(kBot), "dawn-brown-v3", "/v1/chat/completions", 403, "bot");

  const AuthResult missing = keys.authorize("", "m", "/v1/chat/completions");
  EXPECT_EQ(missing.error->code, "invalid_api_key");
  EXPECT_EQ(missing.error->type, "invalid_request_error");
  EXPECT_NE(missing.error->message.find("Authorization: Bearer"), std::string::npos);
  const AuthResult model = keys.authorize(bearer(kAlice), "llama3-8b", "/v1/chat/completions");
  EXPECT_EQ(model.error->param, "model");
  EXPECT_NE(model.error->message.find("llama3-8b"), std::string::npos);
  EXPECT_NE(model.error->message.find("\"alice\""), std::string::npos);

  // Without a key file everything passes.
  EXPECT_TRUE(ApiKeys().authorize("", "m", "/metrics").ok());
}

TEST(ServerApiKeys, ModelFilterForTheModelsList) {
  const ApiKeys keys = ApiKeys::parse(kFile, "keys.json");
  const AuthResult alice = keys.authorize(bearer(kAlice), "", "/v1/models");
  EXPECT_TRUE(keys.allows_model(alice, "dawn-brown-v3"));
  EXPECT_TRUE(keys.allows_model(alice, "qwen2-7b"));
  EXPECT_FALSE(keys.allows_model(alice, "llama3"));
  const AuthResult nobody = keys.authorize("", "", "/v1/models");
  EXPECT_FALSE(keys.allows_model(nobody, "dawn-brown-v3"));
  EXPECT_TRUE(ApiKeys().allows_model(AuthResult{}, "x"));
}

TEST(ServerApiKeys, ComparisonReadsEveryByte) {
  uint8_t a[32] = {}, b[32] = {};
  EXPECT_EQ(constant_time_diff(a, b, 32), 0);
  // Differences at the first and the last byte both show in the result: the loop went on past
  // the first difference to the end.
  a[0] = 0x01;
  a[31] = 0x80;
  EXPECT_EQ(constant_time_diff(a, b, 32), 0x81);
  a[0] = 0;
  EXPECT_EQ(constant_time_diff(a, b, 32), 0x80);
  a[31] = 0;
  a[17] = 0x24;
  b[3] = 0x42;
  EXPECT_EQ(constant_time_diff(a, b, 32), 0x66);
  EXPECT_EQ(constant_time_diff(a, b, 0), 0);

  // Every stored key is compared, wherever the match is, and when there is none.
  const ApiKeys keys = ApiKeys::parse(kFile, "keys.json");
  for (const auto& [key, index] : std::vector<std::pair<std::string, int>>{
           {kAlice, 0}, {kOps, 1}, {kBot, 2}, {"sk-nobody-0000000000", -1}, {"", -1}}) {
    const ApiKeys::Match m = keys.match(key);
    EXPECT_EQ(m.index, index) << key;
    EXPECT_EQ(m.compared, 3u) << key;
  }
}

}  // namespace
}  // namespace dawn::server
