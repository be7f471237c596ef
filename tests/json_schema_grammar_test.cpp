// JSON Schema -> GBNF (src/text/json_schema_grammar.h): the grammar text per feature (spot
// checks), what it accepts (with the test-only recognizer, tests/test_gbnf_recognizer.h), and
// errors with their JSON pointer. Ranges and dates: json_schema_ranges_test.cpp; the schema
// suite: json_schema_suite_test.cpp.
#include "text/json_schema_grammar.h"

#include <gtest/gtest.h>

#include "json_schema_test_helpers.h"

namespace dawn {
namespace {

using namespace testonly;

// --- the recognizer itself ------------------------------------------------------------------

TEST(JsonSchemaRecognizer, MatchesItsDialect) {
  TestGbnfRecognizer g("root ::= \"a\" b{2,3} (c | \"\\x41\")? [^0-9\\x2D]* .\nb ::= [0-9]\nc ::= \"\\u00E9\"+\n");
  EXPECT_TRUE(g.accepts("a12x"));
  EXPECT_TRUE(g.accepts("a123\xC3\xA9\xC3\xA9zz!"));
  EXPECT_TRUE(g.accepts("a12A-"));  // the last character is `.`
  EXPECT_FALSE(g.accepts("a1x"));
  EXPECT_FALSE(g.accepts("a12-x"));
  EXPECT_FALSE(g.accepts("a12"));
}

TEST(JsonSchemaRecognizer, RejectsOutsideTheDialect) {
  for (const char* bad :
       {"root ::= x\n", "root ::= \"a\" # c\n", "root ::= [a-]\n", "root ::= \"\\q\"\n", "root ::= \"a\"**\n",
        "root ::= (\"a\" | )\n", "root ::= \"a\"\nunused ::= \"b\"\n", "start ::= \"a\"\n", "root ::= \"\"\n"})
    EXPECT_THROW(TestGbnfRecognizer{bad}, std::runtime_error) << bad;
}

// --- grammar text per feature -----------------------------------------------------------------

TEST(JsonSchemaGrammar, AnyValueAndJsonObject) {
  EXPECT_EQ(rule(json_schema_to_gbnf(J("true")), "root"), "value");
  EXPECT_EQ(rule(json_schema_to_gbnf(J("{}")), "root"), "value");
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"description": "anything", "$schema": "x"})")), "root"), "value");
  const std::string g = json_object_gbnf();
  EXPECT_EQ(g.substr(0, 16), "root ::= object\n");
  EXPECT_EQ(rule(g, "ws"), "\" \"?");
  TestGbnfRecognizer r(g);
  EXPECT_TRUE(r.accepts(R"({"a": [1, 2.5e-3, "x\n\u00e9\ud83d\ude00"], "b":{"c":null,"d":true}})"));
  EXPECT_TRUE(r.accepts("{}"));
  EXPECT_FALSE(r.accepts("[]"));
  EXPECT_FALSE(r.accepts(R"({"a":"\ud83d"})"));  // a lone surrogate is not a character
  EXPECT_FALSE(r.accepts(R"({"a":01})"));
  EXPECT_FALSE(r.accepts("{\"a\":\"\x01\"}"));
}

TEST(JsonSchemaGrammar, Types) {
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "string"})")), "root"), "string");
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "integer"})")), "root"), "integer");
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": ["string", "null"]})")), "root"), "string | null");
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": ["integer", "number"]})")), "root"), "number");
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "boolean"})")), "boolean"), "\"true\" | \"false\"");
  const Json num = J(R"({"type": "number"})");
  for (const char* ok : {"0", "-0", "12", "-1.5", "1e9", "2.5E-3", "1E+2"}) EXPECT_TRUE(accepts(num, ok)) << ok;
  for (const char* bad : {"01", "+1", ".5", "1.", "1e", "NaN", "0x1"}) EXPECT_FALSE(accepts(num, bad)) << bad;
  EXPECT_FALSE(accepts(J(R"({"type": "integer"})"), "1.0"));
}

