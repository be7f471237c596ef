// Building blocks of the JSON Schema -> GBNF converter: GBNF expressions with their precedence
// (so parentheses go only where needed), code-point sets and their GBNF classes, and the JSON
// text forms of a set of string characters. Internal to src/text/json_schema_*.cpp.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dawn::schema_gbnf {

// A GBNF expression. text "" is the empty string (GBNF has no token for it: the builders below
// fold it into `?` or drop it from sequences). A language with no strings at all ("never") is
// std::nullopt wherever a builder may produce it.
struct Expr {
  enum Prec { kAlt, kSeq, kPostfix, kAtom };  // kPostfix: x* etc., not itself postfixable
  std::string text;
  Prec prec = kAtom;
  std::optional<std::string> literal;  // set when the expression is one string literal: its bytes
  std::vector<Expr> items;             // kSeq: the elements (so sequences flatten and literals merge)

  Expr() = default;
  Expr(std::string t, Prec p, std::optional<std::string> lit = std::nullopt, std::vector<Expr> seq_items = {})
      : text(std::move(t)), prec(p), literal(std::move(lit)), items(std::move(seq_items)) {}

  bool empty() const { return text.empty(); }
};

Expr eps();
Expr lit(std::string_view bytes);     // matches exactly these UTF-8 bytes ("" -> eps)
Expr ref(std::string name);           // a rule reference
Expr seq(std::vector<Expr> parts);    // adjacent literals are merged into one
Expr alt(std::vector<Expr> options);  // duplicates dropped; an eps option makes the rest optional
Expr opt(Expr e);
// e repeated min..max times (max nullopt: unbounded).
Expr rep(Expr e, uint64_t min, std::optional<uint64_t> max);
// Parenthesized when needed to stand as one element of a sequence.
std::string as_seq_item(const Expr& e);

// A set of Unicode code points as sorted, disjoint, non-adjacent inclusive ranges.
class CharSet {
 public:
  static constexpr uint32_t kMax = 0x10FFFF;
  CharSet() = default;
  static CharSet of(uint32_t cp) { return range(cp, cp); }
  static CharSet range(uint32_t first, uint32_t last);
  static CharSet all() { return range(0, kMax); }

  void add(uint32_t first, uint32_t last);
  void add(const CharSet& other);
  CharSet complement() const;
  CharSet minus(const CharSet& other) const;
  CharSet intersect(const CharSet& other) const;
  bool contains(uint32_t cp) const;
  bool empty() const { return ranges_.empty(); }
  bool is_all() const { return ranges_.size() == 1 && ranges_[0].first == 0 && ranges_[0].second == kMax; }
  const std::vector<std::pair<uint32_t, uint32_t>>& ranges() const { return ranges_; }

 private:
  std::vector<std::pair<uint32_t, uint32_t>> ranges_;
};

// One character of the set as a GBNF element: ".", a literal or a (possibly negated) class.
// The set must not be empty.
Expr char_class(const CharSet& set);

// The GBNF escape of one code point inside "..." (in_class false) or [...] (true).
std::string gbnf_escape(uint32_t cp, bool in_class);

// Decodes UTF-8; false for malformed text (overlong, surrogates, truncated).
bool utf8_decode(std::string_view s, std::vector<uint32_t>* out);

// The JSON text (inside a string's quotes) of one character of set: raw where JSON allows it,
// the short escapes, \u00XX (either hex case) for other control characters. nullopt if set is
// empty. The full set is the rule `char`, which also takes every \uXXXX escape.
std::optional<Expr> json_chars(const CharSet& set);
// The canonical JSON text of one code point inside a string: raw, a short escape, or \u00xx.
std::string json_char_text(uint32_t cp);

// The characters JSON allows unescaped in a string: all but '"', '\\' and U+0000..U+001F.
const CharSet& json_raw_chars();

}  // namespace dawn::schema_gbnf
