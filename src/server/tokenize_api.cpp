// The /tokenize and /detokenize endpoints (see tokenize_api.h).
#include "server/tokenize_api.h"

#include <limits>

#include "server/json_fields.h"

namespace dawn::server {

namespace {

// parse_object, plus the optional "model" both endpoints take.
template <class R, class Read>
std::variant<R, ApiError> parse_with_model(std::string_view body, Read read) {
  return parse_object<R>(body, [&](const Json& b, R& r) {
    if (const Json* m = find_field(b, "model")) r.model = read_string(*m, "model");
    read(b, r);
  });
}

}  // namespace

std::variant<TokenizeRequest, ApiError> parse_tokenize_request(std::string_view body) {
  return parse_with_model<TokenizeRequest>(body, [](const Json& b, TokenizeRequest& r) {
    const Json* c = find_field(b, "content");
    if (!c) fail("content", "Missing required parameter: 'content'.", "missing_required_parameter");
    r.content = read_string(*c, "content");
    if (const Json* v = find_field(b, "add_special")) r.add_special = read_bool(*v, "add_special");
    if (const Json* v = find_field(b, "parse_special")) r.parse_special = read_bool(*v, "parse_special");
    if (const Json* v = find_field(b, "with_pieces")) r.with_pieces = read_bool(*v, "with_pieces");
  });
}

std::variant<DetokenizeRequest, ApiError> parse_detokenize_request(std::string_view body) {
  return parse_with_model<DetokenizeRequest>(body, [](const Json& b, DetokenizeRequest& r) {
    const Json* t = find_field(b, "tokens");
    if (!t) fail("tokens", "Missing required parameter: 'tokens'.", "missing_required_parameter");
    read_array(*t, "tokens");
    for (size_t i = 0; i < t->size(); ++i)
      r.tokens.push_back(
          int32_t(read_integer((*t)[i], index_path("tokens", i), 0, std::numeric_limits<int32_t>::max())));
  });
}

nlohmann::ordered_json tokenize_response_json(const std::vector<int32_t>& ids, const std::vector<std::string>* pieces) {
  nlohmann::ordered_json toks = nlohmann::ordered_json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!pieces) {
      toks.push_back(ids[i]);
      continue;
    }
    const std::string& p = i < pieces->size() ? (*pieces)[i] : std::string();
    nlohmann::ordered_json piece;
    if (is_valid_utf8(p)) {
      piece = p;
    } else {
      piece = nlohmann::ordered_json::array();
      for (char c : p) piece.push_back(int(uint8_t(c)));
    }
    toks.push_back(nlohmann::ordered_json{{"id", ids[i]}, {"piece", std::move(piece)}});
  }
  return nlohmann::ordered_json{{"tokens", std::move(toks)}};
}

nlohmann::ordered_json detokenize_response_json(std::string_view content) {
  return nlohmann::ordered_json{{"content", std::string(content)}};
}

}  // namespace dawn::server
