// The {"name": ..., "arguments": {...}} object of Hermes/Qwen and Llama 3.1 tool calls, parsed
// as it streams in: the name as soon as it is complete, the arguments' compact bytes as they come.
#pragma once
#include <cstdint>
#include <string>

#include "text/json_scan.h"

namespace dawn {

class CallObjectParser {
 public:
  struct Options {
    // Llama 3.1: the call is a bare JSON answer, so an object with any key other than name,
    // parameters, arguments or type is an answer, not a call. Hermes/Qwen calls sit inside
    // <tool_call> tags and may carry other keys, which are ignored.
    bool only_call_keys = false;
    // Llama 3.1: without "parameters"/"arguments" the object is no call. Hermes/Qwen: {}.
    bool require_arguments = false;
  };
  enum Result : uint8_t { More, Done, Fail };

  explicit CallObjectParser(Options o) : opt_(o) {}

  // Feeds one byte (leading whitespace is skipped); the compact bytes of the arguments object
  // are appended to args. Done: the byte closed the object, which has a name (and arguments,
  // when required). Fail: not such an object; feed no more.
  Result push(char c, std::string& args);

  // The name, once its string is complete ("" before).
  const std::string& name() const { return name_; }
  bool has_arguments() const { return seen_args_; }

 private:
  enum State : uint8_t { Start, FirstKey, Key, KeyStr, Colon, ValueStart, NameVal, ArgsVal, OtherVal, After, Finished };
  Result fail() {
    state_ = Finished;
    return Fail;
  }

  Options opt_;
  State state_ = Start;
  JsonScanner json_{256};
  std::string raw_;  // the key or name string being read, quotes and escapes included
  std::string key_;
  std::string name_;
  bool seen_name_ = false, seen_args_ = false;
};

}  // namespace dawn
