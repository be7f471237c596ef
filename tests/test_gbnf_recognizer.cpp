// TEST-ONLY GBNF recognizer (see test_gbnf_recognizer.h): a strict parser for the converter's
// dialect and a memoized matcher over sets of end positions.
#include "test_gbnf_recognizer.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

namespace dawn::testonly {

namespace {

bool decode_utf8(const std::string& s, std::vector<uint32_t>* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      if ((uint8_t(s[i + k]) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (uint8_t(s[i + k]) & 0x3F);
    }
    out->push_back(cp);
    i += n;
  }
  return true;
}

bool is_name_char(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

struct TestGbnfRecognizer::Node {
  enum Kind { kLit, kClass, kAny, kRef, kAlt, kSeq, kRep } kind;
  explicit Node(Kind k) : kind(k) {}
  std::vector<uint32_t> lit;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  bool negated = false;
  int target = -1;  // kRef: rule index
  std::vector<int> kids;
  uint64_t min = 0, max = 0;
  bool unbounded = false;
};

struct TestGbnfRecognizer::Parser {
  TestGbnfRecognizer& g;
  const std::map<std::string, int>& rules;
  std::vector<uint32_t> s;
  size_t i = 0;
  size_t line;
  std::set<int>* used;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("grammar line " + std::to_string(line) + ", column " + std::to_string(i) + ": " + what);
  }
  uint32_t peek() const { return i < s.size() ? s[i] : 0; }
  bool at_end() const { return i >= s.size(); }
  void skip_spaces() {
    while (!at_end() && s[i] == ' ') ++i;
  }
  int add(Node n) {
    g.nodes_.push_back(std::make_unique<Node>(std::move(n)));
    return int(g.nodes_.size() - 1);
  }

  int alternatives() {
    Node alt{Node::kAlt};
    alt.kids.push_back(sequence());
    while (peek() == '|') {
      ++i;
      skip_spaces();
      alt.kids.push_back(sequence());
    }
    return alt.kids.size() == 1 ? alt.kids[0] : add(std::move(alt));
  }

  int sequence() {
    Node seq{Node::kSeq};
    while (!at_end() && peek() != '|' && peek() != ')') {
      int e = element();
      if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{') e = postfix(e);
      if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{') fail("two postfix operators in a row");
      seq.kids.push_back(e);
      if (!at_end() && peek() != ' ' && peek() != ')') fail("elements must be separated by a space");
      skip_spaces();
    }
    if (seq.kids.empty()) fail("empty alternative");
    return seq.kids.size() == 1 ? seq.kids[0] : add(std::move(seq));
  }

  uint64_t number() {
    if (!(peek() >= '0' && peek() <= '9')) fail("expected a number in {}");
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9') v = v * 10 + (s[i++] - '0');
    return v;
  }

  int postfix(int e) {
    Node r{Node::kRep};
    r.kids = {e};
    const uint32_t c = s[i++];
    if (c == '*') r.min = 0, r.unbounded = true;
    if (c == '+') r.min = 1, r.unbounded = true;
    if (c == '?') r.min = 0, r.max = 1;
    if (c == '{') {
      r.min = r.max = number();
      if (peek() == ',') {
        ++i;
        if (peek() == '}')
          r.unbounded = true;
        else
          r.max = number();
      }
      if (peek() != '}') fail("expected '}'");
      ++i;
      if (!r.unbounded && r.max < r.min) fail("{n,m} with n > m");
    }
    return add(std::move(r));
  }

  uint32_t escape() {  // after a backslash
    if (at_end()) fail("dangling backslash");
    const uint32_t c = s[i++];
    switch (c) {
      case '\\': return '\\';
      case '"': return '"';
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'x':
      case 'u': {
        const int n = c == 'x' ? 2 : 4;
        uint32_t v = 0;
        for (int k = 0; k < n; ++k, ++i) {
          const uint32_t h = peek();
          const int d = h >= '0' && h <= '9'   ? int(h - '0')
                        : h >= 'a' && h <= 'f' ? int(h - 'a' + 10)
                        : h >= 'A' && h <= 'F' ? int(h - 'A' + 10)
                                               : -1;
          if (d < 0) fail("bad hex escape");
          v = v * 16 + uint32_t(d);
        }
        return v;
      }
      default: fail("escape outside the dialect: \\" + std::string(1, char(c)));
    }
  }

  uint32_t class_char() {
    const uint32_t c = s[i++];
    if (c == '\\') return escape();
    if (c < 0x20) fail("raw control character in a class");
    if (c == '[' || c == '^' || c == '-') fail("unescaped metacharacter in a class");
    return c;
  }

  int element() {
    const uint32_t c = peek();
    if (c == '"') {
      ++i;
      Node n{Node::kLit};
      while (true) {
        if (at_end()) fail("unterminated literal");
        const uint32_t d = s[i++];
        if (d == '"') break;
        if (d < 0x20) fail("raw control character in a literal");
        n.lit.push_back(d == '\\' ? escape() : d);
      }
      if (n.lit.empty()) fail("empty literal");
      return add(std::move(n));
    }
    if (c == '[') {
      ++i;
      Node n{Node::kClass};
      if (peek() == '^') n.negated = true, ++i;
      while (true) {
        if (at_end()) fail("unterminated class");
        if (peek() == ']') {
          ++i;
          break;
        }
        const uint32_t a = class_char();
        uint32_t b = a;
        if (peek() == '-') {
          ++i;
          if (peek() == ']') fail("range without an end");
          b = class_char();
          if (b < a) fail("range out of order");
        }
        n.ranges.emplace_back(a, b);
      }
      if (n.ranges.empty()) fail("empty class");
      return add(std::move(n));
    }
    if (c == '.') {
      ++i;
      return add(Node{Node::kAny});
    }
    if (c == '(') {
      ++i;
      skip_spaces();
      const int inner = alternatives();
      if (peek() != ')') fail("expected ')'");
      ++i;
      return inner;
    }
    if (is_name_char(c)) {
      std::string name;
      while (is_name_char(peek())) name += char(s[i++]);
      auto it = rules.find(name);
      if (it == rules.end()) fail("undefined rule '" + name + "'");
      used->insert(it->second);
      Node n{Node::kRef};
      n.target = it->second;
      return add(std::move(n));
    }
    fail("unexpected character");
  }
};

TestGbnfRecognizer::TestGbnfRecognizer(const std::string& grammar) {
  std::istringstream in(grammar);
  std::vector<std::string> bodies;
  std::map<std::string, int> rules;
  std::string line;
  while (std::getline(in, line)) {
    const size_t sep = line.find(" ::= ");
    if (sep == std::string::npos)
      throw std::runtime_error("grammar line " + std::to_string(names_.size() + 1) + ": not a rule");
    const std::string name = line.substr(0, sep);
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(uint8_t(c)); }))
      throw std::runtime_error("bad rule name '" + name + "'");
    if (!rules.emplace(name, int(names_.size())).second) throw std::runtime_error("rule '" + name + "' defined twice");
    names_.push_back(name);
    bodies.push_back(line.substr(sep + 5));
  }
  if (!rules.count("root")) throw std::runtime_error("no root rule");
  std::set<int> used{rules.at("root")};
  for (size_t r = 0; r < bodies.size(); ++r) {
    Parser p{*this, rules, {}, 0, r + 1, &used};
    if (!decode_utf8(bodies[r], &p.s))
      throw std::runtime_error("grammar line " + std::to_string(r + 1) + ": bad UTF-8");
    const int root = p.alternatives();
    if (!p.at_end()) p.fail("unbalanced ')'");
    rule_root_.push_back(root);
  }
  for (size_t r = 0; r < names_.size(); ++r)
    if (!used.count(int(r))) throw std::runtime_error("rule '" + names_[r] + "' is never used");
}

TestGbnfRecognizer::~TestGbnfRecognizer() = default;

bool TestGbnfRecognizer::accepts(const std::string& text) const {
  if (!decode_utf8(text, &text_)) return false;
  memo_.clear();
  active_.clear();
  const int root = int(std::find(names_.begin(), names_.end(), "root") - names_.begin());
  const std::vector<size_t> e = ends(rule_root_[size_t(root)], 0);
  return std::find(e.begin(), e.end(), text_.size()) != e.end();
}

std::vector<size_t> TestGbnfRecognizer::ends(int id, size_t pos) const {
  const auto key = std::make_pair(id, pos);
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  if (active_[key]) throw std::runtime_error("left recursion (or an empty loop) through node " + std::to_string(id));
  active_[key] = true;
  const Node& n = *nodes_[size_t(id)];
  std::set<size_t> out;
  auto step = [&](int kid, const std::set<size_t>& from) {
    std::set<size_t> to;
    for (size_t p : from)
      for (size_t e : ends(kid, p)) to.insert(e);
    return to;
  };
  switch (n.kind) {
    case Node::kLit:
      if (pos + n.lit.size() <= text_.size() && std::equal(n.lit.begin(), n.lit.end(), text_.begin() + long(pos)))
        out.insert(pos + n.lit.size());
      break;
    case Node::kClass:
      if (pos < text_.size()) {
        const uint32_t c = text_[pos];
        const bool in =
            std::any_of(n.ranges.begin(), n.ranges.end(), [&](const auto& r) { return r.first <= c && c <= r.second; });
        if (in != n.negated) out.insert(pos + 1);
      }
      break;
    case Node::kAny:
      if (pos < text_.size()) out.insert(pos + 1);
      break;
    case Node::kRef: {
      const auto v = ends(rule_root_[size_t(n.target)], pos);
      out.insert(v.begin(), v.end());
      break;
    }
    case Node::kAlt:
      for (int k : n.kids) {
        const auto v = ends(k, pos);
        out.insert(v.begin(), v.end());
      }
      break;
    case Node::kSeq: {
      std::set<size_t> cur{pos};
      for (int k : n.kids) {
        cur = step(k, cur);
        if (cur.empty()) break;
      }
      out = cur;
      break;
    }
    case Node::kRep: {
      std::set<size_t> cur{pos};
      for (uint64_t k = 0; k < n.min && !cur.empty(); ++k) cur = step(n.kids[0], cur);
      // Past the minimum, a position reached again with more repetitions adds nothing.
      std::set<size_t> seen = cur, frontier = cur;
      for (uint64_t k = n.min; (n.unbounded || k < n.max) && !frontier.empty(); ++k) {
        std::set<size_t> next;
        for (size_t p : step(n.kids[0], frontier))
          if (seen.insert(p).second) next.insert(p);
        frontier = std::move(next);
      }
      out = seen;
      break;
    }
  }
  active_[key] = false;
  std::vector<size_t> v(out.begin(), out.end());
  memo_[key] = v;
  return v;
}

}  // namespace dawn::testonly