TEST(JsonSchemaGrammar, ObjectRequiredAndOptionalInOrder) {
  const Json s = J(R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"},
      "c": {"type": "boolean"}}, "required": ["b"], "additionalProperties": false})");
  const std::string g = json_schema_to_gbnf(s);
  EXPECT_EQ(rule(g, "root"),
            "\"{\" (\"\\\"a\\\":\" ws integer \",\" ws \"\\\"b\\\":\" ws string | \"\\\"b\\\":\" ws string) "
            "(\",\" ws \"\\\"c\\\":\" ws boolean)? \"}\"");
  TestGbnfRecognizer r(g);
  for (const char* ok :
       {R"({"b":"x"})", R"({"a":1,"b":"x"})", R"({"b":"x","c":true})", R"({"a":1, "b":"x", "c":false})"})
    EXPECT_TRUE(r.accepts(ok)) << ok;
  for (const char* bad : {"{}", R"({"a":1})", R"({"b":"x","a":1})", R"({"b":"x","d":1})", R"({"b":"x",})"})
    EXPECT_FALSE(r.accepts(bad)) << bad;
}

TEST(JsonSchemaGrammar, ManyOptionalMembersStayLinear) {
  Json s = J(R"({"type": "object", "properties": {}, "additionalProperties": false})");
  for (int i = 0; i < 30; ++i)
    s["properties"][std::string("p").append(std::to_string(i))] = J(R"({"type": "integer"})");
  const std::string g = json_schema_to_gbnf(s);
  EXPECT_LT(g.size(), 12000u);
  TestGbnfRecognizer r(g);
  EXPECT_TRUE(r.accepts("{}"));
  EXPECT_TRUE(r.accepts(R"({"p3":1,"p17":2,"p29":3})"));
  EXPECT_TRUE(r.accepts(R"({"p29":3})"));
  EXPECT_FALSE(r.accepts(R"({"p17":2,"p3":1})"));
}

TEST(JsonSchemaGrammar, AdditionalProperties) {
  // Absent: JSON Schema's default, any further member; its name is none of the declared ones.
  const Json open = J(R"({"type": "object", "properties": {"id": {"type": "integer"}, "ids": {"type": "string"}}})");
  TestGbnfRecognizer r(json_schema_to_gbnf(open));
  for (const char* ok : {R"({"id":1,"x":[1]})", R"({"i":true})", R"({"idx":1})", R"({"id":1,"ids":"a","":0})",
                         R"({"Id":"s","i\"d":1})", R"({"\n":1})"})
    EXPECT_TRUE(r.accepts(ok)) << ok;
  // Not even spelled with escapes: "\u0069d" is "id".
  for (const char* bad :
       {R"({"id":"text"})", R"({"x":1,"id":1})", R"({"ids":1})", R"({"\u0069d":"text"})", R"({"i\u0064":"text"})"})
    EXPECT_FALSE(r.accepts(bad)) << bad;
  // A schema for the others.
  const Json typed = J(R"({"properties": {"name": {"type": "string"}}, "additionalProperties": {"type": "number"}})");
  EXPECT_TRUE(accepts(typed, R"({"name":"n","w":1.5,"h":2})"));
  EXPECT_FALSE(accepts(typed, R"({"name":"n","w":"x"})"));
  EXPECT_FALSE(accepts(typed, R"({"name":1})"));
  EXPECT_TRUE(accepts(typed, "[1]"));  // no type: other types are unconstrained
  // false: nothing else.
  EXPECT_FALSE(accepts(J(R"({"type": "object", "additionalProperties": false})"), R"({"a":1})"));
  EXPECT_TRUE(accepts(J(R"({"type": "object", "additionalProperties": false})"), "{}"));
}

