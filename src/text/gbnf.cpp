// The GBNF parser (gbnf.h): recursive descent over the text, repetitions expanded into helper
// rules as they are parsed, then the checks that keep matching finite.
#include "text/gbnf.h"

#include <algorithm>
#include <functional>
#include <map>

#include "util/error.h"

namespace dawn {

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;
using Seq = std::vector<GrammarElem>;

constexpr uint32_t kMaxCp = 0x10FFFF;
// Expansions of {m,n} past this many copies are refused: a grammar is not a place for megabytes.
constexpr int kMaxRepeat = 4096;

// Sorted, merged, surrogates removed.
Ranges normalize(Ranges r) {
  Ranges cut;
  for (auto [a, b] : r) {  // split around the surrogates D800-DFFF, which UTF-8 cannot carry
    if (a > b) continue;
    if (b < 0xD800 || a > 0xDFFF) {
      cut.push_back({a, b});
      continue;
    }
    if (a < 0xD800) cut.push_back({a, 0xD7FF});
    if (b > 0xDFFF) cut.push_back({0xE000, b});
  }
  std::sort(cut.begin(), cut.end());
  Ranges out;
  for (auto [a, b] : cut) {
    if (!out.empty() && a <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, b);
    } else {
      out.push_back({a, b});
    }
  }
  return out;
}

Ranges negate(const Ranges& r) {
  Ranges out;
  uint32_t next = 0;
  for (auto [a, b] : r) {
    if (a > next) out.push_back({next, a - 1});
    next = b + 1;
  }
  if (next <= kMaxCp) out.push_back({next, kMaxCp});
  return normalize(out);
}

GrammarElem chars(Ranges r) {
  GrammarElem e;
  e.kind = GrammarElem::Chars;
  e.ranges = std::move(r);
  return e;
}

