// JSON Schema -> GBNF: a grammar (llama.cpp's GBNF text syntax, start rule `root`) that matches
// exactly the JSON texts dawn may generate for a schema (response_format json_schema, tool calls).
//
// Contract. Soundness: every text the grammar accepts is JSON that validates against the schema
// (JSON Schema 2020-12, numbers compared as exact decimals: a validator that compares doubles may
// differ within a double's rounding of a bound). Completeness, up to representation:
// every valid instance is accepted in its canonical text, which is
//   - compact JSON, optionally with one space after each ':' and ',' (no other whitespace: a model
//     cannot loop on whitespace, and both `{"a":1}` and Python's `{"a": 1}` styles pass);
//   - object members in the order of `properties` (the first schema that declares each, for
//     allOf), then any additional members;
//   - strings with characters raw where JSON allows it, `\"` `\\` `\b` `\f` `\n` `\r` `\t`, and
//     `\u00XX` for other control characters (`\uXXXX` escapes of other characters are accepted
//     in free strings, not in const/enum texts, patterns or declared property names);
//   - numbers as written in `enum`/`const`; integers without fraction or exponent; bounded
//     numbers (minimum/maximum) without exponent.
// Anything the converter cannot express exactly throws SchemaError: the grammar is never looser
// than the schema. (Two caveats: oneOf is taken as anyOf, exact only for disjoint branches such as
// tagged unions; and a recursion with no way out, e.g. a required member that is the schema
// itself, gives a grammar with no finite sentence rather than an error.)
//
// Duplicate member names: a declared name never appears twice or as an additional member; two
// additional members may share a name (a grammar cannot exclude that), which changes nothing a
// validator decides since both values satisfy additionalProperties.
//
// Supported: boolean schemas; type (and type arrays); enum, const; properties, required,
// additionalProperties (absent = true, as JSON Schema says; OpenAI "strict" callers send false);
// items, prefixItems, minItems, maxItems, uniqueItems:false; minLength, maxLength (in code points);
// pattern (an ECMA-262 subset: see json_schema_regex.h); format date, time, date-time, uuid, email
// (see json_schema_formats.cpp); minimum, maximum, exclusiveMinimum, exclusiveMaximum for integers
// and numbers; anyOf; oneOf (as anyOf: overlapping branches are not excluded); allOf and sibling
// keywords of $ref/anyOf (intersected keyword by keyword; errors where two patterns or formats
// meet); $ref to any local JSON pointer ("#", "#/$defs/x", "#/definitions/x", ...), recursion
// included; $defs/definitions; annotations (title, description, examples, default, $schema, $id at
// the root, $comment, deprecated, readOnly, writeOnly).
#pragma once
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace dawn {

// A schema the converter does not support, or a malformed one. what() starts with the JSON pointer
// of the offending schema, e.g. "#/properties/age: unsupported keyword 'multipleOf'".
class SchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The GBNF grammar (one rule per line, `root` first) for JSON texts valid against schema.
std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema);

// The grammar of any JSON object (response_format {"type": "json_object"}), same whitespace rule.
std::string json_object_gbnf();

}  // namespace dawn
