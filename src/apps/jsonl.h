// JSON-lines batch input shared by the tokenize, detokenize and template commands.
#pragma once
#include <fstream>
#include <string>

#include "util/error.h"

namespace dawn {

// Calls fn(object, line number) for each non-empty line of path, which must be a JSON object
// holding `key`; errors name the file and line. Json: nlohmann::json or nlohmann::ordered_json.
template <class Json, class Fn>
void for_each_jsonl(const std::string& path, const char* key, Fn fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    Json j;
    try {
      j = Json::parse(line);
    } catch (const typename Json::exception&) {
      throw Error(path + ":" + std::to_string(n) + ": not valid JSON");
    }
    if (!j.is_object() || !j.contains(key))
      throw Error(path + ":" + std::to_string(n) + ": expected an object with '" + key + "'");
    fn(j, n);
  }
}

}  // namespace dawn
