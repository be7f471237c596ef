// Incremental JSON validation one byte at a time: where a value ends, which bytes its compact
// form keeps, and the verdict of nlohmann::json::accept (RFC 8259, well-formed UTF-8, paired
// surrogate escapes), except that a number past a double's range (1e999) is valid JSON here as
// in the RFC. The tool-call parsers stream arguments through it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace dawn {

class JsonScanner {
 public:
  enum Result : uint8_t {
    More,         // the byte is part of the value, which goes on
    Done,         // the byte completes the value
    EndedBefore,  // the value (a number) ended before this byte, which is not consumed
    Fail,         // the text is not JSON (or nests deeper than max_depth)
  };

  // max_depth bounds nesting, so a hostile text cannot grow the stack without end.
  explicit JsonScanner(size_t max_depth = 256) : max_depth_(max_depth) {}

  // Feeds the next byte (leading whitespace is skipped). `keep` is set false for whitespace
  // between tokens, which the compact form of the value drops.
  Result push(char c, bool& keep);
  // The text ended here: Done if the value is complete (a top-level number ends only so).
  Result finish();
  void reset() { *this = JsonScanner(max_depth_); }

 private:
  enum State : uint8_t {
    Value,         // a value is expected
    ArrFirst,      // after '[': a value or ']'
    ObjFirst,      // after '{': a key or '}'
    ObjKey,        // after ',' in an object: a key
    Colon,         // after a key
    After,         // after a value inside a container: ',' or the closer
    Str,           // inside a string
    Utf8,          // inside a multi-byte UTF-8 character of a string
    Esc,           // after a backslash
    Hex,           // the 4 hex digits of \u
    LowBackslash,  // after a \uD800-\uDBFF escape: the '\' of its \uDC00-\uDFFF half
    LowU,          // then its 'u'
    NumMinus,      // numbers: after '-'
    NumZero,       // a leading 0
    NumInt,        // integer digits
    NumDot,        // after '.'
    NumFrac,       // fraction digits
    NumE,          // after 'e'
    NumESign,      // after the exponent's sign
    NumExp,        // exponent digits
    Literal,       // true, false, null
    Complete,
    Failed,
  };

  Result step(char c, bool& keep);
  Result end_value(bool before);
  Result fail() {
    state_ = Failed;
    return Fail;
  }

  size_t max_depth_;
  std::string stack_;  // open containers, '{' or '['
  State state_ = Value;
  bool key_ = false;       // the string being read is an object key
  bool want_low_ = false;  // the \u escape being read must be a low surrogate
  uint8_t hex_left_ = 0;
  uint32_t hex_ = 0;
  uint8_t utf8_left_ = 0;                    // continuation bytes still due
  uint8_t utf8_lo_ = 0x80, utf8_hi_ = 0xBF;  // the range the next one must lie in
  const char* literal_ = nullptr;
  uint8_t literal_pos_ = 0;
};

}  // namespace dawn
