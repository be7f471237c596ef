// JSON Schema -> GBNF: rule naming and memoization, scalar types, enum/const, and the final
// text (the schema's rules, then the library rules they reach).
#include "text/json_schema_grammar.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "text/json_schema_converter.h"
#include "text/json_schema_formats.h"
#include "text/json_schema_regex.h"

namespace dawn {

namespace schema_gbnf {

namespace {

constexpr size_t kInlineMax = 48;  // bodies up to this long are written in place, not as rules

[[noreturn]] void fail(const std::string& ptr, const std::string& what) { throw SchemaError(ptr + ": " + what); }

// The rule names a GBNF body refers to (outside literals, classes and {m,n}).
std::vector<std::string> refs_in(const std::string& body) {
  std::vector<std::string> out;
  for (size_t i = 0; i < body.size();) {
    const char c = body[i];
    if (c == '"' || c == '[') {
      const char close = c == '"' ? '"' : ']';
      for (++i; i < body.size() && body[i] != close; ++i)
        if (body[i] == '\\') ++i;
      ++i;
    } else if (c == '{') {
      const size_t close = body.find('}', i);
      if (close == std::string::npos) break;
      i = close + 1;
    } else if (std::isalnum(uint8_t(c)) || c == '-') {
      size_t j = i;
      while (j < body.size() && (std::isalnum(uint8_t(body[j])) || body[j] == '-')) ++j;
      out.push_back(body.substr(i, j - i));
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

// A readable rule name from a pointer: "#/properties/address/properties/city" -> "address-city",
// "#/$defs/node" -> "node", ".../items" -> "...-item".
std::string name_from_pointer(const std::string& ptr) {
  std::vector<std::string> segs;
  for (size_t i = 1; i < ptr.size();) {
    const size_t end = std::min(ptr.find('/', i + 1), ptr.size());
    segs.push_back(ptr.substr(i + 1, end - i - 1));
    i = end;
  }
  // Segments alternate between keywords and what they hold: a property or definition name, an
  // index, or the next keyword.
  std::vector<std::string> words;
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& s = segs[i];
    const bool has_next = i + 1 < segs.size();
    if (s == "properties" && has_next) {
      words.push_back(segs[++i]);
    } else if ((s == "$defs" || s == "definitions") && has_next) {
      words = {segs[++i]};  // a definition is named for itself
    } else if (s == "prefixItems" && has_next) {
      words.push_back("item" + segs[++i]);
    } else if ((s == "allOf" || s == "anyOf" || s == "oneOf") && has_next) {
      words.push_back(segs[++i]);
    } else if (s == "items") {
      words.push_back("item");
    } else if (s == "additionalProperties") {
      words.push_back("extra");
    } else {
      words.push_back(s);
    }
  }
  std::string name;
  for (const std::string& w : words) {
    std::string clean;
    for (char c : w) {
      if (std::isalnum(uint8_t(c)))
        clean += c;
      else if (!clean.empty() && clean.back() != '-')
        clean += '-';
    }
    while (!clean.empty() && clean.back() == '-') clean.pop_back();
    if (clean.empty()) continue;
    if (!name.empty()) name += '-';
    name += clean;
  }
  if (name.size() > 40) {  // keep the most specific end
    name = name.substr(name.size() - 40);
    name.erase(0, std::min(name.find_first_not_of('-'), name.size()));
  }
  return name.empty() ? "schema" : name;
}

uint8_t value_bits(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return kNull;
    case Json::value_t::boolean: return kBoolean;
    case Json::value_t::string: return kString;
    case Json::value_t::array: return kArray;
    case Json::value_t::object: return kObject;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return kInteger | kNumber;
    case Json::value_t::number_float: {
      const double d = v.get<double>();
      return std::floor(d) == d ? kInteger | kNumber : kNumber;
    }
    default: return 0;
  }
}

}  // namespace

std::string Converter::reserve_name(const std::string& ptr) { return unique_name(name_from_pointer(ptr)); }

std::string Converter::unique_name(const std::string& base) {
  std::string name = base;
  for (int k = 2; names_.count(name) || is_library_rule(name) || name == "root"; ++k)
    name = base + "-" + std::to_string(k);
  names_.insert(name);
  return name;
}

Expr Converter::add_rule(const std::string& base, const Expr& body) {
  const std::string name = unique_name(base);
  rules_.emplace_back(std::make_pair(name, body.text));
  return ref(name);
}

std::optional<Expr> Converter::gen(const std::vector<Loc>& given) {
  if (given.empty()) return ref("value");
  // Requests carry schemas: bound the recursion a deeply nested one would cause.
  if (depth_ >= kMaxDepth) fail(given[0].ptr, "schema nesting is deeper than " + std::to_string(kMaxDepth) + " levels");
  struct Depth {
    int& d;
    explicit Depth(int& x) : d(++x) {}
    ~Depth() { --d; }
  } depth_guard(depth_);
  std::vector<Loc> locs;
  for (Loc l : given) {
    // A bare $ref is its target (a chain of them too; a cycle is left to normalize() to report).
    for (int hops = 0; hops < 64; ++hops) {
      std::optional<Loc> t = pure_ref_target(root_, l);
      if (!t) break;
      l = *t;
    }
    locs.push_back(l);
  }
  std::vector<std::string> ptrs;
  for (const Loc& l : locs) ptrs.push_back(l.ptr);
  std::sort(ptrs.begin(), ptrs.end());
  ptrs.erase(std::unique(ptrs.begin(), ptrs.end()), ptrs.end());
  std::string key;
  for (const std::string& p : ptrs) key += (key.empty() ? "" : " & ") + p;
  if (auto it = memo_.find(key); it != memo_.end()) {
    if (!it->second.done) {
      it->second.referenced = true;
      return ref(it->second.name);
    }
    return it->second.result;
  }
  Memo m;
  m.name = key == "#" ? "root" : reserve_name(locs[0].ptr);
  m.slot = rules_.size();
  rules_.emplace_back();  // the slot keeps a rule before the rules its body creates
  memo_[key] = m;

  std::vector<Expr> alts;
  for (const Atom& a : normalize(root_, locs))
    if (auto e = gen_atom(a, m.name)) alts.push_back(*e);

  Memo& mm = memo_[key];
  mm.done = true;
  if (alts.empty()) {
    if (mm.referenced) fail(locs[0].ptr, "this recursive schema matches no finite JSON value");
    names_.erase(mm.name);
    return mm.result = std::nullopt;
  }
  const Expr body = alt(std::move(alts));
  if (mm.name == "root" || mm.referenced || body.text.size() > kInlineMax) {
    rules_[mm.slot] = std::make_pair(mm.name, body.text);
    mm.result = ref(mm.name);
  } else {
    names_.erase(mm.name);
    mm.result = body;
  }
  return mm.result;
}

std::optional<Expr> Converter::gen_atom(const Atom& a, const std::string& name) {
  if (a.values) return values_expr(a);
  std::vector<Expr> options;
  auto add = [&](const std::optional<Expr>& e) {
    if (e) options.push_back(*e);
  };
  if (a.types & kObject) add(object_expr(a, name));
  if (a.types & kArray) add(array_expr(a));
  if (a.types & kString) add(string_expr(a));
  if (a.types & kNumber)
    add(a.lower || a.upper ? number_range(a.lower, a.upper) : ref("number"));
  else if (a.types & kInteger)
    add(a.lower || a.upper ? integer_range(a.lower, a.upper) : ref("integer"));
  if (a.types & kBoolean) add(ref("boolean"));
  if (a.types & kNull) add(ref("null"));
  if (options.empty()) return std::nullopt;
  std::string all;
  for (const Expr& o : options) all += o.text + " ";
  if (all == "object array string number boolean null ") return ref("value");
  return alt(std::move(options));
}

std::optional<Expr> Converter::values_expr(const Atom& a) {
  if (!a.keywords.empty())
    fail(a.keywords[0].second,
         "'" + a.keywords[0].first + "' together with enum/const (" + a.values_ptr + ") is not supported");
  std::vector<Expr> options;
  for (const Json& v : *a.values)
    if (value_bits(v) & a.types) options.push_back(const_expr(v, a.values_ptr));
  if (options.empty()) return std::nullopt;
  return alt(std::move(options));
}

Expr Converter::const_expr(const Json& v, const std::string& ptr) {
  if (v.is_array()) {
    std::vector<Expr> parts{lit("[")};
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) parts.push_back(seq({lit(","), ref("ws")}));
      parts.push_back(const_expr(v[i], ptr));
    }
    parts.push_back(lit("]"));
    return seq(std::move(parts));
  }
  if (v.is_object()) {
    std::vector<Expr> parts{lit("{")};
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      if (!first) parts.push_back(seq({lit(","), ref("ws")}));
      first = false;
      parts.push_back(seq({const_expr(Json(k), ptr), lit(":"), ref("ws"), const_expr(x, ptr)}));
    }
    parts.push_back(lit("}"));
    return seq(std::move(parts));
  }
  if (v.is_number_float() && !std::isfinite(v.get<double>())) fail(ptr, "enum/const holds a non-finite number");
  try {
    return lit(v.dump());  // the compact text: nlohmann writes strings with the canonical escapes
  } catch (const nlohmann::json::type_error&) {
    fail(ptr, "enum/const holds a string that is not valid UTF-8");
  }
}

