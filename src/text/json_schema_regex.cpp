// An ECMA-262 regex subset -> GBNF over JSON string texts (see json_schema_regex.h).
#include "text/json_schema_regex.h"

#include "text/unicode.h"

#include <vector>

namespace dawn::schema_gbnf {

namespace {

CharSet digit_set() { return CharSet::range('0', '9'); }

CharSet word_set() {
  CharSet s = CharSet::range('a', 'z');
  s.add('A', 'Z');
  s.add('0', '9');
  s.add('_', '_');
  return s;
}

CharSet space_set() {                      // ECMA-262 WhiteSpace and LineTerminator
  CharSet s = CharSet::range('\t', '\r');  // \t \n \v \f \r
  for (uint32_t cp : {0x20u, 0xA0u, 0x1680u, 0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u, 0xFEFFu}) s.add(cp, cp);
  s.add(0x2000, 0x200A);
  return s;
}

CharSet dot_set() {
  CharSet s = CharSet::all();
  for (uint32_t cp : {0x0Au, 0x0Du, 0x2028u, 0x2029u}) s = s.minus(CharSet::of(cp));
  return s;
}

int hex_value(uint32_t c) {
  if (c >= '0' && c <= '9') return int(c - '0');
  if (c >= 'a' && c <= 'f') return int(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return int(c - 'A' + 10);
  return -1;
}

bool is_alnum(uint32_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// One parsed element: a single character set, or a general expression.
struct Piece {
  std::optional<CharSet> set;  // one character of this set
  Expr expr;
};

class Parser {
 public:
  explicit Parser(const std::string& pattern) : pattern_(pattern) {
    if (!utf8_decode(pattern, &s_)) fail("is not valid UTF-8");
  }

  Expr parse() {
    // Top level: each alternative may open with ^ and close with $; otherwise the match may
    // start or end anywhere in the string (JSON Schema patterns are searches).
    std::vector<Expr> alts;
    while (true) {
      const bool anchored_start = eat('^');
      bool anchored_end = false;
      Expr body = parse_sequence(/*top=*/true, &anchored_end);
      const Expr any = rep(ref("char"), 0, std::nullopt);
      alts.push_back(seq({anchored_start ? eps() : any, body, anchored_end ? eps() : any}));
      if (at_end()) break;
      if (!eat('|')) fail("unbalanced ')'");
    }
    return seq({lit("\""), alt(std::move(alts)), lit("\"")});
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw PatternError("pattern '" + pattern_ + "' " + what); }
  [[noreturn]] void unsupported(const std::string& what) const {
    fail("uses " + what + " (offset " + std::to_string(pos_) + "), which is not supported");
  }
  bool at_end() const { return pos_ >= s_.size(); }
  uint32_t peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : 0xFFFFFFFF; }
  bool eat(uint32_t c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  Expr parse_alternation() {
    std::vector<Expr> alts{parse_sequence(false, nullptr)};
    while (eat('|')) alts.push_back(parse_sequence(false, nullptr));
    return alt(std::move(alts));
  }

  Expr parse_sequence(bool top, bool* anchored_end) {
    std::vector<Expr> parts;
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$') {
        if (top && (pos_ + 1 == s_.size() || peek(1) == '|')) {
          ++pos_;
          *anchored_end = true;
          break;
        }
        unsupported("'$' before the end of the pattern");
      }
      parts.push_back(parse_quantified());
    }
    if (top && peek() == ')') fail("has an unbalanced ')'");
    return seq(std::move(parts));
  }

  Expr parse_quantified() {
    Piece p = parse_atom();
    if (p.set && p.set->empty()) unsupported("a class that matches no character");
    Expr e = p.set ? *json_chars(*p.set) : p.expr;
    if (p.set && p.set->ranges().size() == 1 && p.set->ranges()[0].first == p.set->ranges()[0].second)
      e = lit(json_char_text(p.set->ranges()[0].first));  // one character: its canonical text only
    uint64_t min, max = 0;
    bool bounded;
    if (eat('*')) {
      min = 0, bounded = false;
    } else if (eat('+')) {
      min = 1, bounded = false;
    } else if (eat('?')) {
      min = 0, max = 1, bounded = true;
    } else if (peek() == '{') {
      ++pos_;
      min = number();
      bounded = true;
      max = min;
      if (eat(',')) {
        if (peek() == '}')
          bounded = false;
        else
          max = number();
      }
      if (!eat('}')) fail("has a malformed {m,n} quantifier");
      if (bounded && max < min) fail("has a quantifier {m,n} with m > n");
    } else {
      return e;
    }
    eat('?');  // lazy: the same strings match
    if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{') fail("has a quantifier after a quantifier");
    return rep(e, min, bounded ? std::optional<uint64_t>(max) : std::nullopt);
  }

  uint64_t number() {
    if (!(peek() >= '0' && peek() <= '9')) fail("has a malformed {m,n} quantifier");
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > 100000) unsupported("a repetition count over 100000");
      ++pos_;
    }
    return v;
  }

