// Helpers shared by the JSON Schema -> GBNF tests (test-only).
#pragma once
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_gbnf_recognizer.h"
#include "text/json_schema_grammar.h"

namespace dawn::testonly {

using Json = nlohmann::ordered_json;

inline Json J(const char* text) { return Json::parse(text); }

// JSON with one space after each ':' and ',' between tokens: the other style the grammars take.
inline std::string spaced(const Json& v) {
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + spaced(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s = "{";
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      s += (first ? "" : ", ") + Json(k).dump() + ": " + spaced(x);
      first = false;
    }
    return s + "}";
  }
  return v.dump();
}

inline TestGbnfRecognizer recognizer(const Json& schema) { return TestGbnfRecognizer(json_schema_to_gbnf(schema)); }

inline bool accepts(const Json& schema, const std::string& text) { return recognizer(schema).accepts(text); }

inline std::string error_of(const Json& schema) {
  try {
    json_schema_to_gbnf(schema);
  } catch (const SchemaError& e) {
    return e.what();
  }
  return "(no error)";
}

// The body of one rule of a grammar.
inline std::string rule(const std::string& gbnf, const std::string& name) {
  std::istringstream in(gbnf);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ::= ", 0) == 0) return line.substr(name.size() + 5);
  return "(no rule " + name + ")";
}

}  // namespace dawn::testonly