std::optional<Expr> Converter::string_expr(const Atom& a) {
  if (a.patterns.size() > 1) fail(a.patterns[1].second, "two patterns on one string (allOf) are not supported");
  for (const auto& f : a.formats)
    if (f.first != a.formats[0].first)
      fail(f.second, "formats '" + a.formats[0].first + "' and '" + f.first + "' on one string are not supported");
  const bool lengths = a.min_length > 0 || a.max_length;
  if (!a.patterns.empty() && !a.formats.empty())
    fail(a.patterns[0].second, "'pattern' together with 'format' (" + a.formats[0].second + ") is not supported");
  for (const auto& [what, list] : {std::pair{"pattern", &a.patterns}, std::pair{"format", &a.formats}})
    if (!list->empty() && lengths) {
      std::string at;
      for (const auto& [kw, p] : a.keywords)
        if (kw == "minLength" || kw == "maxLength") at = p;
      fail(at, "'minLength'/'maxLength' together with '" + std::string(what) + "' (" + (*list)[0].second +
                   ") is not supported");
    }
  if (!a.formats.empty()) return format_string(a.formats[0].first);
  if (!a.patterns.empty()) {
    try {
      return pattern_string(a.patterns[0].first);
    } catch (const PatternError& e) {
      fail(a.patterns[0].second, e.what());
    }
  }
  if (a.max_length && a.min_length > *a.max_length) return std::nullopt;
  if (!lengths) return ref("string");
  return seq({lit("\""), rep(ref("char"), a.min_length, a.max_length), lit("\"")});
}