TEST(JsonSchemaGrammar, Whitespace) {
  const Json s = J(R"({"type": "object", "properties": {"a": {"type": "array"}, "b": {"type": "integer"}}})");
  TestGbnfRecognizer r(json_schema_to_gbnf(s));
  EXPECT_TRUE(r.accepts(R"({"a":[1,2],"b":3})"));
  EXPECT_TRUE(r.accepts(R"({"a": [1, 2], "b": 3})"));
  for (const char* bad : {R"({"a":  [1]})", R"({ "a":[1]})", R"({"a" :[1]})", R"({"a":[1] })", "{\"a\":\n[1]}",
                          "{\"a\":\t[1]}", R"( {"a":[1]})", R"({"a":[1]} )"})
    EXPECT_FALSE(r.accepts(bad)) << bad;
}

TEST(JsonSchemaGrammar, EnumAndConst) {
  const std::string g = json_schema_to_gbnf(J(R"({"enum": ["red", "green", 3, null, [1, "a"], {"k": false}]})"));
  EXPECT_EQ(rule(g, "root"),
            "\"\\\"red\\\"\" | \"\\\"green\\\"\" | \"3\" | \"null\" | \"[1,\" ws \"\\\"a\\\"]\" | "
            "\"{\\\"k\\\":\" ws \"false}\"");
  TestGbnfRecognizer r(g);
  for (const char* ok : {R"("red")", "3", "null", R"([1, "a"])", R"({"k":false})"}) EXPECT_TRUE(r.accepts(ok)) << ok;
  for (const char* bad : {R"("blue")", "3.0", R"(["a",1])", R"({"k":true})"}) EXPECT_FALSE(r.accepts(bad)) << bad;
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"const": "a\"b\n\u00e9"})")), "root"), "\"\\\"a\\\\\\\"b\\\\n\\u00E9\\\"\"");
  // type filters enum values; allOf intersects them (by JSON equality: 2 == 2.0).
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "integer", "enum": [1, 1.5, "x", 2.0]})")), "root"),
            "\"1\" | \"2.0\"");
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"allOf": [{"enum": [1, 2, 3]}, {"enum": [3, 2.0]}]})")), "root"),
            "\"2\" | \"3\"");
}

TEST(JsonSchemaGrammar, Arrays) {
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "array", "items": {"type": "integer"}})")), "root"),
            "\"[\" (integer (\",\" ws integer)*)? \"]\"");
  EXPECT_EQ(
      rule(json_schema_to_gbnf(J(R"({"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4})")),
           "root"),
      "\"[\" string (\",\" ws string){1,3} \"]\"");
  const Json tuple = J(R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                          "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3})");
  TestGbnfRecognizer r(json_schema_to_gbnf(tuple));
  for (const char* ok : {R"(["a"])", R"(["a",1])", R"(["a", 1, true])"}) EXPECT_TRUE(r.accepts(ok)) << ok;
  for (const char* bad : {"[]", "[1]", R"(["a",1,true,false])", R"(["a",true])"}) EXPECT_FALSE(r.accepts(bad)) << bad;
  const Json closed = J(R"({"prefixItems": [{"const": 1}], "items": false})");
  EXPECT_TRUE(accepts(closed, "[]"));
  EXPECT_TRUE(accepts(closed, "[1]"));
  EXPECT_FALSE(accepts(closed, "[1,1]"));
  EXPECT_EQ(error_of(J(R"({"type": "array", "minItems": 3, "maxItems": 2})")), "#: the schema matches no JSON value");
}

TEST(JsonSchemaGrammar, StringLengthsCountCharacters) {
  const Json s = J(R"({"type": "string", "minLength": 2, "maxLength": 3})");
  EXPECT_EQ(rule(json_schema_to_gbnf(s), "root"), "\"\\\"\" char{2,3} \"\\\"\"");
  TestGbnfRecognizer r(json_schema_to_gbnf(s));
  for (const char* ok :
       {R"("ab")", R"("abc")", R"("\n\"")", "\"\xC3\xA9\xF0\x9F\x98\x80\"", R"("\ud83d\ude00x")", R"("\u00e9\/")"})
    EXPECT_TRUE(r.accepts(ok)) << ok;
  for (const char* bad : {R"("a")", R"("abcd")", R"("\ud83d\ude00")", R"("a\x")"}) EXPECT_FALSE(r.accepts(bad)) << bad;
}