  Piece parse_atom() {
    const uint32_t c = peek();
    ++pos_;
    switch (c) {
      case '(': {
        if (eat('?')) {
          if (eat(':')) {
          } else if (peek() == '<' && peek(1) != '=' && peek(1) != '!') {
            while (!at_end() && peek() != '>') ++pos_;  // a named group: only the name is skipped
            if (!eat('>')) fail("has an unterminated group name");
          } else {
            --pos_;
            unsupported("lookaround or group flags '(?'");
          }
        }
        if (++depth_ > 100) unsupported("groups nested deeper than 100");
        Expr inner = parse_alternation();
        --depth_;
        if (!eat(')')) fail("has an unbalanced '('");
        return {std::nullopt, inner};
      }
      case '[': return {parse_class(), {}};
      case '.': return {dot_set(), {}};
      case '\\': return {parse_escape(false), {}};
      case '^': --pos_, unsupported("'^' after the start of the pattern");
      case '*':
      case '+':
      case '?': --pos_, fail("has nothing to repeat before '" + utf8_encode(c) + "'");
      case '{': --pos_, fail("has a literal '{' (escape it as \\{)");
      default: return {CharSet::of(c), {}};
    }
  }

  // After a backslash. in_class: inside [...], where \b is backspace.
  CharSet parse_escape(bool in_class) {
    if (at_end()) fail("ends with a lone backslash");
    const uint32_t c = peek();
    ++pos_;
    switch (c) {
      case 'd': return digit_set();
      case 'D': return digit_set().complement();
      case 'w': return word_set();
      case 'W': return word_set().complement();
      case 's': return space_set();
      case 'S': return space_set().complement();
      case 't': return CharSet::of('\t');
      case 'n': return CharSet::of('\n');
      case 'r': return CharSet::of('\r');
      case 'f': return CharSet::of('\f');
      case 'v': return CharSet::of('\v');
      case '0':
        if (peek() >= '0' && peek() <= '9') unsupported("an octal escape");
        return CharSet::of(0);
      case 'x': return CharSet::of(hex_digits(2));
      case 'u': {
        uint32_t cp = hex_digits(4);
        if (cp >= 0xDC00 && cp <= 0xDFFF) fail("has a lone low surrogate escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (!(eat('\\') && eat('u'))) fail("has a lone high surrogate escape");
          const uint32_t low = hex_digits(4);
          if (low < 0xDC00 || low > 0xDFFF) fail("has a lone high surrogate escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        return CharSet::of(cp);
      }
      case 'b':
        if (in_class) return CharSet::of(0x08);
        --pos_, unsupported("the word boundary \\b");
      default: break;
    }
    if (is_alnum(c)) {
      pos_ -= 1;
      unsupported(std::string("the escape \\") + char(c));
    }
    return CharSet::of(c);  // an escaped metacharacter or punctuation stands for itself
  }

  uint32_t hex_digits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      const int h = hex_value(peek());
      if (h < 0) fail("has a malformed \\x or \\u escape");
      v = v * 16 + uint32_t(h);
      ++pos_;
    }
    return v;
  }

  CharSet parse_class() {
    const bool negated = eat('^');
    if (peek() == ']') unsupported(negated ? "'[^]'" : "an empty class '[]'");  // ECMA and Python disagree
    CharSet set;
    while (true) {
      if (at_end()) fail("has an unterminated '['");
      if (eat(']')) break;
      CharSet first = class_atom();
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < s_.size()) {
        ++pos_;
        CharSet last = class_atom();
        if (!single(first) || !single(last)) unsupported("a class range with \\d, \\w or \\s as an end");
        const uint32_t a = first.ranges()[0].first, b = last.ranges()[0].first;
        if (a > b) fail("has a class range out of order");
        set.add(a, b);
      } else {
        set.add(first);
      }
    }
    return negated ? set.complement() : set;
  }

  static bool single(const CharSet& s) { return s.ranges().size() == 1 && s.ranges()[0].first == s.ranges()[0].second; }

  CharSet class_atom() {
    const uint32_t c = peek();
    ++pos_;
    if (c == '\\') return parse_escape(true);
    if (c == '[' && (peek() == ':' || peek() == '=' || peek() == '.')) unsupported("a POSIX class");
    return CharSet::of(c);
  }

  const std::string& pattern_;
  std::vector<uint32_t> s_;
  size_t pos_ = 0;
  int depth_ = 0;  // open groups
};

}  // namespace

Expr pattern_string(const std::string& pattern) { return Parser(pattern).parse(); }

}  // namespace dawn::schema_gbnf
