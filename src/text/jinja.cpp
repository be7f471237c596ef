#include "text/jinja.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ctime>
#include <map>

#include "text/jinja_value.h"
#include "text/unicode.h"
#include "util/error.h"

namespace dawn::jinja {

namespace {

[[noreturn]] void fail(int line, const std::string& msg) {
  throw Error("chat template: line " + std::to_string(line) + ": " + msg);
}

// ---------------------------------------------------------------- lexing

struct Tok {
  enum Kind { Name, Int, Float, Str, Op, End } kind = End;
  std::string s;
  int64_t i = 0;
  double f = 0;
  int line = 0;
};

struct Segment {
  enum Kind { Text, Expr, Stmt } kind;
  std::string text;
  std::vector<Tok> toks;
  int line;
};

bool is_ident_start(char c) { return std::isalpha(uint8_t(c)) || c == '_'; }
bool is_ident(char c) { return std::isalnum(uint8_t(c)) || c == '_'; }

std::string unescape(std::string_view s, int line) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    const auto hex = [&](size_t n) {
      uint32_t v = 0;
      for (size_t k = 1; k <= n; ++k) {
        const char h = i + k < s.size() ? s[i + k] : '?';
        if (!std::isxdigit(uint8_t(h))) fail(line, "bad \\x/\\u escape in string literal");
        v = v * 16 + uint32_t(std::isdigit(uint8_t(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
      }
      i += n;
      out += utf8_encode(v);
    };
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case '\n': break;
      case 'x': hex(2); break;
      case 'u': hex(4); break;
      case 'U': hex(8); break;
      default:  // Python keeps unknown escapes as written
        out += '\\';
        out += c;
    }
  }
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string src) : src_(std::move(src)) {
    // Jinja2 reads text with universal newlines and drops one trailing newline.
    std::string n;
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\r') {
        n += '\n';
        if (i + 1 < src_.size() && src_[i + 1] == '\n') ++i;
      } else {
        n += src_[i];
      }
    }
    if (!n.empty() && n.back() == '\n') n.pop_back();
    src_ = std::move(n);
  }

  std::vector<Segment> run() {
    std::vector<Segment> segs;
    size_t pos = 0;
    bool strip_next = false;
    while (true) {
      size_t start = src_.find('{', pos);
      while (start != std::string::npos && start + 1 < src_.size() && !std::strchr("{%#", src_[start + 1]))
        start = src_.find('{', start + 1);
      if (start != std::string::npos && start + 1 >= src_.size()) start = std::string::npos;
      std::string text = src_.substr(pos, (start == std::string::npos ? src_.size() : start) - pos);
      if (strip_next) text = py_strip(text, nullptr, true, false);
      strip_next = false;
      if (start == std::string::npos) {
        push_text(segs, std::move(text), line_at(pos));
        break;
      }
      const char kind = src_[start + 1];
      size_t i = start + 2;
      const char mod = i < src_.size() && (src_[i] == '-' || src_[i] == '+') ? src_[i] : 0;
      if (mod == '-') {
        text = py_strip(text, nullptr, false, true);
      } else if (kind != '{' && mod != '+') {  // lstrip_blocks: the tag alone after indentation
        size_t j = start;
        while (j > pos && (src_[j - 1] == ' ' || src_[j - 1] == '\t')) --j;
        if (j == 0 || src_[j - 1] == '\n') {
          for (size_t n = start - j; n > 0 && !text.empty() && (text.back() == ' ' || text.back() == '\t'); --n)
            text.pop_back();
        }
      }
      push_text(segs, std::move(text), line_at(pos));
      if (mod) ++i;
      const int line = line_at(i);
      size_t end;
      char end_mod = 0;
      if (kind == '#') {
        const size_t close = src_.find("#}", i);
        if (close == std::string::npos) fail(line, "unterminated comment");
        end = close + 2;
        if (close > i && (src_[close - 1] == '-' || src_[close - 1] == '+')) end_mod = src_[close - 1];
      } else {
        Segment seg{kind == '{' ? Segment::Expr : Segment::Stmt, "", {}, line};
        end = lex_tag(i, kind == '{' ? "}}" : "%}", seg.toks, &end_mod);
        segs.push_back(std::move(seg));
      }
      if (end_mod == '-') {
        strip_next = true;
      } else if (kind != '{' && end_mod != '+' && end < src_.size() && src_[end] == '\n') {  // trim_blocks
        ++end;
      }
      pos = end;
    }
    return segs;
  }

 private:
  // Line of a position; positions are asked for mostly in increasing order, so count on from the last one.
  int line_at(size_t pos) {
    if (pos < line_pos_) line_pos_ = 0, line_ = 1;
    line_ += int(std::count(src_.begin() + long(line_pos_), src_.begin() + long(pos), '\n'));
    line_pos_ = pos;
    return line_;
  }

  static void push_text(std::vector<Segment>& segs, std::string text, int line) {
    if (!text.empty()) segs.push_back({Segment::Text, std::move(text), {}, line});
  }

  // Tokens of a tag body from i up to `close`; returns the index after it.
  size_t lex_tag(size_t i, const char* close, std::vector<Tok>& toks, char* end_mod) {
    const int line0 = line_at(i);
    int depth = 0;  // open brackets: "}}" inside a dict literal does not close the tag
    while (true) {
      while (i < src_.size() && std::isspace(uint8_t(src_[i]))) ++i;
      if (i >= src_.size()) fail(line0, std::string("unterminated tag (expected '") + close + "')");
      if (depth == 0 && src_.compare(i, 2, close) == 0) return i + 2;
      if (depth == 0 && (src_[i] == '-' || src_[i] == '+') && src_.compare(i + 1, 2, close) == 0) {
        *end_mod = src_[i];
        return i + 3;
      }
      Tok t;
      t.line = line_at(i);
      const char c = src_[i];
      if (is_ident_start(c)) {
        size_t j = i;
        while (j < src_.size() && is_ident(src_[j])) ++j;
        t.kind = Tok::Name;
        t.s = src_.substr(i, j - i);
        i = j;
      } else if (std::isdigit(uint8_t(c))) {
        size_t j = i;
        bool is_float = false;
        while (j < src_.size() && (std::isdigit(uint8_t(src_[j])) || src_[j] == '_')) ++j;
        if (j + 1 < src_.size() && src_[j] == '.' && std::isdigit(uint8_t(src_[j + 1]))) {
          is_float = true;
          ++j;
          while (j < src_.size() && std::isdigit(uint8_t(src_[j]))) ++j;
        }
        if (j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
          size_t k = j + 1;
          if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
          if (k < src_.size() && std::isdigit(uint8_t(src_[k]))) {
            is_float = true;
            j = k;
            while (j < src_.size() && std::isdigit(uint8_t(src_[j]))) ++j;
          }
        }
        std::string num;
        for (size_t k = i; k < j; ++k)
          if (src_[k] != '_') num += src_[k];
        if (is_float) {
          t.kind = Tok::Float;
          try {
            t.f = std::stod(num);
          } catch (const std::exception&) {
            fail(t.line, "number literal out of range");
          }
        } else {
          t.kind = Tok::Int;
          try {
            t.i = std::stoll(num);
          } catch (const std::exception&) {
            fail(t.line, "integer literal out of range");
          }
        }
        i = j;
      } else if (c == '\'' || c == '"') {
        size_t j = i + 1;
        while (j < src_.size() && src_[j] != c) j += src_[j] == '\\' ? 2 : 1;
        if (j >= src_.size()) fail(t.line, "unterminated string literal");
        t.kind = Tok::Str;
        t.s = unescape(std::string_view(src_).substr(i + 1, j - i - 1), t.line);
        i = j + 1;
      } else {
        static const char* two[] = {"==", "!=", "<=", ">=", "//", "**"};
        t.kind = Tok::Op;
        for (const char* op : two) {
          if (src_.compare(i, 2, op) == 0) t.s = op;
        }
        if (t.s.empty()) {
          if (!std::strchr("+-*/%~<>=()[]{}.,:|", c)) fail(t.line, std::string("unexpected character '") + c + "'");
          t.s = std::string(1, c);
        }
        i += t.s.size();
        if (t.s == "(" || t.s == "[" || t.s == "{") ++depth;
        if ((t.s == ")" || t.s == "]" || t.s == "}") && depth > 0) --depth;
      }
      toks.push_back(std::move(t));
    }
  }

  std::string src_;
  size_t line_pos_ = 0;
  int line_ = 1;
};

