// JsonScanner: a byte-at-a-time JSON validator (see json_scan.h).
#include "text/json_scan.h"

namespace dawn {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

JsonScanner::Result JsonScanner::push(char c, bool& keep) {
  keep = true;
  return step(c, keep);
}

JsonScanner::Result JsonScanner::finish() {
  switch (state_) {
    case NumZero:
    case NumInt:
    case NumFrac:
    case NumExp:
      if (stack_.empty()) {
        state_ = Complete;
        return Done;
      }
      return fail();
    case Complete: return Done;
    default: return fail();
  }
}

// A value just ended; `before`: it ended before the current byte (a number).
JsonScanner::Result JsonScanner::end_value(bool before) {
  if (stack_.empty()) {
    state_ = Complete;
    return before ? EndedBefore : Done;
  }
  state_ = After;
  return More;
}

JsonScanner::Result JsonScanner::step(char c, bool& keep) {
  const uint8_t u = uint8_t(c);
  // Whitespace between tokens: skipped (and dropped from the compact text) wherever it may stand.
  const bool between = state_ == ArrFirst || state_ == Value || state_ == ObjFirst || state_ == ObjKey ||
                       state_ == Colon || state_ == After;
  if (between && is_ws(c)) {
    keep = false;
    return More;
  }
  switch (state_) {
    case ArrFirst:
      if (c == ']') {
        stack_.pop_back();
        return end_value(false);
      }
      [[fallthrough]];
    case Value:
      if (c == '{' || c == '[') {
        if (stack_.size() >= max_depth_) return fail();
        stack_.push_back(c);
        state_ = c == '{' ? ObjFirst : ArrFirst;
        return More;
      }
      if (c == '"') {
        key_ = false;
        state_ = Str;
        return More;
      }
      if (c == '-') {
        state_ = NumMinus;
        return More;
      }
      if (c == '0') {
        state_ = NumZero;
        return More;
      }
      if (c >= '1' && c <= '9') {
        state_ = NumInt;
        return More;
      }
      literal_ = c == 't' ? "true" : c == 'f' ? "false" : c == 'n' ? "null" : nullptr;
      if (!literal_) return fail();
      literal_pos_ = 1;
      state_ = Literal;
      return More;
    case ObjFirst:
      if (c == '}') {
        stack_.pop_back();
        return end_value(false);
      }
      [[fallthrough]];
    case ObjKey:
      if (c != '"') return fail();
      key_ = true;
      state_ = Str;
      return More;
    case Colon:
      if (c != ':') return fail();
      state_ = Value;
      return More;
    case After:
      if (c == ',') {
        state_ = stack_.back() == '{' ? ObjKey : Value;
        return More;
      }
      if ((c == '}' && stack_.back() == '{') || (c == ']' && stack_.back() == '[')) {
        stack_.pop_back();
        return end_value(false);
      }
      return fail();
    case Str:
      if (c == '"') {
        if (key_) {
          state_ = Colon;
          return More;
        }
        return end_value(false);
      }
      if (c == '\\') {
        state_ = Esc;
        return More;
      }
      if (u < 0x20) return fail();  // control characters must be escaped
      if (u < 0x80) return More;
      // The lead byte fixes the length and the range of the first continuation byte, which
      // rules out overlong forms, surrogates and code points past U+10FFFF (RFC 3629).
      utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
      if (u >= 0xC2 && u <= 0xDF) {
        utf8_left_ = 1;
      } else if (u >= 0xE0 && u <= 0xEF) {
        utf8_left_ = 2;
        if (u == 0xE0) utf8_lo_ = 0xA0;
        if (u == 0xED) utf8_hi_ = 0x9F;
      } else if (u >= 0xF0 && u <= 0xF4) {
        utf8_left_ = 3;
        if (u == 0xF0) utf8_lo_ = 0x90;
        if (u == 0xF4) utf8_hi_ = 0x8F;
      } else {
        return fail();
      }
      state_ = Utf8;
      return More;
    case Utf8:
      if (u < utf8_lo_ || u > utf8_hi_) return fail();
      utf8_lo_ = 0x80, utf8_hi_ = 0xBF;
      if (--utf8_left_ == 0) state_ = Str;
      return More;
    case Esc:
      switch (c) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': state_ = Str; return More;
        case 'u':
          state_ = Hex;
          hex_left_ = 4;
          hex_ = 0;
          return More;
        default: return fail();
      }
    case Hex: {
      const int h = hex_value(c);
      if (h < 0) return fail();
      hex_ = hex_ * 16 + uint32_t(h);
      if (--hex_left_ > 0) return More;
      const bool high = hex_ >= 0xD800 && hex_ <= 0xDBFF, low = hex_ >= 0xDC00 && hex_ <= 0xDFFF;
      if (want_low_ != low) return fail();  // a lone or reversed surrogate half
      want_low_ = high;
      state_ = high ? LowBackslash : Str;
      return More;
    }
    case LowBackslash:
      if (c != '\\') return fail();
      state_ = LowU;
      return More;
    case LowU:
      if (c != 'u') return fail();
      state_ = Hex;
      hex_left_ = 4;
      hex_ = 0;
      return More;
    case NumMinus:
      if (c == '0') {
        state_ = NumZero;
        return More;
      }
      if (c >= '1' && c <= '9') {
        state_ = NumInt;
        return More;
      }
      return fail();
    case NumZero:
    case NumInt:
      if (state_ == NumInt && is_digit(c)) return More;
      if (c == '.') {
        state_ = NumDot;
        return More;
      }
      if (c == 'e' || c == 'E') {
        state_ = NumE;
        return More;
      }
      break;  // the number ended before c
    case NumDot:
      if (!is_digit(c)) return fail();
      state_ = NumFrac;
      return More;
    case NumFrac:
      if (is_digit(c)) return More;
      if (c == 'e' || c == 'E') {
        state_ = NumE;
        return More;
      }
      break;
    case NumE:
      if (c == '+' || c == '-') {
        state_ = NumESign;
        return More;
      }
      [[fallthrough]];
    case NumESign:
      if (!is_digit(c)) return fail();
      state_ = NumExp;
      return More;
    case NumExp:
      if (is_digit(c)) return More;
      break;
    case Literal:
      if (c != literal_[literal_pos_]) return fail();
      if (literal_[++literal_pos_] == '\0') return end_value(false);
      return More;
    case Complete:
    case Failed: return fail();
  }
  // A number ended just before c: c belongs to what follows it.
  const Result r = end_value(true);
  if (r == EndedBefore) return r;
  return step(c, keep);
}

}  // namespace dawn
