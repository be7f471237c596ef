// Values of the chat-template engine, with Python's semantics where Jinja2
// inherits them (truthiness, equality, str(), json.dumps as transformers calls it).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dawn::jinja {

struct Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;  // insertion order, like Python's dict
using KwArgs = std::vector<std::pair<std::string, Value>>;
using Func = std::function<Value(std::vector<Value>& args, KwArgs& kwargs)>;

struct Value {
  enum Kind : uint8_t { Undefined, None, Bool, Int, Float, Str, ListK, DictK, FuncK };
  Kind kind = Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  std::shared_ptr<List> list;  // shared: namespace() objects are mutated through any copy
  std::shared_ptr<Dict> dict;
  std::shared_ptr<Func> fn;

  static Value none() { return with(None); }
  static Value boolean(bool v) {
    return with(Bool, [&](Value& x) { x.b = v; });
  }
  static Value integer(int64_t v) {
    return with(Int, [&](Value& x) { x.i = v; });
  }
  static Value number(double v) {
    return with(Float, [&](Value& x) { x.f = v; });
  }
  static Value str(std::string v) {
    return with(Str, [&](Value& x) { x.s = std::move(v); });
  }
  static Value make_list(List v = {}) {
    return with(ListK, [&](Value& x) { x.list = std::make_shared<List>(std::move(v)); });
  }
  static Value make_dict(Dict v = {}) {
    return with(DictK, [&](Value& x) { x.dict = std::make_shared<Dict>(std::move(v)); });
  }
  static Value function(Func f) {
    return with(FuncK, [&](Value& x) { x.fn = std::make_shared<Func>(std::move(f)); });
  }
  static Value from_json(const nlohmann::ordered_json& j);

  bool is_undefined() const { return kind == Undefined; }
  bool is_number() const { return kind == Int || kind == Float || kind == Bool; }
  double as_double() const { return kind == Float ? f : double(kind == Bool ? int64_t(b) : i); }
  bool truthy() const;
  // Dict entry or nullptr.
  const Value* get(std::string_view key) const;
  void set(const std::string& key, Value v);

 private:
  template <class F = void (*)(Value&)>
  static Value with(
      Kind k, F init = [](Value&) {}) {
    Value v;
    v.kind = k;
    init(v);
    return v;
  }
};

bool equal(const Value& a, const Value& b);
// Python's str(): what {{ value }} prints.
std::string to_str(const Value& v);
// Python's repr() (strings quoted), as str() of a list shows its items.
std::string repr(const Value& v);
// json.dumps(v, ensure_ascii=False, indent=indent, sort_keys=sort_keys): transformers' tojson filter.
std::string to_json(const Value& v, int indent = -1, bool sort_keys = false);
nlohmann::ordered_json to_nlohmann(const Value& v);

// Python's str.isspace() on a code point.
bool py_isspace(uint32_t cp);
// str.strip / lstrip / rstrip with Python's default (whitespace) or an explicit character set.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);
// Code points of UTF-8 text (invalid bytes map to themselves).
std::vector<uint32_t> code_points(std::string_view s);

}  // namespace dawn::jinja