// ---------------------------------------------------------------- syntax tree

struct Node;
using NodeP = std::unique_ptr<Node>;
struct Node {
  enum Kind { Lit, Var, Attr, Item, Slice, Call, Filter, Test, Not, Neg, Bin, And, Or, Cond, ListLit, DictLit } kind;
  int line = 0;
  Value lit;
  std::string name;  // variable, attribute, filter, test or operator
  NodeP a, b, c;
  std::vector<NodeP> args;  // Slice: start, stop, step (may be null); DictLit: key, value, ...
  std::vector<std::pair<std::string, NodeP>> kwargs;
  bool negated = false;
};

struct Stmt;
using Body = std::vector<Stmt>;
struct Stmt {
  enum Kind { Text, Out, If, For, Set, SetAttr, SetBlock, Break, Continue, Macro } kind;
  int line = 0;
  std::string text;                              // Text; Set/SetBlock variable; SetAttr attribute; Macro name
  NodeP expr;                                    // Out; Set value; For iterable; SetAttr object
  NodeP value;                                   // SetAttr value; For filter condition
  std::vector<std::string> vars;                 // For / Set targets; Macro parameters
  std::vector<std::pair<NodeP, Body>> branches;  // If (null condition = else)
  Body body, else_body;
  std::vector<NodeP> defaults;  // Macro: each parameter's default (null: none)
};

class Parser {
 public:
  explicit Parser(std::vector<Segment> segs) : segs_(std::move(segs)) {}

  Body parse() {
    Body b;
    const std::string end = parse_body(b, {});
    if (!end.empty()) fail(line_, "unexpected '" + end + "'");
    return b;
  }

 private:
  // Parses statements into `out` until one of the `enders` tags; returns the ender (its tokens stay current).
  std::string parse_body(Body& out, const std::vector<std::string>& enders) {
    const Nest nest(*this);
    while (seg_ < segs_.size()) {
      Segment& s = segs_[seg_];
      line_ = s.line;
      if (s.kind == Segment::Text) {
        out.push_back({Stmt::Text, s.line, std::move(s.text), {}, {}, {}, {}, {}, {}, {}});
        ++seg_;
        continue;
      }
      toks_ = &s.toks;
      t_ = 0;
      if (s.kind == Segment::Expr) {
        ++seg_;
        Stmt st{Stmt::Out, s.line, {}, {}, {}, {}, {}, {}, {}, {}};
        st.expr = expression();
        expect_end();
        out.push_back(std::move(st));
        continue;
      }
      if (toks_->empty() || (*toks_)[0].kind != Tok::Name) fail(s.line, "expected a tag name");
      const std::string tag = (*toks_)[0].s;
      if (std::find(enders.begin(), enders.end(), tag) != enders.end()) {
        t_ = 1;
        return tag;
      }
      ++seg_;
      t_ = 1;
      out.push_back(statement(tag, s.line));
    }
    if (!enders.empty()) fail(line_, "missing '{% " + enders.back() + " %}'");
    return "";
  }

  Stmt statement(const std::string& tag, int line) {
    Stmt st{Stmt::Text, line, {}, {}, {}, {}, {}, {}, {}, {}};
    if (tag == "if") {
      st.kind = Stmt::If;
      NodeP cond = expression();
      expect_end();
      while (true) {
        Body body;
        const std::string end = parse_body(body, {"elif", "else", "endif"});
        st.branches.emplace_back(std::move(cond), std::move(body));
        ++seg_;
        if (end == "endif") {
          expect_end();
          break;
        }
        if (end == "elif") {
          cond = expression();
        } else {
          cond = nullptr;
          expect_end();
          Body tail;
          parse_body(tail, {"endif"});
          ++seg_;
          expect_end();
          st.branches.emplace_back(nullptr, std::move(tail));
          break;
        }
        expect_end();
      }
    } else if (tag == "for") {
      st.kind = Stmt::For;
      do {
        st.vars.push_back(name());
      } while (accept(","));
      if (!accept_name("in")) fail(line, "expected 'in' in for loop");
      st.expr = or_expr();  // no inline-if here: a trailing `if` filters the loop
      if (accept_name("if")) st.value = expression();
      accept_name("recursive");
      expect_end();
      const std::string end = parse_body(st.body, {"else", "endfor"});
      ++seg_;
      expect_end();
      if (end == "else") {
        parse_body(st.else_body, {"endfor"});
        ++seg_;
        expect_end();
      }
    } else if (tag == "set") {
      const std::string target = name();
      if (accept(".")) {
        st.kind = Stmt::SetAttr;
        st.expr = std::make_unique<Node>();
        st.expr->kind = Node::Var;
        st.expr->name = target;
        st.expr->line = line;
        st.text = name();
        expect("=");
        st.value = expression();
        expect_end();
      } else if (at_end()) {
        st.kind = Stmt::SetBlock;
        st.text = target;
        parse_body(st.body, {"endset"});
        ++seg_;
        expect_end();
      } else {
        st.kind = Stmt::Set;
        st.vars.push_back(target);
        while (accept(",")) st.vars.push_back(name());
        expect("=");
        st.expr = expression();
        expect_end();
      }
    } else if (tag == "macro") {  // {% macro name(a, b=default) %}...{% endmacro %}
      st.kind = Stmt::Macro;
      st.text = name();
      expect("(");
      while (!accept(")")) {
        if (!st.vars.empty()) expect(",");
        if (accept(")")) break;  // a trailing comma
        st.vars.push_back(name());
        st.defaults.push_back(accept("=") ? expression() : nullptr);
      }
      expect_end();
      parse_body(st.body, {"endmacro"});
      ++seg_;
      expect_end();
    } else if (tag == "break" || tag == "continue") {
      st.kind = tag == "break" ? Stmt::Break : Stmt::Continue;
      expect_end();
    } else if (tag == "generation") {  // transformers' assistant-mask marker: renders its body
      expect_end();
      st.kind = Stmt::If;
      Body body;
      parse_body(body, {"endgeneration"});
      ++seg_;
      expect_end();
      auto yes = std::make_unique<Node>();
      yes->kind = Node::Lit;
      yes->lit = Value::boolean(true);
      st.branches.emplace_back(std::move(yes), std::move(body));
    } else {
      fail(line, "unsupported tag '" + tag + "'");
    }
    return st;
  }

  // ---- token helpers
  const Tok& peek(size_t ahead = 0) const {
    static const Tok end;
    return t_ + ahead < toks_->size() ? (*toks_)[t_ + ahead] : end;
  }
  bool at_end() const { return t_ >= toks_->size(); }
  bool is_op(const char* op, size_t ahead = 0) const { return peek(ahead).kind == Tok::Op && peek(ahead).s == op; }
  bool is_name(const char* n, size_t ahead = 0) const { return peek(ahead).kind == Tok::Name && peek(ahead).s == n; }
  bool accept(const char* op) {
    if (!is_op(op)) return false;
    ++t_;
    return true;
  }
  bool accept_name(const char* n) {
    if (!is_name(n)) return false;
    ++t_;
    return true;
  }
  void expect(const char* op) {
    if (!accept(op)) fail(cur_line(), std::string("expected '") + op + "'" + got());
  }
  void expect_end() {
    if (!at_end()) fail(cur_line(), "unexpected '" + peek().s + "'");
  }
  std::string name() {
    if (peek().kind != Tok::Name) fail(cur_line(), "expected a name" + got());
    return (*toks_)[t_++].s;
  }
  int cur_line() const { return at_end() ? line_ : peek().line; }
  std::string got() const { return at_end() ? " at end of tag" : " before '" + peek().s + "'"; }

