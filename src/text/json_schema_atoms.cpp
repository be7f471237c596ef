// Walks schemas into Atoms (see json_schema_atoms.h): checks every keyword, resolves $ref,
// intersects allOf and sibling keywords, distributes anyOf/oneOf.
#include "text/json_schema_atoms.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "text/json_schema_formats.h"
#include "text/json_schema_grammar.h"

namespace dawn::schema_gbnf {

namespace {

constexpr size_t kMaxAlternatives = 4096;

[[noreturn]] void fail(const std::string& ptr, const std::string& what) { throw SchemaError(ptr + ": " + what); }

bool is_annotation(const std::string& k) {
  static const char* const kAnnotations[] = {"title",    "description", "examples", "default",  "$schema",
                                             "$comment", "deprecated",  "readOnly", "writeOnly"};
  return std::any_of(std::begin(kAnnotations), std::end(kAnnotations), [&](const char* a) { return k == a; });
}

uint8_t type_bit(const std::string& ptr, const Json& name) {
  if (name.is_string()) {
    const std::string& n = name.get_ref<const std::string&>();
    if (n == "null") return kNull;
    if (n == "boolean") return kBoolean;
    if (n == "object") return kObject;
    if (n == "array") return kArray;
    if (n == "string") return kString;
    if (n == "integer") return kInteger;
    if (n == "number") return kNumber | kInteger;
  }
  fail(ptr, "'type' " + name.dump() + " is not a JSON Schema type");
}

// A non-negative integer keyword value (2.0 counts: JSON Schema compares numbers by value).
uint64_t count_of(const std::string& ptr, const std::string& key, const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return uint64_t(v.get<int64_t>());
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d >= 0 && d < 1.8e19 && std::floor(d) == d) return uint64_t(d);
  }
  fail(ptr, "'" + key + "' must be a non-negative integer, not " + v.dump());
}

Bound bound_of(const std::string& ptr, const std::string& key, const Json& v, bool exclusive) {
  if (v.is_boolean()) fail(ptr, "boolean '" + key + "' (draft 4) is not supported; give the bound as a number");
  if (!v.is_number()) fail(ptr, "'" + key + "' must be a number, not " + v.dump());
  auto d = parse_decimal(v.dump());
  if (!d) fail(ptr, "'" + key + "' " + v.dump() + " has more digits than supported (100)");
  return Bound{*d, exclusive};
}

// Tighter of two bounds: lower (sign 1) takes the larger, upper (sign -1) the smaller; on a tie
// the exclusive one.
void tighten(std::optional<Bound>& cur, const Bound& b, int sign) {
  if (!cur) {
    cur = b;
    return;
  }
  const int c = compare(b.value, cur->value) * sign;
  if (c > 0 || (c == 0 && b.exclusive)) cur = b;
}