TEST(JsonSchemaGrammar, IntegerRangeText) {
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "integer", "minimum": 1, "maximum": 12})")), "root"),
            "[1-9] | \"1\" [0-2]");
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "integer", "minimum": 0})")), "root"), "[0-9] | [1-9] [0-9]+");
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "integer", "minimum": -50, "maximum": 50})")), "root"),
            "[0-9] | [1-4] [0-9] | \"50\" | \"-\" ([1-9] | [1-4] [0-9] | \"50\")");
}

TEST(JsonSchemaGrammar, TimeDateTimeUuidEmail) {
  TestGbnfRecognizer t = recognizer(J(R"({"type": "string", "format": "time"})"));
  for (const char* ok : {R"("00:00:00Z")", R"("23:59:59.123456789+05:30")", R"("12:30:00-08:00")"})
    EXPECT_TRUE(t.accepts(ok)) << ok;
  for (const char* bad : {R"("24:00:00Z")", R"("12:60:00Z")", R"("12:00:00")", R"("12:00:00+24:00")", R"("12:00Z")",
                          R"("12:00:00.Z")", R"("12:00:00.1234567890Z")"})
    EXPECT_FALSE(t.accepts(bad)) << bad;
  TestGbnfRecognizer dt = recognizer(J(R"({"format": "date-time", "type": "string"})"));
  EXPECT_TRUE(dt.accepts(R"("2024-02-29T08:15:00Z")"));
  EXPECT_FALSE(dt.accepts(R"("2023-02-29T08:15:00Z")"));
  EXPECT_FALSE(dt.accepts(R"("2024-02-28 08:15:00Z")"));
  TestGbnfRecognizer u = recognizer(J(R"({"type": "string", "format": "uuid"})"));
  EXPECT_TRUE(u.accepts(R"("123e4567-e89b-12d3-A456-426614174000")"));
  EXPECT_FALSE(u.accepts(R"("123e4567e89b12d3a456426614174000")"));
  EXPECT_FALSE(u.accepts(R"("123e4567-e89b-12d3-a456-42661417400g")"));
  TestGbnfRecognizer e = recognizer(J(R"({"type": "string", "format": "email"})"));
  for (const char* ok : {R"("a@b.co")", R"("first.last+tag@mail.example.org")", R"("x_y@sub-domain.io")"})
    EXPECT_TRUE(e.accepts(ok)) << ok;
  for (const char* bad : {R"("a@b")", R"("@b.co")", R"("a..b@c.de")", R"("a@-b.co")", R"("a b@c.de")", R"("a@b.co.")"})
    EXPECT_FALSE(e.accepts(bad)) << bad;
  // Without "type" a format constrains strings only.
  EXPECT_TRUE(accepts(J(R"({"format": "uuid"})"), "12"));
}