  NodeP node(Node::Kind k) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->line = cur_line();
    return n;
  }

  // Recursion guard: hostile templates nest without bound; the stack does not.
  struct Nest {
    explicit Nest(Parser& p) : p(p) {
      if (++p.depth_ > 200) fail(p.cur_line(), "nesting deeper than 200 levels");
    }
    ~Nest() { --p.depth_; }
    Parser& p;
  };

  // ---- expressions, in Jinja2's precedence order
  NodeP expression() {
    const Nest nest(*this);
    NodeP e = or_expr();
    if (is_name("if")) {
      ++t_;
      NodeP n = node(Node::Cond);
      n->a = std::move(e);
      n->b = or_expr();
      if (accept_name("else")) n->c = expression();
      return n;
    }
    return e;
  }
  NodeP or_expr() {
    NodeP l = and_expr();
    while (accept_name("or")) {
      NodeP n = node(Node::Or);
      n->a = std::move(l);
      n->b = and_expr();
      l = std::move(n);
    }
    return l;
  }
  NodeP and_expr() {
    NodeP l = not_expr();
    while (accept_name("and")) {
      NodeP n = node(Node::And);
      n->a = std::move(l);
      n->b = not_expr();
      l = std::move(n);
    }
    return l;
  }
  NodeP not_expr() {
    const Nest nest(*this);
    if (accept_name("not")) {
      NodeP n = node(Node::Not);
      n->a = not_expr();
      return n;
    }
    return compare();
  }
  // Comparisons associate left; Python's chained a < b < c does not occur in chat templates.
  NodeP compare() {
    NodeP l = math1();
    while (true) {
      std::string op;
      if (peek().kind == Tok::Op && (peek().s == "==" || peek().s == "!=" || peek().s == "<" || peek().s == ">" ||
                                     peek().s == "<=" || peek().s == ">=")) {
        op = peek().s;
        ++t_;
      } else if (is_name("in")) {
        op = "in";
        ++t_;
      } else if (is_name("not") && is_name("in", 1)) {
        op = "not in";
        t_ += 2;
      } else {
        return l;
      }
      NodeP n = node(Node::Bin);
      n->name = op;
      n->a = std::move(l);
      n->b = math1();
      l = std::move(n);
    }
  }
  NodeP binary_left(NodeP (Parser::*next)(), std::initializer_list<const char*> ops) {
    NodeP l = (this->*next)();
    while (true) {
      const char* hit = nullptr;
      for (const char* op : ops)
        if (is_op(op)) hit = op;
      if (!hit) return l;
      ++t_;
      NodeP n = node(Node::Bin);
      n->name = hit;
      n->a = std::move(l);
      n->b = (this->*next)();
      l = std::move(n);
    }
  }
  NodeP math1() { return binary_left(&Parser::concat, {"+", "-"}); }
  NodeP concat() { return binary_left(&Parser::math2, {"~"}); }
  NodeP math2() { return binary_left(&Parser::power, {"*", "/", "//", "%"}); }
  NodeP power() { return binary_left(&Parser::unary_filtered, {"**"}); }
  NodeP unary_filtered() { return unary(true); }
  NodeP unary(bool with_filter) {
    const Nest nest(*this);
    NodeP n;
    if (accept("-")) {
      n = node(Node::Neg);
      n->a = unary(false);
    } else if (accept("+")) {
      n = unary(false);
    } else {
      n = primary();
    }
    n = postfix(std::move(n));
    return with_filter ? filters(std::move(n)) : std::move(n);
  }
  NodeP primary() {
    const Tok& t = peek();
    if (at_end()) fail(cur_line(), "expected an expression at end of tag");
    if (t.kind == Tok::Name) {
      ++t_;
      NodeP n = node(Node::Lit);
      if (t.s == "true" || t.s == "True") {
        n->lit = Value::boolean(true);
      } else if (t.s == "false" || t.s == "False") {
        n->lit = Value::boolean(false);
      } else if (t.s == "none" || t.s == "None") {
        n->lit = Value::none();
      } else {
        n->kind = Node::Var;
        n->name = t.s;
      }
      return n;
    }
    if (t.kind == Tok::Str) {
      std::string s;
      while (peek().kind == Tok::Str) s += (*toks_)[t_++].s;  // adjacent literals concatenate
      NodeP n = node(Node::Lit);
      n->lit = Value::str(std::move(s));
      return n;
    }
    if (t.kind == Tok::Int || t.kind == Tok::Float) {
      ++t_;
      NodeP n = node(Node::Lit);
      n->lit = t.kind == Tok::Int ? Value::integer(t.i) : Value::number(t.f);
      return n;
    }
    if (accept("(")) {
      NodeP e = expression();
      if (is_op(",")) {  // a tuple: a list will do
        NodeP l = node(Node::ListLit);
        l->args.push_back(std::move(e));
        while (accept(",") && !is_op(")")) l->args.push_back(expression());
        e = std::move(l);
      }
      expect(")");
      return e;
    }
    if (accept("[")) {
      NodeP l = node(Node::ListLit);
      while (!is_op("]")) {
        l->args.push_back(expression());
        if (!accept(",")) break;
      }
      expect("]");
      return l;
    }
    if (accept("{")) {
      NodeP d = node(Node::DictLit);
      while (!is_op("}")) {
        d->args.push_back(expression());
        expect(":");
        d->args.push_back(expression());
        if (!accept(",")) break;
      }
      expect("}");
      return d;
    }
    fail(cur_line(), "unexpected '" + t.s + "'");
  }
  NodeP postfix(NodeP n) {
    while (true) {
      if (accept(".")) {
        NodeP a = node(Node::Attr);
        if (peek().kind == Tok::Int) {  // x.0 is x[0]
          a->kind = Node::Item;
          a->b = node(Node::Lit);
          a->b->lit = Value::integer((*toks_)[t_++].i);
        } else {
          a->name = name();
        }
        a->a = std::move(n);
        n = std::move(a);
      } else if (accept("[")) {
        NodeP start, stop, step;
        bool slice = false;
        if (!is_op(":")) start = expression();
        if (accept(":")) {
          slice = true;
          if (!is_op(":") && !is_op("]")) stop = expression();
          if (accept(":") && !is_op("]")) step = expression();
        }
        expect("]");
        NodeP s = node(slice ? Node::Slice : Node::Item);
        s->a = std::move(n);
        if (slice) {
          s->args.push_back(std::move(start));
          s->args.push_back(std::move(stop));
          s->args.push_back(std::move(step));
        } else {
          s->b = std::move(start);
        }
        n = std::move(s);
      } else if (is_op("(")) {
        n = call(std::move(n));
      } else {
        return n;
      }
    }
  }
  NodeP call(NodeP callee) {
    expect("(");
    NodeP c = node(Node::Call);
    c->a = std::move(callee);
    call_args(*c);
    return c;
  }
  void call_args(Node& c) {
    while (!is_op(")")) {
      if (peek().kind == Tok::Name && is_op("=", 1)) {
        const std::string k = name();
        ++t_;
        c.kwargs.emplace_back(k, expression());
      } else {
        c.args.push_back(expression());
      }
      if (!accept(",")) break;
    }
    expect(")");
  }
  NodeP filters(NodeP n) {
    while (true) {
      if (accept("|")) {
        NodeP f = node(Node::Filter);
        f->name = name();
        while (accept(".")) f->name += "." + name();
        f->a = std::move(n);
        if (accept("(")) call_args(*f);
        n = std::move(f);
      } else if (accept_name("is")) {
        NodeP t = node(Node::Test);
        t->negated = accept_name("not");
        t->name = name();
        t->a = std::move(n);
        if (accept("(")) {
          call_args(*t);
        } else if (!at_end() && (peek().kind == Tok::Int || peek().kind == Tok::Float || peek().kind == Tok::Str ||
                                 (peek().kind == Tok::Name && !is_name("and") && !is_name("or") && !is_name("else") &&
                                  !is_name("if") && !is_name("in") && !is_name("not") && !is_name("is")))) {
          t->args.push_back(postfix(primary()));
        }
        n = std::move(t);
      } else if (is_op("(")) {
        n = call(std::move(n));
      } else {
        return n;
      }
    }
  }

  std::vector<Segment> segs_;
  size_t seg_ = 0;
  const std::vector<Tok>* toks_ = nullptr;
  size_t t_ = 0;
  int line_ = 1;
  int depth_ = 0;
};

