// Typed, range-checked reads of JSON request fields (see json_fields.h).
#include "server/json_fields.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

namespace dawn::server {

namespace {

std::string fmt_number(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

std::string quoted(const std::string& param) { return param.empty() ? "the request body" : "'" + param + "'"; }

// "a string (\"hot\")", "a number (3)", "null", ...: what a type error says it got.
std::string got_phrase(const Json& v) {
  if (v.is_string()) return "a string (" + describe(v) + ")";
  if (v.is_boolean()) return "a boolean (" + describe(v) + ")";
  if (v.is_number()) return "a number (" + describe(v) + ")";
  return describe(v);
}

// Length of the well-formed UTF-8 character at s[i], or 0 when the bytes there are not one.
size_t utf8_char_len(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return uint8_t(s[i + k]); };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  return n;
}

void append_hex(std::string& out, uint8_t c) {
  static const char hex[] = "0123456789abcdef";
  out += "\\x";
  out += hex[c >> 4];
  out += hex[c & 15];
}

std::string range_text(int64_t lo, int64_t hi) {
  if (hi == std::numeric_limits<int64_t>::max()) return "an integer >= " + std::to_string(lo);
  return "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
}

// Builds the document through nlohmann's SAX interface so that every error, number overflow
// included (the DOM parser reports that one without a position), arrives with its byte offset.
class DomBuilder {
 public:
  Json root;
  size_t error_at = 0;  // 1-based, as nlohmann counts
  int error_id = 0;
  std::string error_what;

