// CallObjectParser: the name/arguments object of Qwen and Llama 3.1 tool calls (see tool_call_object.h).
#include "text/tool_call_object.h"

#include <nlohmann/json.hpp>

namespace dawn {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Longest key or name kept: a real one is short, and the parser must not buffer without bound.
constexpr size_t kMaxString = 512;

// The text of a complete JSON string literal ("" and false if it is none).
bool decode_string(const std::string& literal, std::string& out) {
  const auto j = nlohmann::json::parse(literal, nullptr, false);
  if (!j.is_string()) return false;
  out = j.get<std::string>();
  return true;
}

}  // namespace

CallObjectParser::Result CallObjectParser::push(char c, std::string& args) {
  bool keep = true;
  switch (state_) {
    case Start:
      if (is_ws(c)) return More;
      if (c != '{') return fail();
      state_ = FirstKey;
      return More;
    case FirstKey:
    case Key:
      if (is_ws(c)) return More;
      if (c != '"') return fail();  // an empty object has no name: no call either
      json_.reset();
      json_.push(c, keep);
      raw_.assign(1, c);
      state_ = KeyStr;
      return More;
    case KeyStr: {
      if (raw_.size() >= kMaxString) return fail();
      raw_ += c;
      const auto r = json_.push(c, keep);
      if (r == JsonScanner::Fail) return fail();
      if (r == JsonScanner::Done) {
        if (!decode_string(raw_, key_)) return fail();
        state_ = Colon;
      }
      return More;
    }
    case Colon:
      if (is_ws(c)) return More;
      if (c != ':') return fail();
      state_ = ValueStart;
      return More;
    case ValueStart:
      if (is_ws(c)) return More;
      json_.reset();
      if (key_ == "name") {
        if (seen_name_ || c != '"') return fail();  // a second name, or one that is no string
        raw_.clear();
        state_ = NameVal;
      } else if (key_ == "arguments" || key_ == "parameters") {
        if (seen_args_ || c != '{') return fail();  // arguments are an object (OpenAI's shape)
        seen_args_ = true;
        state_ = ArgsVal;
      } else {
        if (opt_.only_call_keys && key_ != "type") return fail();
        state_ = OtherVal;
      }
      return push(c, args);
    case NameVal: {
      if (raw_.size() >= kMaxString) return fail();
      raw_ += c;
      const auto r = json_.push(c, keep);
      if (r == JsonScanner::Fail) return fail();
      if (r == JsonScanner::Done) {
        if (!decode_string(raw_, name_) || name_.empty()) return fail();
        seen_name_ = true;
        state_ = After;
      }
      return More;
    }
    case ArgsVal: {
      const auto r = json_.push(c, keep);
      if (r == JsonScanner::Fail) return fail();
      if (keep) args += c;
      if (r == JsonScanner::Done) state_ = After;
      return More;
    }
    case OtherVal: {
      const auto r = json_.push(c, keep);
      if (r == JsonScanner::Fail) return fail();
      if (r == JsonScanner::Done) state_ = After;
      if (r != JsonScanner::EndedBefore) return More;
      state_ = After;  // a number ended before c
      return push(c, args);
    }
    case After:
      if (is_ws(c)) return More;
      if (c == ',') {
        state_ = Key;
        return More;
      }
      if (c != '}') return fail();
      state_ = Finished;
      if (!seen_name_ || (opt_.require_arguments && !seen_args_)) return Fail;
      return Done;
    case Finished: return Fail;
  }
  return Fail;
}

}  // namespace dawn