// ---------------------------------------------------------------- evaluation

const char* type_name(const Value& v) {
  switch (v.kind) {
    case Value::Undefined: return "undefined";
    case Value::None: return "NoneType";
    case Value::Bool: return "bool";
    case Value::Int: return "int";
    case Value::Float: return "float";
    case Value::Str: return "str";
    case Value::ListK: return "list";
    case Value::DictK: return "dict";
    case Value::FuncK: return "function";
  }
  return "?";
}

// Python's negative-index rule; false when out of range.
bool norm_index(int64_t& i, size_t n) {
  if (i < 0) i += int64_t(n);
  return i >= 0 && i < int64_t(n);
}

// Elements of a sequence as Values (strings iterate by character; dicts by key).
List iterate(const Value& v, int line) {
  switch (v.kind) {
    case Value::Undefined:
    case Value::None: return {};
    case Value::ListK: return *v.list;
    case Value::DictK: {
      List keys;
      for (const auto& [k, x] : *v.dict) keys.push_back(Value::str(k));
      return keys;
    }
    case Value::Str: {
      List chars;
      for (uint32_t cp : code_points(v.s)) chars.push_back(Value::str(utf8_encode(cp)));
      return chars;
    }
    default: fail(line, std::string("'") + type_name(v) + "' object is not iterable");
  }
}

int64_t length(const Value& v, int line) {
  switch (v.kind) {
    case Value::Str: return int64_t(code_points(v.s).size());
    case Value::ListK: return int64_t(v.list->size());
    case Value::DictK: return int64_t(v.dict->size());
    case Value::Undefined: return 0;
    default: fail(line, std::string("object of type '") + type_name(v) + "' has no len()");
  }
}

const Value* kwarg(KwArgs& kw, const char* name) {
  for (auto& [k, v] : kw)
    if (k == name) return &v;
  return nullptr;
}

// Positional argument i, else keyword `name`, else nullptr.
const Value* arg(std::vector<Value>& args, KwArgs& kw, size_t i, const char* name) {
  if (i < args.size()) return &args[i];
  return kwarg(kw, name);
}

std::string str_arg(std::vector<Value>& args, KwArgs& kw, size_t i, const char* name, int line) {
  const Value* v = arg(args, kw, i, name);
  if (!v || v->kind != Value::Str) fail(line, std::string("expected a string for '") + name + "'");
  return v->s;
}

// Python's str.split(sep=None, maxsplit=-1).
List py_split(const std::string& s, const Value* sep, int64_t maxsplit, int line) {
  List out;
  if (sep && sep->kind == Value::Str) {
    if (sep->s.empty()) fail(line, "empty separator");
    size_t pos = 0;
    while (maxsplit < 0 || int64_t(out.size()) < maxsplit) {
      const size_t at = s.find(sep->s, pos);
      if (at == std::string::npos) break;
      out.push_back(Value::str(s.substr(pos, at - pos)));
      pos = at + sep->s.size();
    }
    out.push_back(Value::str(s.substr(pos)));
    return out;
  }
  const std::vector<uint32_t> cps = code_points(s);
  std::string cur;
  bool in_word = false;
  for (size_t k = 0; k < cps.size(); ++k) {
    if (py_isspace(cps[k])) {
      if (in_word) out.push_back(Value::str(cur));
      cur.clear();
      in_word = false;
      if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
        while (k < cps.size() && py_isspace(cps[k])) ++k;
        std::string rest;
        for (; k < cps.size(); ++k) rest += utf8_encode(cps[k]);
        if (!rest.empty()) out.push_back(Value::str(rest));
        return out;
      }
    } else {
      cur += utf8_encode(cps[k]);
      in_word = true;
    }
  }
  if (in_word) out.push_back(Value::str(cur));
  return out;
}

std::string case_map(const std::string& s, int mode) {  // 0 lower, 1 upper, 2 title, 3 capitalize (ASCII letters)
  std::string out = s;
  bool start = true;
  for (size_t k = 0; k < out.size(); ++k) {
    const char c = out[k];
    const bool alpha = std::isalpha(uint8_t(c));
    if (mode == 0 || (mode == 3 && k > 0) || (mode == 2 && !start)) out[k] = char(std::tolower(uint8_t(c)));
    if (mode == 1 || (mode == 3 && k == 0) || (mode == 2 && start)) out[k] = char(std::toupper(uint8_t(c)));
    start = !alpha;
  }
  return out;
}

Value str_method(const Value& self, const std::string& name, int line) {
  const std::string s = self.s;
  auto m = [&](auto f) {
    return Value::function([s, f, line](std::vector<Value>& a, KwArgs& k) { return f(s, a, k, line); });
  };
  using A = std::vector<Value>;
  if (name == "startswith" || name == "endswith") {
    const bool start = name == "startswith";
    return m([start](const std::string& s, A& a, KwArgs& k, int line) {
      const Value* p = arg(a, k, 0, "prefix");
      if (!p) fail(line, "startswith/endswith need an argument");
      List options = p->kind == Value::ListK ? *p->list : List{*p};
      for (const Value& o : options) {
        if (o.kind != Value::Str) fail(line, "startswith/endswith take strings");
        if (start ? s.compare(0, o.s.size(), o.s) == 0 && s.size() >= o.s.size()
                  : s.size() >= o.s.size() && s.compare(s.size() - o.s.size(), o.s.size(), o.s) == 0)
          return Value::boolean(true);
      }
      return Value::boolean(false);
    });
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool l = name != "rstrip", r = name != "lstrip";
    return m([l, r](const std::string& s, A& a, KwArgs& k, int) {
      const Value* c = arg(a, k, 0, "chars");
      const bool given = c && c->kind == Value::Str;
      return Value::str(py_strip(s, given ? &c->s : nullptr, l, r));
    });
  }
  if (name == "split" || name == "rsplit") {
    return m([](const std::string& s, A& a, KwArgs& k, int line) {
      const Value* sep = arg(a, k, 0, "sep");
      const Value* mx = arg(a, k, 1, "maxsplit");
      return Value::make_list(py_split(s, sep, mx && mx->kind == Value::Int ? mx->i : -1, line));
    });
  }
  if (name == "lower" || name == "upper" || name == "title" || name == "capitalize") {
    const int mode = name == "lower" ? 0 : name == "upper" ? 1 : name == "title" ? 2 : 3;
    return m([mode](const std::string& s, A&, KwArgs&, int) { return Value::str(case_map(s, mode)); });
  }
  if (name == "replace") {
    return m([](const std::string& s, A& a, KwArgs& k, int line) {
      const std::string from = str_arg(a, k, 0, "old", line), to = str_arg(a, k, 1, "new", line);
      const Value* cnt = arg(a, k, 2, "count");
      int64_t left = cnt && cnt->kind == Value::Int ? cnt->i : -1;
      std::string out;
      size_t pos = 0;
      while (left != 0) {
        const size_t at = from.empty() ? (pos <= s.size() ? pos : std::string::npos) : s.find(from, pos);
        if (at == std::string::npos) break;
        out += s.substr(pos, at - pos) + to;
        if (from.empty()) {
          if (at < s.size()) out += s[at];
          pos = at + 1;
        } else {
          pos = at + from.size();
        }
        if (left > 0) --left;
      }
      if (pos <= s.size()) out += s.substr(pos);
      return Value::str(out);
    });
  }
  if (name == "find" || name == "count") {
    const bool find = name == "find";
    return m([find](const std::string& s, A& a, KwArgs& k, int line) {
      const std::string sub = str_arg(a, k, 0, "sub", line);
      if (find) {
        const size_t at = s.find(sub);
        return Value::integer(at == std::string::npos ? -1 : int64_t(code_points(s.substr(0, at)).size()));
      }
      int64_t n = 0;
      for (size_t at = s.find(sub); at != std::string::npos && !sub.empty(); at = s.find(sub, at + sub.size())) ++n;
      return Value::integer(n);
    });
  }
  if (name == "join") {
    return m([](const std::string& s, A& a, KwArgs& k, int line) {
      const Value* items = arg(a, k, 0, "iterable");
      if (!items) fail(line, "join needs an argument");
      std::string out;
      const List l = iterate(*items, line);
      for (size_t i = 0; i < l.size(); ++i) out += (i ? s : "") + to_str(l[i]);
      return Value::str(out);
    });
  }
  if (name == "isspace" || name == "isdigit" || name == "isalpha" || name == "isalnum") {
    return m([name](const std::string& s, A&, KwArgs&, int) {
      if (s.empty()) return Value::boolean(false);
      for (unsigned char c : s) {
        const bool ok = name == "isspace"   ? bool(std::isspace(c))
                        : name == "isdigit" ? bool(std::isdigit(c))
                        : name == "isalpha" ? bool(std::isalpha(c))
                                            : bool(std::isalnum(c));
        if (!ok) return Value::boolean(false);
      }
      return Value::boolean(true);
    });
  }
  return Value();
}