GrammarElem ref(uint32_t rule) {
  GrammarElem e;
  e.kind = GrammarElem::Ref;
  e.rule = rule;
  return e;
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Grammar run() {
    skip_ws();
    while (i_ < s_.size()) {
      const size_t at = i_;
      const std::string name = ident();
      skip_ws();
      if (s_.substr(i_, 3) != "::=") fail("expected '::=' after rule name '" + name + "'");
      i_ += 3;
      const uint32_t id = rule_id(name, at);
      if (defined_[id]) {
        i_ = at;
        fail("rule '" + name + "' is defined twice");
      }
      defined_[id] = true;
      current_ = name;
      g_.rules[id].alts = alternates(true);
      skip_ws();
    }
    for (size_t r = 0; r < g_.rules.size(); ++r) {
      if (!defined_[r]) {
        i_ = first_use_[r];
        fail("undefined rule '" + g_.rules[r].name + "'");
      }
    }
    const auto root = ids_.find("root");
    if (root == ids_.end()) throw Error("grammar: no 'root' rule");
    g_.root = root->second;
    check_finite();
    return std::move(g_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    int line = 1, col = 1;
    for (size_t k = 0; k < std::min(i_, s_.size()); ++k) {
      if (s_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw Error("grammar: line " + std::to_string(line) + " col " + std::to_string(col) + ": " + what);
  }

  void skip_ws() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
  }

  std::string ident() {
    const size_t start = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    if (i_ == start) fail(i_ < s_.size() ? "unexpected '" + std::string(1, s_[i_]) + "'" : "unexpected end");
    return std::string(s_.substr(start, i_ - start));
  }

  // At `name ::=`: the end of the rule being parsed.
  bool at_rule_start() const {
    size_t k = i_;
    while (k < s_.size() && name_char(s_[k])) ++k;
    if (k == i_) return false;
    while (k < s_.size() && (s_[k] == ' ' || s_[k] == '\t' || s_[k] == '\n' || s_[k] == '\r')) ++k;
    return s_.substr(k, 3) == "::=";
  }

  uint32_t rule_id(const std::string& name, size_t at) {
    const auto [it, fresh] = ids_.emplace(name, uint32_t(g_.rules.size()));
    if (fresh) {
      g_.rules.push_back({name, {}});
      defined_.push_back(false);
      first_use_.push_back(at);
    }
    return it->second;
  }

  uint32_t helper_rule() {
    const uint32_t id = uint32_t(g_.rules.size());
    g_.rules.push_back({current_ + "-" + std::to_string(++helpers_), {}});
    defined_.push_back(true);
    first_use_.push_back(i_);
    return id;
  }

  std::vector<Seq> alternates(bool top) {
    std::vector<Seq> alts;
    for (;;) {
      alts.push_back(sequence(top));
      skip_ws();
      if (i_ < s_.size() && s_[i_] == '|') {
        ++i_;
        continue;
      }
      return alts;
    }
  }

  Seq sequence(bool top) {
    Seq seq;
    for (;;) {
      skip_ws();
      if (i_ >= s_.size()) break;
      const char c = s_[i_];
      if (c == '|' || c == ')') {
        if (c == ')' && top) fail("unmatched ')'");
        break;
      }
      if (top && at_rule_start()) break;
      const size_t at = i_;
      Seq atom = primary();
      postfix(atom, at);
      seq.insert(seq.end(), atom.begin(), atom.end());
    }
    return seq;
  }

  // One code point of a literal or class: an escape or UTF-8.
  uint32_t code_point(char quote) {
    if (i_ >= s_.size()) fail("unterminated " + std::string(quote == '"' ? "literal" : "character class"));
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (c == '\\') {
      if (i_ + 1 >= s_.size()) fail("unterminated escape");
      const char e = s_[i_ + 1];
      i_ += 2;
      switch (e) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case '\\': case '"': case '[': case ']': case '-': case '^': case '/': case '\'': return uint32_t(e);
        case 'x': return hex(2);
        case 'u': return hex(4);
        case 'U': return hex(8);
        default: i_ -= 2; fail("unknown escape '\\" + std::string(1, e) + "'");
      }
    }
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i_ + size_t(n) > s_.size()) fail("invalid UTF-8");
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s_[i_ + size_t(k)]);
      if ((d >> 6) != 2) fail("invalid UTF-8");
      cp = cp << 6 | (d & 0x3F);
    }
    i_ += size_t(n);
    return cp;
  }

  uint32_t hex(int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k, ++i_) {
      const char c = i_ < s_.size() ? s_[i_] : '\0';
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) fail("expected " + std::to_string(digits) + " hex digits");
      v = v << 4 | uint32_t(d);
    }
    if (v > kMaxCp || (v >= 0xD800 && v <= 0xDFFF)) fail("escape is not a Unicode scalar value");
    return v;
  }

  Seq primary() {
    const char c = s_[i_];
    if (c == '"') {
      ++i_;
      Seq seq;
      while (i_ < s_.size() && s_[i_] != '"') {
        const uint32_t cp = code_point('"');
        seq.push_back(chars({{cp, cp}}));
      }
      if (i_ >= s_.size()) fail("unterminated literal");
      ++i_;
      return seq;
    }
    if (c == '[') {
      const size_t at = i_++;
      const bool neg = i_ < s_.size() && s_[i_] == '^';
      if (neg) ++i_;
      Ranges r;
      while (i_ < s_.size() && s_[i_] != ']') {
        const uint32_t a = code_point('[');
        uint32_t b = a;
        if (i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
          ++i_;
          b = code_point('[');
          if (b < a) fail("range end before its start");
        }
        r.push_back({a, b});
      }
      if (i_ >= s_.size()) {
        i_ = at;
        fail("unterminated character class");
      }
      ++i_;
      r = normalize(r);
      if (neg) r = negate(r);
      if (r.empty()) fail("character class matches nothing");
      return {chars(std::move(r))};
    }
    if (c == '.') {
      ++i_;
      return {chars(normalize({{0, kMaxCp}}))};
    }
    if (c == '(') {
      ++i_;
      const std::vector<Seq> alts = alternates(false);
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ')') fail("expected ')'");
      ++i_;
      if (alts.size() == 1) return alts[0];
      const uint32_t id = helper_rule();
      g_.rules[id].alts = alts;
      return {ref(id)};
    }
    if (name_char(c)) {
      const size_t at = i_;
      const std::string name = ident();
      return {ref(rule_id(name, at))};
    }
    fail("unexpected '" + std::string(1, c) + "'");
  }

  // A rule matching the atom: the atom itself when it is one reference.
  GrammarElem as_one(const Seq& atom) {
    if (atom.size() == 1) return atom[0];
    const uint32_t id = helper_rule();
    g_.rules[id].alts = {atom};
    return ref(id);
  }

  uint32_t star(const GrammarElem& x, size_t at) {
    const uint32_t id = helper_rule();
    g_.rules[id].alts = {{x, ref(id)}, {}};  // right recursion: the matcher turns it into a loop
    repeated_.push_back({x, at});
    return id;
  }

  // Optional copies: opt(k) ::= x opt(k-1) | (nothing), opt(1) ::= x | (nothing).
  uint32_t optionals(const GrammarElem& x, int k) {
    uint32_t inner = 0;
    for (int d = 1; d <= k; ++d) {
      const uint32_t id = helper_rule();
      g_.rules[id].alts = d == 1 ? std::vector<Seq>{{x}, {}} : std::vector<Seq>{{x, ref(inner)}, {}};
      inner = id;
    }
    return inner;
  }

  int count() {
    const size_t start = i_;
    long v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      v = v * 10 + (s_[i_++] - '0');
      if (v > kMaxRepeat) fail("repetition count over " + std::to_string(kMaxRepeat));
    }
    if (i_ == start) fail("expected a repetition count");
    return int(v);
  }

  void postfix(Seq& atom, size_t at) {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c != '*' && c != '+' && c != '?' && c != '{') return;
      if (atom.empty()) fail("nothing to repeat");
      ++i_;
      const GrammarElem x = as_one(atom);
      if (c == '*') {
        atom = {ref(star(x, at))};
      } else if (c == '+') {
        atom = {x, ref(star(x, at))};
      } else if (c == '?') {
        atom = {ref(optionals(x, 1))};
      } else {
        skip_ws();
        const int m = count();
        skip_ws();
        int n = m;
        bool unbounded = false;
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          skip_ws();
          if (i_ < s_.size() && s_[i_] == '}') {
            unbounded = true;
          } else {
            n = count();
          }
          skip_ws();
        }
        if (i_ >= s_.size() || s_[i_] != '}') fail("expected '}'");
        ++i_;
        if (!unbounded && n < m) fail("repetition {m,n} with n < m");
        atom.assign(size_t(m), x);
        if (unbounded) {
          atom.push_back(ref(star(x, at)));
        } else if (n > m) {
          atom.push_back(ref(optionals(x, n - m)));
          repeated_.push_back({x, at});
        }
      }
    }
  }

  // A left-recursive rule, or a repetition of something that can be empty, would expand forever.
  void check_finite() {
    const size_t n = g_.rules.size();
    std::vector<char> nullable(n, 0);
    const auto seq_nullable = [&](const Seq& seq) {
      for (const GrammarElem& e : seq)
        if (e.kind == GrammarElem::Chars || !nullable[e.rule]) return false;
      return true;
    };
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        if (nullable[r]) continue;
        for (const Seq& alt : g_.rules[r].alts) {
          if (seq_nullable(alt)) {
            nullable[r] = 1;
            changed = true;
            break;
          }
        }
      }
    }
    for (const auto& [x, at] : repeated_) {
      if (x.kind == GrammarElem::Ref && nullable[x.rule]) {
        i_ = at;
        fail("repetition of something that can match nothing");
      }
    }
    // Left corners: r -> s when s can start r with nothing consumed before it.
    std::vector<std::vector<uint32_t>> left(n);
    for (size_t r = 0; r < n; ++r) {
      for (const Seq& alt : g_.rules[r].alts) {
        for (const GrammarElem& e : alt) {
          if (e.kind == GrammarElem::Chars) break;
          left[r].push_back(e.rule);
          if (!nullable[e.rule]) break;
        }
      }
    }
    std::vector<char> state(n, 0);  // 0 new, 1 on the path, 2 done
    std::function<void(uint32_t)> visit = [&](uint32_t r) {
      state[r] = 1;
      for (uint32_t s : left[r]) {
        if (state[s] == 1) throw Error("grammar: rule '" + g_.rules[s].name + "' is left-recursive");
        if (state[s] == 0) visit(s);
      }
      state[r] = 2;
    };
    for (size_t r = 0; r < n; ++r)
      if (state[r] == 0) visit(uint32_t(r));
  }

  std::string_view s_;
  size_t i_ = 0;
  Grammar g_;
  std::map<std::string, uint32_t> ids_;
  std::vector<bool> defined_;
  std::vector<size_t> first_use_;
  std::vector<std::pair<GrammarElem, size_t>> repeated_;  // what star / {m,n} repeat, and where
  std::string current_;
  int helpers_ = 0;
};

}  // namespace

Grammar parse_gbnf(std::string_view text) { return Parser(text).run(); }

Grammar with_leading_whitespace(Grammar g, int max_ws) {
  // lead(k) ::= ws lead(k-1) | (nothing); root' ::= lead(max_ws) root
  const GrammarElem ws = chars({{'\t', '\n'}, {' ', ' '}});
  uint32_t inner = 0;
  for (int d = 1; d <= max_ws; ++d) {
    const uint32_t id = uint32_t(g.rules.size());
    g.rules.push_back({"leading-space-" + std::to_string(d), {}});
    g.rules[id].alts = d == 1 ? std::vector<Seq>{{ws}, {}} : std::vector<Seq>{{ws, ref(inner)}, {}};
    inner = id;
  }
  const uint32_t root = uint32_t(g.rules.size());
  Seq alt;
  if (max_ws > 0) alt.push_back(ref(inner));
  alt.push_back(ref(g.root));
  g.rules.push_back({"root-after-space", {alt}});
  g.root = root;
  return g;
}

}  // namespace dawn
