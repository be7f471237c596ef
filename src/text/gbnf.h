// GBNF, llama.cpp's grammar syntax, parsed into a context-free grammar over Unicode code
// points: rules of alternatives of sequences of character sets and rule references, with the
// repetition operators already expanded into helper rules. The grammar engine
// (text/grammar.h) compiles this to bytes; the JSON Schema converter writes GBNF text.
//
// Syntax: `name ::= alternatives` (names [A-Za-z0-9_-]+, start rule `root`, a rule runs until the
// next `name ::=`, so rules may span lines); "literal" and [class] / [^class] with \\ \" \] \n
// \r \t \xHH \uHHHH \UHHHHHHHH escapes; `.` any character; ( ) grouping; `|`; postfix `*` `+` `?`
// `{n}` `{n,}` `{n,m}`; `#` comments.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dawn {

struct GrammarElem {
  enum Kind : uint8_t { Chars, Ref } kind = Chars;
  // Chars: sorted, disjoint, non-adjacent inclusive code point ranges (never surrogates).
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  uint32_t rule = 0;  // Ref
};

struct GrammarRule {
  std::string name;
  std::vector<std::vector<GrammarElem>> alts;  // an empty alternative matches the empty string
};

struct Grammar {
  std::vector<GrammarRule> rules;
  uint32_t root = 0;
};

// Parses GBNF text; throws Error("grammar: line L col C: ...") on bad syntax, an undefined rule,
// a missing root, a left-recursive rule or a repetition of something that can match nothing
// (either would never stop expanding).
Grammar parse_gbnf(std::string_view text);

// The same grammar with up to max_ws spaces, tabs or newlines allowed before it: what a model
// writes after </think> before its answer.
Grammar with_leading_whitespace(Grammar g, int max_ws);

}  // namespace dawn