Value dict_method(const Value& self, const std::string& name) {
  const Value d = self;
  if (name == "items" || name == "keys" || name == "values") {
    return Value::function([d, name](std::vector<Value>&, KwArgs&) {
      List out;
      for (const auto& [k, v] : *d.dict) {
        if (name == "items") {
          out.push_back(Value::make_list({Value::str(k), v}));
        } else {
          out.push_back(name == "keys" ? Value::str(k) : v);
        }
      }
      return Value::make_list(std::move(out));
    });
  }
  if (name == "get") {
    return Value::function([d](std::vector<Value>& a, KwArgs& k) {
      const Value* key = arg(a, k, 0, "key");
      const Value* def = arg(a, k, 1, "default");
      const Value* v = key && key->kind == Value::Str ? d.get(key->s) : nullptr;
      return v ? *v : def ? *def : Value::none();
    });
  }
  return Value();
}

class Renderer {
 public:
  explicit Renderer(const nlohmann::ordered_json& ctx) {
    scopes_.emplace_back();
    auto& g = scopes_.back();
    g["range"] = Value::function([](std::vector<Value>& a, KwArgs&) {
      int64_t start = 0, stop = 0, step = 1;
      if (a.size() == 1) {
        stop = a[0].i;
      } else if (a.size() >= 2) {
        start = a[0].i;
        stop = a[1].i;
        if (a.size() > 2) step = a[2].i;
      }
      if (step == 0) throw Error("chat template: range() step must not be zero");
      List out;
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        out.push_back(Value::integer(i));
        if (out.size() > 10000000) throw Error("chat template: range() too long");
      }
      return Value::make_list(std::move(out));
    });
    const auto make_dict = [](std::vector<Value>& a, KwArgs& k) {
      Dict d;
      if (!a.empty() && a[0].kind == Value::DictK) d = *a[0].dict;
      for (auto& [key, v] : k) d.emplace_back(key, v);
      return Value::make_dict(std::move(d));
    };
    g["namespace"] = Value::function(make_dict);
    g["dict"] = Value::function(make_dict);
    g["raise_exception"] = Value::function([](std::vector<Value>& a, KwArgs&) -> Value {
      throw Error("chat template raised an exception: " + (a.empty() ? std::string() : to_str(a[0])));
    });
    g["strftime_now"] = Value::function([](std::vector<Value>& a, KwArgs&) {
      const std::time_t t = std::time(nullptr);
      std::tm tm{};
      localtime_r(&t, &tm);
      char buf[256];
      const std::string fmt = a.empty() ? std::string("%Y-%m-%d") : to_str(a[0]);
      const size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
      return Value::str(std::string(buf, n));
    });
    if (ctx.is_object()) {
      for (const auto& [k, v] : ctx.items()) g[k] = Value::from_json(v);
    }
  }

  enum Flow { Normal, Broke, Continued };

  Flow exec(const Body& body, std::string& out) {
    for (const Stmt& s : body) {
      const Flow f = exec(s, out);
      if (f != Normal) return f;
    }
    return Normal;
  }

 private:
  Flow exec(const Stmt& s, std::string& out) {
    tick(s.line, out);
    switch (s.kind) {
      case Stmt::Text: out += s.text; break;
      case Stmt::Out: out += to_str(eval(*s.expr)); break;
      case Stmt::If:
        for (const auto& [cond, body] : s.branches) {
          if (!cond || eval(*cond).truthy()) return exec(body, out);
        }
        break;
      case Stmt::For: return exec_for(s, out);
      case Stmt::Set: {
        Value v = eval(*s.expr);
        if (s.vars.size() == 1) {
          scopes_.back()[s.vars[0]] = std::move(v);
        } else {
          const List items = iterate(v, s.line);
          if (items.size() != s.vars.size()) fail(s.line, "wrong number of values to unpack");
          for (size_t k = 0; k < items.size(); ++k) scopes_.back()[s.vars[k]] = items[k];
        }
        break;
      }
      case Stmt::SetAttr: {
        Value obj = eval(*s.expr);
        if (obj.kind != Value::DictK) fail(s.line, "cannot assign an attribute of a non-namespace object");
        obj.set(s.text, eval(*s.value));
        break;
      }
      case Stmt::SetBlock: {
        std::string captured;
        exec(s.body, captured);
        scopes_.back()[s.text] = Value::str(std::move(captured));
        break;
      }
      case Stmt::Break: return Broke;
      case Stmt::Continue: return Continued;
      case Stmt::Macro: define_macro(s); break;
    }
    return Normal;
  }

  // A macro sees the globals as they are when it is called, the scopes around its definition
  // as they were then (a macro defined in a loop keeps that iteration's variables), and its
  // arguments; not the caller's loop variables. Its own `set`s stay inside it.
  void define_macro(const Stmt& s) {
    auto closure = std::make_shared<std::vector<std::map<std::string, Value>>>(scopes_.begin() + 1, scopes_.end());
    scopes_.back()[s.text] = Value::function(
        [this, &s, closure](std::vector<Value>& args, KwArgs& kw) { return call_macro(s, *closure, args, kw); });
  }

  Value call_macro(const Stmt& s, const std::vector<std::map<std::string, Value>>& closure, std::vector<Value>& args,
                   KwArgs& kw) {
    const std::string who = "macro '" + s.text + "'";
    if (args.size() > s.vars.size())
      fail(s.line, who + " takes not more than " + std::to_string(s.vars.size()) + " argument(s)");
    std::map<std::string, Value> frame;
    for (size_t k = 0; k < args.size(); ++k) frame[s.vars[k]] = args[k];
    for (auto& [key, v] : kw) {
      const auto at = std::find(s.vars.begin(), s.vars.end(), key);
      // Jinja2 says the same of a keyword that repeats a positional argument.
      if (at == s.vars.end() || size_t(at - s.vars.begin()) < args.size())
        fail(s.line, who + " takes no keyword argument '" + key + "'");
      frame[key] = v;
    }
    if (++macro_depth_ > 200) fail(s.line, who + ": macros nested deeper than 200 calls");
    std::vector<std::map<std::string, Value>> saved = std::move(scopes_);
    scopes_.clear();
    scopes_.push_back(std::move(saved.front()));
    scopes_.insert(scopes_.end(), closure.begin(), closure.end());
    scopes_.push_back(std::move(frame));
    // Defaults are evaluated at the call, where the parameters before them are visible.
    for (size_t k = 0; k < s.vars.size(); ++k) {
      if (scopes_.back().count(s.vars[k])) continue;
      scopes_.back()[s.vars[k]] = s.defaults[k] ? eval(*s.defaults[k]) : Value();
    }
    std::string out;
    exec(s.body, out);
    saved.front() = std::move(scopes_.front());
    scopes_ = std::move(saved);
    --macro_depth_;
    return Value::str(std::move(out));
  }

  // A chat template renders in thousands of steps; a runaway one is stopped, not waited for.
  void tick(int line, const std::string& out) {
    if (++steps_ > 1'000'000 || out.size() > (size_t(256) << 20))
      fail(line, "rendering exceeded a million steps or 256 MiB of output");
  }

  Flow exec_for(const Stmt& s, std::string& out) {
    List items = iterate(eval(*s.expr), s.line);
    if (s.value) {  // `for x in xs if cond`: filter first, so loop.* counts the kept items
      List kept;
      for (const Value& item : items) {
        scopes_.emplace_back();
        bind(s, item);
        if (eval(*s.value).truthy()) kept.push_back(item);
        scopes_.pop_back();
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec(s.else_body, out);
    const int64_t n = int64_t(items.size());
    for (int64_t k = 0; k < n; ++k) {
      tick(s.line, out);
      scopes_.emplace_back();
      bind(s, items[size_t(k)]);
      Dict loop{{"index", Value::integer(k + 1)},
                {"index0", Value::integer(k)},
                {"revindex", Value::integer(n - k)},
                {"revindex0", Value::integer(n - k - 1)},
                {"first", Value::boolean(k == 0)},
                {"last", Value::boolean(k == n - 1)},
                {"length", Value::integer(n)},
                {"previtem", k > 0 ? items[size_t(k - 1)] : Value()},
                {"nextitem", k + 1 < n ? items[size_t(k + 1)] : Value()}};
      loop.emplace_back("cycle", Value::function([k](std::vector<Value>& a, KwArgs&) {
                          return a.empty() ? Value() : a[size_t(k) % a.size()];
                        }));
      scopes_.back()["loop"] = Value::make_dict(std::move(loop));
      const Flow f = exec(s.body, out);
      scopes_.pop_back();
      if (f == Broke) break;
    }
    return Normal;
  }

  void bind(const Stmt& s, const Value& item) {
    if (s.vars.size() == 1) {
      scopes_.back()[s.vars[0]] = item;
      return;
    }
    const List parts = iterate(item, s.line);
    if (parts.size() != s.vars.size()) fail(s.line, "wrong number of values to unpack in for loop");
    for (size_t k = 0; k < parts.size(); ++k) scopes_.back()[s.vars[k]] = parts[k];
  }

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return f->second;
    }
    return Value();
  }

  Value get_attr(const Value& obj, const std::string& name, int line) {
    switch (obj.kind) {
      case Value::Undefined: fail(line, "'" + name + "' of an undefined value");
      case Value::DictK: {
        Value m = dict_method(obj, name);
        if (!m.is_undefined()) return m;
        const Value* v = obj.get(name);
        return v ? *v : Value();
      }
      case Value::Str: return str_method(obj, name, line);
      default: return Value();
    }
  }

  Value get_item(const Value& obj, const Value& key, int line) {
    switch (obj.kind) {
      case Value::Undefined: fail(line, "subscript of an undefined value");
      case Value::ListK:
        if (key.kind == Value::Int) {
          int64_t i = key.i;
          return norm_index(i, obj.list->size()) ? (*obj.list)[size_t(i)] : Value();
        }
        break;
      case Value::Str:
        if (key.kind == Value::Int) {
          const std::vector<uint32_t> cps = code_points(obj.s);
          int64_t i = key.i;
          return norm_index(i, cps.size()) ? Value::str(utf8_encode(cps[size_t(i)])) : Value();
        }
        break;
      case Value::DictK:
        if (key.kind == Value::Str) {
          const Value* v = obj.get(key.s);
          if (v) return *v;
        }
        break;
      default: break;
    }
    return key.kind == Value::Str ? get_attr(obj, key.s, line) : Value();
  }

  Value slice(const Value& obj, const Node& n) {
    const auto idx = [&](size_t k, int64_t def) {
      if (!n.args[k]) return def;
      const Value v = eval(*n.args[k]);
      if (v.kind == Value::None) return def;
      if (v.kind != Value::Int) fail(n.line, "slice indices must be integers");
      return v.i;
    };
    const int64_t step = idx(2, 1);
    if (step == 0) fail(n.line, "slice step cannot be zero");
    List items;
    std::vector<uint32_t> cps;
    size_t len;
    if (obj.kind == Value::ListK) {
      len = obj.list->size();
    } else if (obj.kind == Value::Str) {
      cps = code_points(obj.s);
      len = cps.size();
    } else {
      fail(n.line, std::string("cannot slice a '") + type_name(obj) + "'");
    }
    // Python's slice bounds: negatives count from the end, then clamp to the sequence.
    const int64_t L = int64_t(len);
    const auto clamp = [&](int64_t v) {
      if (v < 0) v += L;
      return step > 0 ? std::clamp<int64_t>(v, 0, L) : std::clamp<int64_t>(v, -1, L - 1);
    };
    const int64_t start = n.args[0] ? clamp(idx(0, 0)) : (step > 0 ? 0 : L - 1);
    const int64_t stop = n.args[1] ? clamp(idx(1, 0)) : (step > 0 ? L : -1);
    std::vector<size_t> picks;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) picks.push_back(size_t(i));
    if (obj.kind == Value::ListK) {
      for (size_t i : picks) items.push_back((*obj.list)[i]);
      return Value::make_list(std::move(items));
    }
    std::string s;
    for (size_t i : picks) s += utf8_encode(cps[i]);
    return Value::str(s);
  }

  Value binary(const std::string& op, const Value& a, const Value& b, int line) {
    if (op == "~") return Value::str(to_str(a) + to_str(b));
    if (op == "==") return Value::boolean(equal(a, b));
    if (op == "!=") return Value::boolean(!equal(a, b));
    if (op == "in" || op == "not in") {
      bool found = false;
      if (b.kind == Value::Str) {
        if (a.kind != Value::Str) fail(line, "'in <string>' requires a string on the left");
        found = b.s.find(a.s) != std::string::npos;
      } else if (b.kind == Value::ListK) {
        for (const Value& x : *b.list) found = found || equal(a, x);
      } else if (b.kind == Value::DictK) {
        found = a.kind == Value::Str && b.get(a.s);
      } else if (b.kind != Value::Undefined) {
        fail(line, std::string("argument of type '") + type_name(b) + "' is not iterable");
      }
      return Value::boolean(op == "in" ? found : !found);
    }
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      int c;
      if (a.is_number() && b.is_number()) {
        const double x = a.as_double(), y = b.as_double();
        c = x < y ? -1 : x > y ? 1 : 0;
      } else if (a.kind == Value::Str && b.kind == Value::Str) {
        c = a.s.compare(b.s);
      } else {
        fail(line, std::string("'") + op + "' not supported between '" + type_name(a) + "' and '" + type_name(b) + "'");
      }
      return Value::boolean(op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0);
    }
    if (a.is_number() && b.is_number()) {
      const bool ints = a.kind != Value::Float && b.kind != Value::Float;
      const int64_t x = a.kind == Value::Bool ? a.b : a.i, y = b.kind == Value::Bool ? b.b : b.i;
      const double fx = a.as_double(), fy = b.as_double();
      if (op == "+") return ints ? Value::integer(x + y) : Value::number(fx + fy);
      if (op == "-") return ints ? Value::integer(x - y) : Value::number(fx - fy);
      if (op == "*") return ints ? Value::integer(x * y) : Value::number(fx * fy);
      if (op == "/") {
        if (fy == 0) fail(line, "division by zero");
        return Value::number(fx / fy);
      }
      if (op == "//" || op == "%") {
        if (fy == 0) fail(line, "division by zero");
        if (ints) {
          int64_t q = x / y, r = x % y;
          if (r != 0 && ((r < 0) != (y < 0))) {
            --q;
            r += y;
          }
          return Value::integer(op == "//" ? q : r);
        }
        const double q = std::floor(fx / fy);
        return Value::number(op == "//" ? q : fx - q * fy);
      }
      if (op == "**") {
        if (ints && y >= 0) {
          int64_t r = 1;
          for (int64_t k = 0; k < y; ++k) r *= x;
          return Value::integer(r);
        }
        return Value::number(std::pow(fx, fy));
      }
    }
    if (op == "+" && a.kind == Value::Str && b.kind == Value::Str) return Value::str(a.s + b.s);
    if (op == "+" && a.kind == Value::ListK && b.kind == Value::ListK) {
      List l = *a.list;
      l.insert(l.end(), b.list->begin(), b.list->end());
      return Value::make_list(std::move(l));
    }
    if (op == "*" && (a.kind == Value::Str || a.kind == Value::ListK) && b.kind == Value::Int) {
      if (a.kind == Value::Str) {
        if (b.i > 0 && a.s.size() * size_t(b.i) > (size_t(256) << 20)) fail(line, "string repetition over 256 MiB");
        std::string s;
        s.reserve(a.s.size() * size_t(std::max<int64_t>(0, b.i)));
        for (int64_t k = 0; k < b.i; ++k) s += a.s;
        return Value::str(std::move(s));
      }
      List l;
      for (int64_t k = 0; k < b.i; ++k) l.insert(l.end(), a.list->begin(), a.list->end());
      return Value::make_list(std::move(l));
    }
    // Python's own wording, which Jinja2's errors carry.
    if (op == "+" && (a.kind == Value::Str || a.kind == Value::ListK))
      fail(line,
           std::string("can only concatenate ") + type_name(a) + " (not \"" + type_name(b) + "\") to " + type_name(a));
    fail(line, "unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
  }

  bool test(const std::string& name, const Value& v, std::vector<Value>& args, int line) {
    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.kind == Value::None;
    if (name == "string") return v.kind == Value::Str;
    if (name == "number") return v.kind == Value::Int || v.kind == Value::Float;
    if (name == "integer") return v.kind == Value::Int;
    if (name == "float") return v.kind == Value::Float;
    if (name == "boolean") return v.kind == Value::Bool;
    if (name == "true") return v.kind == Value::Bool && v.b;
    if (name == "false") return v.kind == Value::Bool && !v.b;
    if (name == "mapping") return v.kind == Value::DictK;
    if (name == "sequence") return v.kind == Value::ListK || v.kind == Value::Str || v.kind == Value::DictK;
    if (name == "iterable") return v.kind == Value::ListK || v.kind == Value::Str || v.kind == Value::DictK;
    if (name == "callable") return v.kind == Value::FuncK;
    if (name == "lower") return v.kind == Value::Str && case_map(v.s, 0) == v.s;
    if (name == "upper") return v.kind == Value::Str && case_map(v.s, 1) == v.s;
    if (name == "odd" || name == "even") {
      if (v.kind != Value::Int) fail(line, "odd/even need an integer");
      return (v.i % 2 != 0) == (name == "odd");
    }
    if (args.empty()) fail(line, "unknown test '" + name + "' (or it needs an argument)");
    if (name == "eq" || name == "equalto" || name == "==" || name == "sameas") return equal(v, args[0]);
    if (name == "ne" || name == "!=") return !equal(v, args[0]);
    if (name == "in") return binary("in", v, args[0], line).b;
    if (name == "divisibleby") return args[0].i != 0 && v.i % args[0].i == 0;
    if (name == "gt" || name == ">") return binary(">", v, args[0], line).b;
    if (name == "lt" || name == "<") return binary("<", v, args[0], line).b;
    if (name == "ge" || name == ">=") return binary(">=", v, args[0], line).b;
    if (name == "le" || name == "<=") return binary("<=", v, args[0], line).b;
    fail(line, "unknown test '" + name + "'");
  }

  Value attribute_path(const Value& v, const std::string& path, int line) {
    Value cur = v;
    size_t pos = 0;
    while (pos <= path.size()) {
      const size_t dot = path.find('.', pos);
      const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
      if (cur.is_undefined()) return cur;
      const bool digits =
          !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(uint8_t(c)); });
      cur = digits ? get_item(cur, Value::integer(std::stoll(part)), line) : get_item(cur, Value::str(part), line);
      if (dot == std::string::npos) break;
      pos = dot + 1;
    }
    return cur;
  }

  Value filter(const Node& n) {
    Value v = eval(*n.a);
    std::vector<Value> args;
    KwArgs kw;
    for (const NodeP& a : n.args) args.push_back(eval(*a));
    for (const auto& [k, a] : n.kwargs) kw.emplace_back(k, eval(*a));
    const std::string& f = n.name;
    const int line = n.line;
    if (f == "length" || f == "count") return Value::integer(length(v, line));
    if (f == "tojson") {
      const Value* ind = arg(args, kw, 0, "indent");
      const Value* sk = kwarg(kw, "sort_keys");
      return Value::str(to_json(v, ind && ind->kind == Value::Int ? int(ind->i) : -1, sk && sk->truthy()));
    }
    if (f == "trim") {  // Jinja2 trims str(value): None becomes "None"
      const Value* c = arg(args, kw, 0, "chars");
      return Value::str(py_strip(to_str(v), c && c->kind == Value::Str ? &c->s : nullptr, true, true));
    }
    if (f == "string") return Value::str(to_str(v));
    if (f == "safe" || f == "e" || f == "escape" || f == "forceescape") {
      if (f == "safe") return v;
      std::string out;
      for (char c : to_str(v)) {
        switch (c) {
          case '&': out += "&amp;"; break;
          case '<': out += "&lt;"; break;
          case '>': out += "&gt;"; break;
          case '"': out += "&#34;"; break;
          case '\'': out += "&#39;"; break;
          default: out += c;
        }
      }
      return Value::str(out);
    }
    if (f == "lower" || f == "upper" || f == "title" || f == "capitalize") {
      return Value::str(case_map(to_str(v), f == "lower" ? 0 : f == "upper" ? 1 : f == "title" ? 2 : 3));
    }
    if (f == "first" || f == "last") {
      const List l = iterate(v, line);
      if (l.empty()) return Value();
      return f == "first" ? l.front() : l.back();
    }
    if (f == "join") {
      const Value* sep = arg(args, kw, 0, "d");
      const Value* attr = kwarg(kw, "attribute");
      std::string out;
      const List l = iterate(v, line);
      for (size_t k = 0; k < l.size(); ++k) {
        out += (k && sep ? to_str(*sep) : "") + to_str(attr ? attribute_path(l[k], to_str(*attr), line) : l[k]);
      }
      return Value::str(out);
    }
    if (f == "default" || f == "d") {
      const Value* def = arg(args, kw, 0, "default_value");
      const Value* boolean = arg(args, kw, 1, "boolean");
      const bool use = v.is_undefined() || (boolean && boolean->truthy() && !v.truthy());
      return use ? (def ? *def : Value::str("")) : v;
    }
    if (f == "list") return Value::make_list(iterate(v, line));
    if (f == "items") {
      if (v.is_undefined()) return Value::make_list();
      if (v.kind != Value::DictK) fail(line, "items of a non-mapping");
      std::vector<Value> none;
      KwArgs nokw;
      return (*dict_method(v, "items").fn)(none, nokw);
    }
    if (f == "reverse") {
      if (v.kind == Value::Str) {
        std::vector<uint32_t> cps = code_points(v.s);
        std::string s;
        for (auto it = cps.rbegin(); it != cps.rend(); ++it) s += utf8_encode(*it);
        return Value::str(s);
      }
      List l = iterate(v, line);
      std::reverse(l.begin(), l.end());
      return Value::make_list(std::move(l));
    }
    if (f == "replace") {
      std::vector<Value> a(args.begin(), args.end());
      return (*str_method(Value::str(to_str(v)), "replace", line).fn)(a, kw);
    }
    if (f == "int") {
      if (v.kind == Value::Float) return Value::integer(int64_t(v.f));
      if (v.kind == Value::Bool) return Value::integer(v.b);
      if (v.kind == Value::Int) return v;
      try {
        return Value::integer(std::stoll(to_str(v)));
      } catch (const std::exception&) {
        return Value::integer(0);
      }
    }
    if (f == "float") {
      if (v.is_number()) return Value::number(v.as_double());
      try {
        return Value::number(std::stod(to_str(v)));
      } catch (const std::exception&) {
        return Value::number(0);
      }
    }
    if (f == "abs") return v.kind == Value::Float ? Value::number(std::fabs(v.f)) : Value::integer(std::llabs(v.i));
    if (f == "unique") {
      List out;
      for (const Value& x : iterate(v, line)) {
        bool seen = false;
        for (const Value& y : out) seen = seen || equal(x, y);
        if (!seen) out.push_back(x);
      }
      return Value::make_list(std::move(out));
    }
    if (f == "selectattr" || f == "rejectattr" || f == "select" || f == "reject") {
      const bool by_attr = f == "selectattr" || f == "rejectattr";
      const bool keep = f == "selectattr" || f == "select";
      size_t k = 0;
      const std::string attr = by_attr ? (args.size() > k ? to_str(args[k++]) : "") : "";
      const std::string tname = args.size() > k ? to_str(args[k++]) : "";
      std::vector<Value> targs(args.begin() + long(std::min(k, args.size())), args.end());
      List out;
      for (const Value& x : iterate(v, line)) {
        const Value subject = by_attr ? attribute_path(x, attr, line) : x;
        const bool ok = tname.empty() ? subject.truthy() : test(tname, subject, targs, line);
        if (ok == keep) out.push_back(x);
      }
      return Value::make_list(std::move(out));
    }
    if (f == "map") {
      const Value* attr = kwarg(kw, "attribute");
      List out;
      for (const Value& x : iterate(v, line)) {
        if (attr) {
          Value r = attribute_path(x, to_str(*attr), line);
          const Value* def = kwarg(kw, "default");
          out.push_back(r.is_undefined() && def ? *def : r);
        } else if (!args.empty()) {
          Node fn;
          fn.kind = Node::Filter;
          fn.line = line;
          fn.name = to_str(args[0]);
          auto lit = std::make_unique<Node>();
          lit->kind = Node::Lit;
          lit->lit = x;
          fn.a = std::move(lit);
          out.push_back(filter(fn));
        } else {
          out.push_back(x);
        }
      }
      return Value::make_list(std::move(out));
    }
    if (f == "sum") {
      Value total = Value::integer(0);
      for (const Value& x : iterate(v, line)) total = binary("+", total, x, line);
      return total;
    }
    if (f == "indent") {
      const Value* w = arg(args, kw, 0, "width");
      const Value* first = arg(args, kw, 1, "first");
      const std::string pad(w && w->kind == Value::Int ? size_t(w->i) : 4, ' ');
      const std::string s = to_str(v);
      std::string out = first && first->truthy() ? pad : "";
      for (size_t k = 0; k < s.size(); ++k) {
        out += s[k];
        if (s[k] == '\n' && k + 1 < s.size() && s[k + 1] != '\n') out += pad;
      }
      return Value::str(out);
    }
    if (f == "dictsort") {
      if (v.kind != Value::DictK) fail(line, "dictsort of a non-mapping");
      Dict d = *v.dict;
      std::sort(d.begin(), d.end(), [](auto& a, auto& b) { return a.first < b.first; });
      List out;
      for (auto& [k, x] : d) out.push_back(Value::make_list({Value::str(k), x}));
      return Value::make_list(std::move(out));
    }
    fail(line, "unknown filter '" + f + "'");
  }

  Value eval(const Node& n) {
    switch (n.kind) {
      case Node::Lit: return n.lit;
      case Node::Var: return lookup(n.name);
      case Node::Attr: return get_attr(eval(*n.a), n.name, n.line);
      case Node::Item: return get_item(eval(*n.a), eval(*n.b), n.line);
      case Node::Slice: return slice(eval(*n.a), n);
      case Node::Call: {
        const Value f = eval(*n.a);
        if (f.kind != Value::FuncK) fail(n.line, std::string("'") + type_name(f) + "' object is not callable");
        std::vector<Value> args;
        KwArgs kw;
        for (const NodeP& a : n.args) args.push_back(eval(*a));
        for (const auto& [k, a] : n.kwargs) kw.emplace_back(k, eval(*a));
        return (*f.fn)(args, kw);
      }
      case Node::Filter: return filter(n);
      case Node::Test: {
        const Value v = eval(*n.a);
        std::vector<Value> args;
        for (const NodeP& a : n.args) args.push_back(eval(*a));
        return Value::boolean(test(n.name, v, args, n.line) != n.negated);
      }
      case Node::Not: return Value::boolean(!eval(*n.a).truthy());
      case Node::Neg: {
        const Value v = eval(*n.a);
        if (v.kind == Value::Int) return Value::integer(-v.i);
        if (v.kind == Value::Float) return Value::number(-v.f);
        fail(n.line, std::string("bad operand type for unary -: '") + type_name(v) + "'");
      }
      case Node::Bin: return binary(n.name, eval(*n.a), eval(*n.b), n.line);
      case Node::And: {
        Value l = eval(*n.a);
        return l.truthy() ? eval(*n.b) : l;
      }
      case Node::Or: {
        Value l = eval(*n.a);
        return l.truthy() ? l : eval(*n.b);
      }
      case Node::Cond: {
        if (eval(*n.b).truthy()) return eval(*n.a);
        return n.c ? eval(*n.c) : Value();
      }
      case Node::ListLit: {
        List l;
        for (const NodeP& a : n.args) l.push_back(eval(*a));
        return Value::make_list(std::move(l));
      }
      case Node::DictLit: {
        Value d = Value::make_dict();
        for (size_t k = 0; k + 1 < n.args.size(); k += 2) d.set(to_str(eval(*n.args[k])), eval(*n.args[k + 1]));
        return d;
      }
    }
    return Value();
  }

  std::vector<std::map<std::string, Value>> scopes_;
  int64_t steps_ = 0;
  int macro_depth_ = 0;
};

}  // namespace

struct Template::Impl {
  Body body;
};

Template::Template(const std::string& source) : impl_(std::make_unique<Impl>()) {
  impl_->body = Parser(Scanner(source).run()).parse();
}

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;

std::string Template::render(const nlohmann::ordered_json& context) const {
  Renderer r(context);
  std::string out;
  r.exec(impl_->body, out);
  return out;
}

}  // namespace dawn::jinja
