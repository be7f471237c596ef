// Typed, range-checked reads of JSON request fields for the server's parsers: every wrong
// type, out-of-range value, malformed byte or over-deep nesting becomes an ApiError naming the
// field path ("messages[2].content") and the value, thrown as FieldError inside a parser and
// returned by its public entry point.
#pragma once
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "server/api_error.h"

namespace dawn::server {

using Json = nlohmann::ordered_json;

// Thrown by the readers below; the parse_* functions catch it and return the error.
struct FieldError {
  ApiError error;
};

[[noreturn]] void fail(std::string param, std::string message, std::string code = "invalid_value");
[[noreturn]] void fail_type(const std::string& param, const char* expected, const Json& got);

// Parses a request body. Bodies nesting deeper than max_depth are refused before parsing (the
// parser and the checks that follow stay shallow); malformed JSON, invalid UTF-8 in a string and
// unpaired \u surrogates are refused with the byte offset and the field path they occur in.
Json parse_json_body(std::string_view body, int max_depth = 64);

// Path of the value that byte `offset` of JSON text lies in, e.g. "messages[2].content"
// ("" at the top level). The text before offset need only be a prefix of valid JSON.
std::string json_path_at(std::string_view text, size_t offset);

// Whether s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);
// s fit to quote in a message: invalid UTF-8 bytes and control characters as \xNN, and cut
// (on a character boundary) to about max_bytes with "..." after.
std::string printable(std::string_view s, size_t max_bytes = 64);
// A value as a message quotes it: "text" (cut), 3.5, true, null, an array, an object.
std::string describe(const Json& v);

// "parent.key" ("key" when parent is ""), "parent[i]".
std::string field_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, size_t i);

// The member `key` of an object; nullptr when absent or null (OpenAI treats a null optional
// field as absent).
const Json* find_field(const Json& obj, const char* key);

bool read_bool(const Json& v, const std::string& param);
const std::string& read_string(const Json& v, const std::string& param);
const Json& read_object(const Json& v, const std::string& param);
const Json& read_array(const Json& v, const std::string& param);
// A finite number in [lo, hi] ((lo, hi] when lo_open).
double read_number(const Json& v, const std::string& param, double lo, double hi, bool lo_open = false);
// An integer in [lo, hi]; a float with an integral value (100.0) counts as one.
int64_t read_integer(const Json& v, const std::string& param, int64_t lo, int64_t hi);

// A parser's entry point: body parsed as a JSON object and read into a fresh R by
// read(object, r); a FieldError (or any JSON exception, which no known input reaches) comes back
// as the ApiError instead of escaping.
template <class R, class Read>
std::variant<R, ApiError> parse_object(std::string_view body, Read read) {
  try {
    const Json b = parse_json_body(body);
    if (!b.is_object()) fail_type("", "a JSON object", b);
    R r;
    read(b, r);
    return r;
  } catch (const FieldError& e) {
    return e.error;
  } catch (const nlohmann::json::exception& e) {
    return bad_request("", "Invalid request: " + printable(e.what(), 200));
  }
}

}  // namespace dawn::server
