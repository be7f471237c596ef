// JSON Schema -> GBNF for arrays (prefixItems, items, minItems, maxItems) and objects
// (properties in declaration order, required, additionalProperties with names kept apart from
// the declared ones).
#include <algorithm>

#include "text/json_schema_converter.h"
#include "text/json_schema_grammar.h"

namespace dawn::schema_gbnf {

namespace {

constexpr size_t kInlineMax = 48;

Expr comma() { return seq({lit(","), ref("ws")}); }

std::string where(const Atom& a, const char* keyword) {
  for (const auto& [kw, p] : a.keywords)
    if (kw == keyword) return p;
  return "#";
}

}  // namespace

std::optional<Expr> Converter::array_expr(const Atom& a) {
  if (a.arrays.empty() && a.min_items == 0 && !a.max_items) return ref("array");
  const uint64_t lo = a.min_items;
  std::optional<uint64_t> hi = a.max_items;
  size_t k = 0;
  for (const ArrayPart& p : a.arrays) k = std::max(k, p.prefix.size());
  // Position i < k: each part's prefixItems[i], or its items past its own prefix. A position
  // that nothing can fill ends the array there.
  std::vector<Expr> pos;
  for (size_t i = 0; i < k && (!hi || i < *hi); ++i) {
    std::vector<Loc> locs;
    for (const ArrayPart& p : a.arrays) {
      if (i < p.prefix.size())
        locs.push_back(p.prefix[i]);
      else if (p.items)
        locs.push_back(*p.items);
    }
    const std::optional<Expr> e = gen(locs);
    if (!e) {
      hi = i;
      break;
    }
    pos.push_back(*e);
  }
  const size_t fixed = pos.size();
  std::optional<Expr> item;
  if (fixed == k && (!hi || *hi > k)) {
    std::vector<Loc> locs;
    for (const ArrayPart& p : a.arrays)
      if (p.items) locs.push_back(*p.items);
    item = gen(locs);
    if (!item) hi = k;
  }
  if (hi && lo > *hi) return std::nullopt;

  // Elements from index i on, given i already written (each then follows a comma).
  auto build = [&](auto& self, uint64_t i) -> Expr {
    if (hi && i >= *hi) return eps();
    if (i < fixed) {
      const Expr one = seq({i > 0 ? comma() : eps(), pos[i], self(self, i + 1)});
      return i < lo ? one : opt(one);
    }
    const uint64_t rmin = lo > i ? lo - i : 0;
    const std::optional<uint64_t> rmax = hi ? std::optional<uint64_t>(*hi - i) : std::nullopt;
    if (i > 0) return rep(seq({comma(), *item}), rmin, rmax);
    const Expr first = seq({*item, rep(seq({comma(), *item}), rmin > 0 ? rmin - 1 : 0,
                                       rmax ? std::optional<uint64_t>(*rmax - 1) : std::nullopt)});
    return rmin > 0 ? first : opt(first);
  };
  return seq({lit("["), build(build, 0), lit("]")});
}

std::optional<Expr> Converter::object_expr(const Atom& a, const std::string& name) {
  if (a.objects.empty() && a.required.empty()) return ref("object");
  // Declared names: properties in order of first declaration, then required names no part
  // declares (their values follow additionalProperties).
  std::vector<std::string> names;
  for (const ObjectPart& p : a.objects)
    for (const auto& [n, loc] : p.properties)
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  for (const std::string& r : a.required)
    if (std::find(names.begin(), names.end(), r) == names.end()) names.push_back(r);

  struct Prop {
    Expr kv;
    bool required;
  };
  std::vector<Prop> props;
  for (const std::string& n : names) {
    // Each part constrains the value: by its own declaration, else by its additionalProperties.
    std::vector<Loc> locs;
    for (const ObjectPart& p : a.objects) {
      auto it = std::find_if(p.properties.begin(), p.properties.end(), [&](const auto& q) { return q.first == n; });
      if (it != p.properties.end())
        locs.push_back(it->second);
      else if (p.additional)
        locs.push_back(*p.additional);
    }
    const bool required = std::find(a.required.begin(), a.required.end(), n) != a.required.end();
    const std::optional<Expr> v = gen(locs);
    if (!v) {
      if (required) return std::nullopt;  // a required member that no value satisfies
      continue;                           // an optional one that cannot appear
    }
    Expr key;
    try {
      key = lit(Json(n).dump());
    } catch (const nlohmann::json::type_error&) {
      throw SchemaError(where(a, "properties") + ": property name is not valid UTF-8");
    }
    props.push_back({seq({key, lit(":"), ref("ws"), *v}), required});
  }

  std::vector<Loc> extra_locs;
  for (const ObjectPart& p : a.objects)
    if (p.additional) extra_locs.push_back(*p.additional);
  std::optional<Expr> extra;
  if (const std::optional<Expr> v = gen(extra_locs)) {
    const Expr key = names.empty() ? ref("string") : key_excluding(names, where(a, "properties"), name);
    extra = seq({key, lit(":"), ref("ws"), *v});
  }

  // After the first member written, each further one follows a comma: the required ones, any
  // subset of the optional ones, in declaration order, then any number of extras.
  const size_t n = props.size();
  size_t first_required = n;
  for (size_t j = 0; j < n; ++j)
    if (props[j].required) {
      first_required = j;
      break;
    }
  auto member = [&](size_t j) {
    const Expr m = seq({comma(), props[j].kv});
    return props[j].required ? m : opt(m);
  };
  // tail[j]: members j..stop-1 after something was written. The heads below use each of
  // tail[1..] once and each tail[j] holds tail[j+1]: long ones become rules, so the grammar
  // grows linearly with the number of optional members.
  auto tails = [&](size_t stop, const Expr& after) {
    std::vector<Expr> tail(stop + 1);
    tail[stop] = after;
    for (size_t j = stop; j-- > 0;) {
      tail[j] = seq({member(j), tail[j + 1]});
      if (j >= 1 && j + 1 < stop && tail[j].text.size() > kInlineMax) tail[j] = add_rule(name + "-tail", tail[j]);
    }
    return tail;
  };
  const Expr extras = extra ? rep(seq({comma(), *extra}), 0, std::nullopt) : eps();
  Expr body;
  if (first_required < n) {
    // The first member written is one of the optional ones before the first required one, or
    // that one; every choice goes on to the first required, then the same rest.
    const size_t r = first_required;
    const std::vector<Expr> tail = tails(r, member(r));
    Expr head = props[r].kv;
    for (size_t i = r; i-- > 0;) head = alt({seq({props[i].kv, tail[i + 1]}), head});
    std::vector<Expr> rest{head};
    for (size_t j = r + 1; j < n; ++j) rest.push_back(member(j));
    rest.push_back(extras);
    body = seq(std::move(rest));
  } else {
    const std::vector<Expr> tail = tails(n, extras);
    Expr head = extra ? opt(seq({*extra, extras})) : eps();
    for (size_t i = n; i-- > 0;) head = alt({seq({props[i].kv, tail[i + 1]}), head});
    body = head;
  }
  return seq({lit("{"), body, lit("}")});
}

Expr Converter::key_excluding(const std::vector<std::string>& names, const std::string& ptr, const std::string& base) {
  // A trie of the names. Following it, each step writes the next character of some name in its
  // canonical JSON form; leaving it (a character no name continues with, in any form that
  // decodes to such a character) frees the rest; the closing quote may come only where no name
  // ends. So the key's decoded value is never a declared name.
  struct Node {
    std::vector<std::pair<uint32_t, size_t>> kids;
    bool terminal = false;
  };
  std::vector<Node> trie(1);
  for (const std::string& nm : names) {
    std::vector<uint32_t> cps;
    if (!utf8_decode(nm, &cps)) throw SchemaError(ptr + ": property name is not valid UTF-8");
    // The expression below recurses once per character.
    if (cps.size() > 1000)
      throw SchemaError(ptr + ": a property name over 1000 characters beside additionalProperties");
    size_t at = 0;
    for (uint32_t cp : cps) {
      auto it = std::find_if(trie[at].kids.begin(), trie[at].kids.end(), [&](const auto& k) { return k.first == cp; });
      if (it != trie[at].kids.end()) {
        at = it->second;
      } else {
        trie.emplace_back();
        trie[at].kids.emplace_back(cp, trie.size() - 1);
        at = trie.size() - 1;
      }
    }
    trie[at].terminal = true;
  }
  const Expr free_rest = seq({rep(ref("char"), 0, std::nullopt), lit("\"")});
  auto node_expr = [&](auto& self, size_t at) -> Expr {
    std::vector<Expr> opts;
    if (!trie[at].terminal) opts.push_back(lit("\""));
    CharSet leave = CharSet::all();
    for (const auto& [cp, child] : trie[at].kids) {
      opts.push_back(seq({lit(json_char_text(cp)), self(self, child)}));
      leave = leave.minus(CharSet::of(cp));
    }
    // With no name continuing here, any character (at least one: a name ends here) frees the rest.
    opts.push_back(leave.is_all() ? seq({rep(ref("char"), 1, std::nullopt), lit("\"")})
                                  : seq({*json_chars(leave), free_rest}));
    return alt(std::move(opts));
  };
  const Expr key = seq({lit("\""), node_expr(node_expr, 0)});
  return key.text.size() > kInlineMax ? add_rule(base + "-key", key) : key;
}

}  // namespace dawn::schema_gbnf