std::string unescape_segment(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && i + 1 < s.size() && (s[i + 1] == '0' || s[i + 1] == '1')) {
      out += s[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string percent_decode(const std::string& ptr, const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(uint8_t(s[i + 1])) || !std::isxdigit(uint8_t(s[i + 2])))
      fail(ptr, "$ref '" + s + "' has a malformed %-escape");
    out += char(std::stoi(s.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

Loc resolve(const Json& root, const std::string& ptr, const std::string& ref) {
  if (ref.empty() || ref[0] != '#') fail(ptr, "$ref '" + ref + "' is not local (only '#...' references are supported)");
  if (ref.size() > 1 && ref[1] != '/')
    fail(ptr, "$ref '" + ref + "' names an anchor; only JSON pointers are supported");
  const Json* node = &root;
  std::string canonical = "#";
  const std::string path = percent_decode(ptr, ref.substr(1));
  for (size_t i = 0; i < path.size();) {
    const size_t end = std::min(path.find('/', i + 1), path.size());
    const std::string seg = unescape_segment(path.substr(i + 1, end - i - 1));
    if (node->is_object() && node->contains(seg)) {
      node = &(*node)[seg];
    } else if (node->is_array() && !seg.empty() && std::all_of(seg.begin(), seg.end(), ::isdigit) &&
               std::stoull(seg) < node->size()) {
      node = &(*node)[std::stoull(seg)];
    } else {
      fail(ptr, "$ref '" + ref + "' does not resolve");
    }
    canonical += '/';
    canonical += pointer_segment(seg);
    i = end;
  }
  return Loc{node, canonical};
}

class Normalizer {
 public:
  explicit Normalizer(const Json& root) : root_(root) {}

  void apply(const Loc& loc, std::vector<Atom>& atoms) {
    if (atoms.empty()) return;
    const Json& s = *loc.node;
    const std::string& ptr = loc.ptr;
    if (s.is_boolean()) {
      if (!s.get<bool>()) atoms.clear();
      return;
    }
    if (!s.is_object()) fail(ptr, "a schema must be an object or a boolean, not " + s.dump());
    if (stack_.size() >= 200) fail(ptr, "allOf/anyOf/$ref nesting is deeper than 200 levels");
    if (std::find(stack_.begin(), stack_.end(), ptr) != stack_.end())
      fail(ptr, "this schema includes itself (through $ref/allOf/anyOf) with no property or item in between");
    stack_.push_back(ptr);
    std::vector<std::pair<std::string, const Json*>> disjunctions;
    ObjectPart obj;
    ArrayPart arr;
    bool has_obj = false, has_arr = false;
    auto each = [&](auto&& f) {
      for (Atom& a : atoms) f(a);
    };
    auto constraint = [&](const std::string& key) { each([&](Atom& a) { a.keywords.emplace_back(key, ptr); }); };
    for (const auto& [key, v] : s.items()) {
      const std::string at = ptr + "/" + pointer_segment(key);
      if (is_annotation(key)) continue;
      if (key == "$id") {
        if (ptr != "#") fail(ptr, "'$id' in a subschema (it changes how $ref resolves) is not supported");
      } else if (key == "$defs" || key == "definitions") {
        if (!v.is_object()) fail(ptr, "'" + key + "' must be an object");
      } else if (key == "type") {
        uint8_t mask = 0;
        if (v.is_array()) {
          if (v.empty()) fail(ptr, "'type' must not be an empty array");
          for (size_t i = 0; i < v.size(); ++i)
            for (size_t j = 0; j < i; ++j)
              if (v[i] == v[j]) fail(ptr, "'type' lists " + v[i].dump() + " twice");
          for (const Json& t : v) mask |= type_bit(ptr, t);
        } else {
          mask = type_bit(ptr, v);
        }
        each([&](Atom& a) { a.types &= mask; });
      } else if (key == "enum" || key == "const") {
        if (key == "enum" && !v.is_array()) fail(ptr, "'enum' must be an array");
        const std::vector<Json> vals = key == "enum" ? v.get<std::vector<Json>>() : std::vector<Json>{v};
        each([&](Atom& a) {
          if (!a.values) {
            a.values = vals;
            a.values_ptr = ptr;
            return;
          }
          std::vector<Json> kept;
          for (const Json& x : *a.values)
            if (std::find(vals.begin(), vals.end(), x) != vals.end()) kept.push_back(x);
          a.values = std::move(kept);
        });
      } else if (key == "minimum" || key == "exclusiveMinimum") {
        const Bound b = bound_of(ptr, key, v, key == "exclusiveMinimum");
        each([&](Atom& a) { tighten(a.lower, b, 1); });
        constraint(key);
      } else if (key == "maximum" || key == "exclusiveMaximum") {
        const Bound b = bound_of(ptr, key, v, key == "exclusiveMaximum");
        each([&](Atom& a) { tighten(a.upper, b, -1); });
        constraint(key);
      } else if (key == "minLength" || key == "maxLength") {
        const uint64_t n = count_of(ptr, key, v);
        each([&](Atom& a) {
          if (key == "minLength")
            a.min_length = std::max(a.min_length, n);
          else
            a.max_length = std::min(a.max_length.value_or(n), n);
        });
        constraint(key);
      } else if (key == "pattern") {
        if (!v.is_string()) fail(ptr, "'pattern' must be a string");
        each([&](Atom& a) { a.patterns.emplace_back(v.get<std::string>(), ptr); });
        constraint(key);
      } else if (key == "format") {
        if (!v.is_string()) fail(ptr, "'format' must be a string");
        if (!format_string(v.get<std::string>()))
          fail(ptr,
               "unsupported format '" + v.get<std::string>() + "' (supported: date, time, date-time, uuid, email)");
        each([&](Atom& a) { a.formats.emplace_back(v.get<std::string>(), ptr); });
        constraint(key);
      } else if (key == "items") {
        if (v.is_array())
          fail(ptr, "'items' as an array (draft 2019-09 and earlier) is not supported; use 'prefixItems'");
        arr.items = Loc{&v, at};
        has_arr = true;
        constraint(key);
      } else if (key == "prefixItems") {
        if (!v.is_array()) fail(ptr, "'prefixItems' must be an array of schemas");
        for (size_t i = 0; i < v.size(); ++i) arr.prefix.push_back(Loc{&v[i], at + "/" + std::to_string(i)});
        has_arr = true;
        constraint(key);
      } else if (key == "minItems" || key == "maxItems") {
        const uint64_t n = count_of(ptr, key, v);
        each([&](Atom& a) {
          if (key == "minItems")
            a.min_items = std::max(a.min_items, n);
          else
            a.max_items = std::min(a.max_items.value_or(n), n);
        });
        constraint(key);
      } else if (key == "uniqueItems") {
        if (!v.is_boolean()) fail(ptr, "'uniqueItems' must be a boolean");
        if (v.get<bool>()) fail(ptr, "unsupported keyword 'uniqueItems' (true): a grammar cannot exclude repeats");
      } else if (key == "properties") {
        if (!v.is_object()) fail(ptr, "'properties' must be an object");
        for (const auto& [name, sub] : v.items())
          obj.properties.emplace_back(name, Loc{&sub, at + "/" + pointer_segment(name)});
        has_obj = true;
        constraint(key);
      } else if (key == "additionalProperties") {
        obj.additional = Loc{&v, at};
        has_obj = true;
        constraint(key);
      } else if (key == "required") {
        if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const Json& x) { return x.is_string(); }))
          fail(ptr, "'required' must be an array of strings");
        each([&](Atom& a) {
          for (const Json& n : v)
            if (std::find(a.required.begin(), a.required.end(), n.get<std::string>()) == a.required.end())
              a.required.push_back(n.get<std::string>());
        });
        constraint(key);
      } else if (key == "$ref") {
        if (!v.is_string()) fail(ptr, "'$ref' must be a string");
        const Loc target = resolve(root_, ptr, v.get<std::string>());
        apply(target, atoms);
      } else if (key == "allOf") {
        if (!v.is_array() || v.empty()) fail(ptr, "'allOf' must be a non-empty array");
        for (size_t i = 0; i < v.size(); ++i) apply(Loc{&v[i], at + "/" + std::to_string(i)}, atoms);
      } else if (key == "anyOf" || key == "oneOf") {
        // oneOf is treated as anyOf: an instance matching two branches passes the grammar, so
        // only schemas whose oneOf branches are disjoint (the usual tagged unions) are exact.
        if (!v.is_array() || v.empty()) fail(ptr, "'" + key + "' must be a non-empty array");
        disjunctions.emplace_back(at, &v);
      } else {
        fail(ptr, "unsupported keyword '" + key + "'");
      }
    }
    if (has_obj) each([&](Atom& a) { a.objects.push_back(obj); });
    if (has_arr) each([&](Atom& a) { a.arrays.push_back(arr); });
    for (const auto& [at, branches] : disjunctions) {
      std::vector<Atom> out;
      for (size_t i = 0; i < branches->size(); ++i) {
        std::vector<Atom> copy = atoms;
        apply(Loc{&(*branches)[i], at + "/" + std::to_string(i)}, copy);
        for (Atom& a : copy)
          if (a.types != 0 && (!a.values || !a.values->empty())) out.push_back(std::move(a));
        if (out.size() > kMaxAlternatives)
          fail(ptr, "anyOf/oneOf combinations exceed " + std::to_string(kMaxAlternatives));
      }
      atoms = std::move(out);
    }
    stack_.pop_back();
  }

 private:
  const Json& root_;
  std::vector<std::string> stack_;  // schemas being applied, to catch include cycles
};

}  // namespace

std::string pointer_segment(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::optional<Loc> pure_ref_target(const Json& root, const Loc& loc) {
  const Json& s = *loc.node;
  if (!s.is_object() || !s.contains("$ref") || !s["$ref"].is_string()) return std::nullopt;
  for (const auto& [key, v] : s.items())
    if (key != "$ref" && key != "$defs" && key != "definitions" && !is_annotation(key) &&
        !(key == "$id" && loc.ptr == "#"))
      return std::nullopt;
  return resolve(root, loc.ptr, s["$ref"].get<std::string>());
}

std::vector<Atom> normalize(const Json& root, const std::vector<Loc>& locs) {
  Normalizer n(root);
  std::vector<Atom> atoms(1);
  for (const Loc& l : locs) n.apply(l, atoms);
  std::erase_if(atoms, [](const Atom& a) { return a.types == 0 || (a.values && a.values->empty()); });
  return atoms;
}

}  // namespace dawn::schema_gbnf