std::string Converter::grammar() {
  const std::optional<Expr> root = gen({Loc{&root_, "#"}});
  if (!root) fail("#", "the schema matches no JSON value");
  std::map<std::string, std::string> bodies;
  for (const auto& r : rules_)
    if (r) bodies[r->first] = r->second;
  for (const auto& [name, body] : library_rules()) bodies[name] = body;
  std::set<std::string> reached;
  std::vector<std::string> todo;
  for (const std::string& r : refs_in(root->text))
    if (reached.insert(r).second) todo.push_back(r);
  while (!todo.empty()) {
    const std::string n = todo.back();
    todo.pop_back();
    for (const std::string& r : refs_in(bodies.at(n)))
      if (reached.insert(r).second) todo.push_back(r);
  }
  std::string out;
  if (!bodies.count("root")) out = "root ::= " + root->text + "\n";  // the root schema is a bare $ref
  for (const auto& r : rules_)
    if (r && reached.count(r->first)) out += r->first + " ::= " + r->second + "\n";
  for (const auto& [name, body] : library_rules())
    if (reached.count(name)) out += name + " ::= " + body + "\n";
  return out;
}

}  // namespace schema_gbnf

std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema) {
  return schema_gbnf::Converter(schema).grammar();
}

std::string json_object_gbnf() { return json_schema_to_gbnf(nlohmann::ordered_json{{"type", "object"}}); }

}  // namespace dawn