  bool null() { return put(nullptr); }
  bool boolean(bool v) { return put(v); }
  bool number_integer(Json::number_integer_t v) { return put(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return put(v); }
  bool number_float(Json::number_float_t v, const std::string&) { return put(v); }
  bool string(std::string& v) { return put(std::move(v)); }
  bool binary(Json::binary_t&) { return false; }  // not produced by the JSON reader
  bool start_object(size_t) { return open(Json::object()); }
  bool key(std::string& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(size_t) { return open(Json::array()); }
  bool end_array() { return close(); }
  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& e) {
    error_at = position;
    error_id = e.id;
    error_what = e.what();
    return false;
  }

 private:
  template <class V>
  Json* place(V&& v) {
    if (stack_.empty()) {
      root = Json(std::forward<V>(v));
      return &root;
    }
    Json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(Json(std::forward<V>(v)));
      return &top.back();
    }
    Json& slot = top[key_];  // a repeated key: the last one wins, as in nlohmann's own parser
    slot = Json(std::forward<V>(v));
    return &slot;
  }
  template <class V>
  bool put(V&& v) {
    place(std::forward<V>(v));
    return true;
  }
  bool open(Json&& container) {
    // Pointers on the stack stay valid: a container only grows again after its open child closes.
    stack_.push_back(place(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  std::vector<Json*> stack_;
  std::string key_;
};

}  // namespace

void fail(std::string param, std::string message, std::string code) {
  throw FieldError{bad_request(std::move(param), std::move(message), std::move(code))};
}

void fail_type(const std::string& param, const char* expected, const Json& got) {
  fail(param, "Invalid type for " + quoted(param) + ": expected " + expected + ", got " + got_phrase(got) + ".",
       "invalid_type");
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_char_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view s, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const size_t n = utf8_char_len(s, i);
    const uint8_t c = uint8_t(s[i]);
    if (n == 0 || c < 0x20 || c == 0x7F) {
      append_hex(out, c);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return "\"" + printable(v.get_ref<const std::string&>(), 48) + "\"";
    case Json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case Json::value_t::null: return "null";
    case Json::value_t::number_float: {
      const double d = v.get<double>();
      return std::isfinite(d) ? v.dump() : "a number too large to represent";
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return v.dump();
    case Json::value_t::array: return "an array";
    default: return "an object";
  }
}

std::string field_path(std::string_view parent, std::string_view key) {
  std::string p(parent);
  if (!p.empty()) p += '.';
  p += key;
  return p;
}

std::string index_path(std::string_view parent, size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

std::string json_path_at(std::string_view text, size_t offset) {
  struct Frame {
    bool object;
    bool want_key;
    size_t index;
    std::optional<std::string> key;
  };
  std::vector<Frame> stack;
  if (offset > text.size()) offset = text.size();
  for (size_t i = 0; i < offset;) {
    const char c = text[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      const bool is_key = !stack.empty() && stack.back().object && stack.back().want_key;
      if (j >= offset) break;  // offset lies inside this string
      if (is_key) {
        stack.back().key = std::string(text.substr(i + 1, j - i - 1));
        stack.back().want_key = false;
      }
      i = j + 1;
      continue;
    }
    if (c == '{' || c == '[') {
      stack.push_back(Frame{c == '{', c == '{', 0, std::nullopt});
    } else if ((c == '}' || c == ']') && !stack.empty()) {
      stack.pop_back();
    } else if (c == ',' && !stack.empty()) {
      if (stack.back().object) {
        stack.back().want_key = true;
        stack.back().key.reset();
      } else {
        ++stack.back().index;
      }
    }
    ++i;
  }
  std::string path;
  for (const Frame& f : stack) {
    if (f.object) {
      if (!f.key) break;
      path = field_path(path, printable(*f.key, 64));
    } else {
      path = index_path(path, f.index);
    }
  }
  return path;
}

Json parse_json_body(std::string_view body, int max_depth) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    fail("", "The request body is empty: expected a JSON object.", "invalid_json");
  // Depth first: nothing below (the parser, copies, the checks) then meets deep nesting.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        const std::string path = json_path_at(body, i);
        fail(path,
             "The request body nests JSON deeper than " + std::to_string(max_depth) + " levels (at byte " +
                 std::to_string(i) + (path.empty() ? "" : ", in '" + path + "'") + ").",
             "invalid_json");
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  DomBuilder dom;
  if (Json::sax_parse(body.begin(), body.end(), &dom)) return std::move(dom.root);
  size_t at = dom.error_at > 0 ? dom.error_at - 1 : 0;
  if (at > body.size()) at = body.size();
  const std::string path = json_path_at(body, at);
  const std::string& what = dom.error_what;
  if (dom.error_id == 406) {  // number overflow: valid JSON, but no double holds it
    const size_t quote = what.find('\'');
    const std::string number = quote == std::string::npos ? "" : what.substr(quote + 1, what.size() - quote - 2);
    fail(path, "Invalid value for " + quoted(path) + ": " + printable(number, 40) + " is too large a number.");
  }
  std::string reason;
  if (what.find("ill-formed UTF-8") != std::string::npos) {
    reason = "invalid UTF-8 in a string";
  } else if (what.find("surrogate") != std::string::npos) {
    reason = "a \\u escape is an unpaired UTF-16 surrogate";
  } else if (at >= body.size()) {
    reason = "unexpected end of input";
  } else {
    const size_t colon = what.find(": ");
    reason = printable(colon == std::string::npos ? what : what.substr(colon + 2), 160);
  }
  fail(path,
       "Malformed JSON at byte " + std::to_string(at) + (path.empty() ? "" : " (in '" + path + "')") + ": " + reason +
           ".",
       "invalid_json");
}

const Json* find_field(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

bool read_bool(const Json& v, const std::string& param) {
  if (!v.is_boolean()) fail_type(param, "a boolean", v);
  return v.get<bool>();
}

const std::string& read_string(const Json& v, const std::string& param) {
  if (!v.is_string()) fail_type(param, "a string", v);
  return v.get_ref<const std::string&>();
}

const Json& read_object(const Json& v, const std::string& param) {
  if (!v.is_object()) fail_type(param, "an object", v);
  return v;
}

const Json& read_array(const Json& v, const std::string& param) {
  if (!v.is_array()) fail_type(param, "an array", v);
  return v;
}

double read_number(const Json& v, const std::string& param, double lo, double hi, bool lo_open) {
  if (!v.is_number()) fail_type(param, "a number", v);
  const double d = v.get<double>();
  if (!std::isfinite(d) || d > hi || d < lo || (lo_open && d == lo)) {
    const std::string want = lo_open ? "a number greater than " + fmt_number(lo) + " and at most " + fmt_number(hi)
                                     : "a number from " + fmt_number(lo) + " to " + fmt_number(hi);
    fail(param, "Invalid value for " + quoted(param) + ": expected " + want + ", got " + describe(v) + ".");
  }
  return d;
}

int64_t read_integer(const Json& v, const std::string& param, int64_t lo, int64_t hi) {
  if (!v.is_number()) fail_type(param, "an integer", v);
  bool in_range = false;
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    in_range = hi >= 0 && u <= uint64_t(hi) && (lo <= 0 || u >= uint64_t(lo));
    x = in_range ? int64_t(u) : 0;
  } else if (v.is_number_integer()) {
    x = v.get<int64_t>();
    in_range = x >= lo && x <= hi;
  } else {
    const double d = v.get<double>();
    if (std::isfinite(d) && d != std::floor(d)) fail_type(param, "an integer", v);
    // +-9.2e18 keeps the cast defined; such values are past every limit used here anyway.
    if (std::isfinite(d) && d > -9.2e18 && d < 9.2e18) {
      x = int64_t(d);
      in_range = x >= lo && x <= hi;
    }
  }
  if (!in_range)
    fail(param,
         "Invalid value for " + quoted(param) + ": expected " + range_text(lo, hi) + ", got " + describe(v) + ".");
  return x;
}

}  // namespace dawn::server
