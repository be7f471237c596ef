// JSON Schema `pattern` -> GBNF of the JSON string values it matches. Internal to the converter.
//
// The subset of ECMA-262 (the dialect JSON Schema names) it takes: literal characters, escaped
// metacharacters, \t \n \r \f \v \0 \xHH \uHHHH (pairs too), \d \D \w \W \s \S (ECMA's ASCII
// \d and \w, ECMA's \s), `.` (anything but \n \r U+2028 U+2029), classes [...] and [^...] with
// ranges, groups (...) (?:...) (?<name>...), |, and * + ? {n} {n,} {n,m} (lazy forms too: same
// language). ^ may open and $ may close a top-level alternative. As in JSON Schema the match is
// a search: an alternative without ^ may be preceded, without $ followed, by any characters.
// Anything else (backreferences, lookaround, \b, \p{..}, flags) is an error.
#pragma once
#include <stdexcept>
#include <string>

#include "text/json_schema_expr.h"

namespace dawn::schema_gbnf {

struct PatternError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The JSON string texts (quotes included) whose value the pattern matches; throws PatternError.
Expr pattern_string(const std::string& pattern);

}  // namespace dawn::schema_gbnf