TEST(JsonSchemaGrammar, Patterns) {
  EXPECT_EQ(rule(json_schema_to_gbnf(J(R"({"type": "string", "pattern": "^[0-9]{3}-[0-9]{4}$"})")), "root"),
            "\"\\\"\" [0-9]{3} \"-\" [0-9]{4} \"\\\"\"");
  const Json phone = J(R"({"type": "string", "pattern": "^\\+?[1-9]\\d{1,14}$"})");
  TestGbnfRecognizer r = recognizer(phone);
  for (const char* ok : {R"("+14155552671")", R"("442071838750")"}) EXPECT_TRUE(r.accepts(ok)) << ok;
  for (const char* bad : {R"("+0123")", R"("1")", R"("+1-415")", R"("1234567890123456")"})
    EXPECT_FALSE(r.accepts(bad)) << bad;
  // Unanchored sides are searches, as in JSON Schema.
  TestGbnfRecognizer s = recognizer(J(R"({"type": "string", "pattern": "ab+c"})"));
  for (const char* ok : {R"("abc")", R"("xxabbbcyy")", R"("\nabc\"")"}) EXPECT_TRUE(s.accepts(ok)) << ok;
  EXPECT_FALSE(s.accepts(R"("ac")"));
  TestGbnfRecognizer alt = recognizer(J(R"({"pattern": "^(cat|dog)s?$|^bird$"})"));
  for (const char* ok : {R"("cat")", R"("dogs")", R"("bird")"}) EXPECT_TRUE(alt.accepts(ok)) << ok;
  for (const char* bad : {R"("cats!")", R"("birds")", R"("")"}) EXPECT_FALSE(alt.accepts(bad)) << bad;
  // Characters that JSON escapes are matched in their escaped form; `.` excludes line ends.
  TestGbnfRecognizer q = recognizer(J(R"({"type": "string", "pattern": "^\"[^\"\\\\]*\"\\\\.$"})"));
  EXPECT_TRUE(q.accepts(R"("\"a/b\"\\x")"));
  EXPECT_TRUE(q.accepts(R"("\"\"\\\t")"));
  EXPECT_FALSE(q.accepts(R"("\"\"\\\n")"));
  EXPECT_FALSE(q.accepts(R"("\"\\\"\\x")"));
  TestGbnfRecognizer w = recognizer(J(R"({"type": "string", "pattern": "^\\w+\\s\\W$"})"));
  EXPECT_TRUE(w.accepts("\"a_1\\t\xC3\xA9\""));
  EXPECT_TRUE(w.accepts(R"("a \u0001")"));
  EXPECT_TRUE(w.accepts(R"("a  ")"));  // a space is \W too
  EXPECT_FALSE(w.accepts(R"("a b")"));
  EXPECT_FALSE(w.accepts(R"("- x")"));
}

TEST(JsonSchemaGrammar, RefsAndRecursion) {
  const Json tree = J(R"({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
      "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
      "required": ["value"], "additionalProperties": false}}})");
  const std::string g = json_schema_to_gbnf(tree);
  EXPECT_EQ(rule(g, "root"), "node");
  EXPECT_EQ(
      rule(g, "node"),
      "\"{\\\"value\\\":\" ws integer (\",\" ws \"\\\"children\\\":\" ws \"[\" (node (\",\" ws node)*)? \"]\")? \"}\"");
  TestGbnfRecognizer r(g);
  EXPECT_TRUE(r.accepts(R"({"value":1,"children":[{"value":2},{"value":3,"children":[{"value":4,"children":[]}]}]})"));
  EXPECT_FALSE(r.accepts(R"({"value":1,"children":[{"children":[]}]})"));
  // "#" itself, and definitions/.
  const Json list = J(R"({"type": "object", "properties": {"head": {"type": "string"}, "tail": {"anyOf": [{"$ref": "#"},
      {"type": "null"}]}}, "required": ["head", "tail"], "additionalProperties": false})");
  EXPECT_TRUE(accepts(list, R"({"head":"a","tail":{"head":"b","tail":null}})"));
  EXPECT_FALSE(accepts(list, R"({"head":"a","tail":{"head":"b"}})"));
  EXPECT_TRUE(accepts(J(R"({"definitions": {"a~/b": {"const": 1}}, "$ref": "#/definitions/a~0~1b"})"), "1"));
  EXPECT_TRUE(accepts(J(R"({"$defs": {"x y": {"const": 1}}, "$ref": "#/$defs/x%20y"})"), "1"));
}

TEST(JsonSchemaGrammar, AllOfAnyOfOneOf) {
  // allOf merges properties (each part's additionalProperties applies to the others' names).
  const Json merged = J(R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
      {"properties": {"b": {"type": "string"}, "a": {"minimum": 0}}, "required": ["b"]}]})");
  TestGbnfRecognizer m = recognizer(merged);
  EXPECT_TRUE(m.accepts(R"({"a":0,"b":"x"})"));
  EXPECT_TRUE(m.accepts(R"({"a":5,"b":"x","c":null})"));
  EXPECT_FALSE(m.accepts(R"({"a":-1,"b":"x"})"));
  EXPECT_FALSE(m.accepts(R"({"a":1})"));
  const Json closed = J(R"({"type": "object", "allOf": [{"properties": {"a": {}}, "additionalProperties": false},
      {"properties": {"b": {}}, "required": ["b"]}]})");
  EXPECT_EQ(error_of(closed), "#: the schema matches no JSON value");
  // anyOf with sibling keywords: each branch meets them.
  const Json any = J(R"({"type": "string", "anyOf": [{"maxLength": 2}, {"format": "date"}]})");
  TestGbnfRecognizer a = recognizer(any);
  EXPECT_TRUE(a.accepts(R"("ab")"));
  EXPECT_TRUE(a.accepts(R"("2024-01-31")"));
  EXPECT_FALSE(a.accepts(R"("abc")"));
  EXPECT_FALSE(a.accepts("12"));
  // oneOf of disjoint branches (tagged union).
  const Json tagged = J(R"({"oneOf": [
      {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}}, "required": ["kind", "r"], "additionalProperties": false},
      {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "number"}}, "required": ["kind", "side"], "additionalProperties": false}]})");
  TestGbnfRecognizer t = recognizer(tagged);
  EXPECT_TRUE(t.accepts(R"({"kind":"circle","r":1})"));
  EXPECT_TRUE(t.accepts(R"({"kind":"square","side":2})"));
  EXPECT_FALSE(t.accepts(R"({"kind":"circle","side":2})"));
  // Rule names follow the pointers.
  const std::string g = json_schema_to_gbnf(J(R"({"type": "object", "properties": {"home": {"type": "object",
      "properties": {"street": {"type": "string"}, "city": {"type": "string"}}, "required": ["street", "city"]}}})"));
  EXPECT_NE(rule(g, "home"), "(no rule home)");
}

