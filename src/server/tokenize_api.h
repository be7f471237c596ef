// The /tokenize and /detokenize endpoints in llama-server's shape:
//   POST /tokenize   {"content": "text", "add_special": false, "parse_special": true,
//                     "with_pieces": false}  ->  {"tokens": [ids]}
//                     or, with_pieces, {"tokens": [{"id": 1, "piece": "text" or [bytes]}]}
//   POST /detokenize {"tokens": [ids]}  ->  {"content": "text"}
// An optional "model" names the model (checked by the caller, like the completions' model).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/api_error.h"

namespace dawn::server {

struct TokenizeRequest {
  std::string model;  // "" when not given
  std::string content;
  bool add_special = false;   // add BOS/EOS as the model's metadata says
  bool parse_special = true;  // special-token text (e.g. "<|im_end|>") becomes its id
  bool with_pieces = false;
};

struct DetokenizeRequest {
  std::string model;
  std::vector<int32_t> tokens;  // ids >= 0; check_token_ids(tokens, n_vocab, "tokens") checks the vocabulary
};

std::variant<TokenizeRequest, ApiError> parse_tokenize_request(std::string_view body);
std::variant<DetokenizeRequest, ApiError> parse_detokenize_request(std::string_view body);

// pieces: each token's bytes (same length as ids) when with_pieces, else nullptr. A piece that
// is valid UTF-8 is a string, else the array of its bytes (as llama-server sends it).
nlohmann::ordered_json tokenize_response_json(const std::vector<int32_t>& ids, const std::vector<std::string>* pieces);
nlohmann::ordered_json detokenize_response_json(std::string_view content);

}  // namespace dawn::server
