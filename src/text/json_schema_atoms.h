// Schemas in disjunctive normal form for the converter: a conjunction of schemas (allOf, $ref
// with siblings, the keywords of one object) becomes a list of alternatives (anyOf/oneOf
// distributed over the rest), each an Atom with every keyword's constraint intersected.
// Subschemas of properties and items stay unexpanded (Locs), so recursion is left to the rules.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "text/json_schema_numbers.h"

namespace dawn::schema_gbnf {

using Json = nlohmann::ordered_json;

// A schema and its JSON pointer ("#/properties/a") in the root document.
struct Loc {
  const Json* node;
  std::string ptr;
};

// Types as bits; "number" is kNumber|kInteger (every integer is a number).
enum TypeBits : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kString = 16,
  kInteger = 32,
  kNumber = 64,
  kAllTypes = 127,
};

// One schema object's properties/additionalProperties, or prefixItems/items.
struct ObjectPart {
  std::vector<std::pair<std::string, Loc>> properties;  // declaration order
  std::optional<Loc> additional;                        // absent: any value
};
struct ArrayPart {
  std::vector<Loc> prefix;
  std::optional<Loc> items;  // absent: any value
};

struct Atom {
  uint8_t types = kAllTypes;
  // enum/const: the values left after intersecting every enum and const met (nullopt: none met).
  std::optional<std::vector<Json>> values;
  std::string values_ptr;
  // Keywords that constrain a type, with where they stand (for "cannot combine" errors).
  std::vector<std::pair<std::string, std::string>> keywords;

  std::optional<Bound> lower, upper;  // numbers

  uint64_t min_length = 0;  // strings, in code points
  std::optional<uint64_t> max_length;
  std::vector<std::pair<std::string, std::string>> patterns;  // (pattern, pointer)
  std::vector<std::pair<std::string, std::string>> formats;   // (format, pointer)

  uint64_t min_items = 0;  // arrays
  std::optional<uint64_t> max_items;
  std::vector<ArrayPart> arrays;

  std::vector<ObjectPart> objects;  // objects
  std::vector<std::string> required;
};

// The alternatives of the conjunction of locs (none: it matches nothing). Throws SchemaError.
std::vector<Atom> normalize(const Json& root, const std::vector<Loc>& locs);

// The schema loc points to when loc is nothing but a $ref (besides annotations and $defs), so
// that every use of a definition shares one rule named after it.
std::optional<Loc> pure_ref_target(const Json& root, const Loc& loc);

// Escapes a property name as a JSON pointer segment (RFC 6901: ~ as ~0, / as ~1).
std::string pointer_segment(const std::string& name);

}  // namespace dawn::schema_gbnf