// --- errors ---------------------------------------------------------------------------------

TEST(JsonSchemaErrors, NameThePointerAndKeyword) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"properties": {"age": {"type": "integer", "multipleOf": 2}}})",
       "#/properties/age: unsupported keyword 'multipleOf'"},
      {R"({"type": "array", "items": {"uniqueItems": true}})",
       "#/items: unsupported keyword 'uniqueItems' (true): a grammar cannot exclude repeats"},
      {R"({"patternProperties": {"^a": {}}})", "#: unsupported keyword 'patternProperties'"},
      {R"({"not": {"type": "null"}})", "#: unsupported keyword 'not'"},
      {R"({"if": {}, "then": {}})", "#: unsupported keyword 'if'"},
      {R"({"$defs": {"d": {"minProperties": 1}}, "$ref": "#/$defs/d"})",
       "#/$defs/d: unsupported keyword 'minProperties'"},
      {R"({"type": "string", "format": "uri"})",
       "#: unsupported format 'uri' (supported: date, time, date-time, uuid, email)"},
      {R"j({"properties": {"p": {"type": "string", "pattern": "^(?=a)"}}})j",
       "#/properties/p: pattern '^(?=a)' uses lookaround or group flags '(?' (offset 2), which is not supported"},
      {R"({"type": "string", "pattern": "(a)\\1"})",
       "#: pattern '(a)\\1' uses the escape \\1 (offset 4), which is not supported"},
      {R"({"type": "string", "pattern": "\\bword"})",
       "#: pattern '\\bword' uses the word boundary \\b (offset 1), which is not supported"},
      {R"({"type": "string", "pattern": "a^b"})",
       "#: pattern 'a^b' uses '^' after the start of the pattern (offset 1), which is not supported"},
      {R"({"type": "string", "pattern": "\\p{L}"})",
       "#: pattern '\\p{L}' uses the escape \\p (offset 1), which is not supported"},
      {R"({"type": "string", "pattern": "[a-z]+", "maxLength": 5})",
       "#: 'minLength'/'maxLength' together with 'pattern' (#) is not supported"},
      {R"({"allOf": [{"pattern": "a"}, {"pattern": "b"}]})",
       "#/allOf/1: two patterns on one string (allOf) are not supported"},
      {R"({"enum": ["a", "b"], "minLength": 1})", "#: 'minLength' together with enum/const (#) is not supported"},
      {R"({"$ref": "other.json#/a"})", "#: $ref 'other.json#/a' is not local (only '#...' references are supported)"},
      {R"({"$ref": "#/$defs/missing"})", "#: $ref '#/$defs/missing' does not resolve"},
      {R"({"$ref": "#anchor"})", "#: $ref '#anchor' names an anchor; only JSON pointers are supported"},
      {R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"})",
       "#/$defs/b: this schema includes itself (through $ref/allOf/anyOf) with no property or item in between"},
      {R"({"type": "integer", "minimum": 0, "exclusiveMinimum": true})",
       "#: boolean 'exclusiveMinimum' (draft 4) is not supported; give the bound as a number"},
      {R"({"type": "array", "items": [{"type": "string"}]})",
       "#: 'items' as an array (draft 2019-09 and earlier) is not supported; use 'prefixItems'"},
      {R"({"type": "strng"})", "#: 'type' \"strng\" is not a JSON Schema type"},
      {R"({"properties": {"a": 5}})", "#/properties/a: a schema must be an object or a boolean, not 5"},
      {R"({"minLength": -1})", "#: 'minLength' must be a non-negative integer, not -1"},
      {R"({"properties": {"a/b": {"nullable": true}}})", "#/properties/a~1b: unsupported keyword 'nullable'"},
      {R"({"properties": {"x": {"$id": "http://example.com/x"}}})",
       "#/properties/x: '$id' in a subschema (it changes how $ref resolves) is not supported"},
      {R"({"type": "object", "required": ["a"], "properties": {"a": false}})", "#: the schema matches no JSON value"},
      {R"({"type": "integer", "minimum": 5, "maximum": 4})", "#: the schema matches no JSON value"},
  };
  for (const auto& [schema, message] : cases) EXPECT_EQ(error_of(Json::parse(schema)), message) << schema;
}

// Schemas come with requests: nesting that would recurse deeply is refused, not followed.
TEST(JsonSchemaErrors, DeepNestingIsRefused) {
  Json deep = J(R"({"type": "integer"})");
  for (int i = 0; i < 1000; ++i) deep = Json{{"type", "array"}, {"items", deep}};
  EXPECT_NE(error_of(deep).find("schema nesting is deeper than 200 levels"), std::string::npos);
  Json all = J("{}");
  for (int i = 0; i < 1000; ++i) all = Json{{"allOf", Json::array({all})}};
  EXPECT_NE(error_of(all).find("nesting is deeper than 200 levels"), std::string::npos);
  const std::string groups = std::string(500, '(') + "a" + std::string(500, ')');
  EXPECT_NE(error_of(Json{{"pattern", groups}}).find("groups nested deeper than 100"), std::string::npos);
  Json wide = J(R"({"properties": {}})");
  wide["properties"][std::string(2000, 'k')] = true;
  EXPECT_EQ(error_of(wide), "#: a property name over 1000 characters beside additionalProperties");
}

TEST(JsonSchemaErrors, AnnotationsAreFine) {
  EXPECT_EQ(error_of(J(R"({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:x", "title": "t",
      "description": "d", "examples": [1], "default": 1, "$comment": "c", "deprecated": false, "readOnly": true,
      "writeOnly": false, "type": "integer"})")),
            "(no error)");
}

}  // namespace
}  // namespace dawn
