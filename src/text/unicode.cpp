#include "text/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

namespace dawn {

namespace {
#include "text/unicode_tables.inc"
}  // namespace

std::string utf8_encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

size_t utf8_complete_prefix(std::string_view s) {
  size_t i = s.size();
  // Look back at most 3 bytes for an unfinished lead byte.
  for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
    const unsigned char c = s[s.size() - back];
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    if (c >= 0xC0 && utf8_len(c) > back) i = s.size() - back;
    break;
  }
  return i;
}

std::span<const CodeRange> unicode_category(char major) {
  switch (major) {
    case 'L': return kLetter;
    case 'M': return kMark;
    case 'N': return kNumber;
    case 'P': return kPunctuation;
    case 'S': return kSymbol;
    default: return {};
  }
}

std::span<const CodeRange> unicode_category_since14(char major) {
  switch (major) {
    case 'L': return kLetterSince14;
    case 'M': return kMarkSince14;
    case 'N': return kNumberSince14;
    case 'P': return kPunctuationSince14;
    case 'S': return kSymbolSince14;
    default: return {};
  }
}

bool in_ranges(std::span<const CodeRange> ranges, uint32_t cp) {
  // The first range whose end is at or after cp holds it, if any does.
  const auto it =
      std::lower_bound(ranges.begin(), ranges.end(), cp, [](const CodeRange& r, uint32_t c) { return r.last < c; });
  return it != ranges.end() && it->first <= cp;
}

namespace {

// utf8proc's NFC of s appended to out; false if s is not valid UTF-8.
bool append_nfc(std::string_view s, std::string& out) {
  if (s.empty()) return true;
  utf8proc_uint8_t* buf = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), utf8proc_ssize_t(s.size()), &buf,
                   utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return false;
  out.append(reinterpret_cast<const char*>(buf), size_t(n));
  std::free(buf);
  return true;
}

}  // namespace

std::string nfc(std::string_view s) {
  // ASCII is already NFC; skip the library call.
  bool ascii = true;
  for (unsigned char c : s) ascii &= c < 0x80;
  if (ascii || s.empty()) return std::string(s);
  // Hugging Face normalizes with Unicode 9.0 data, utf8proc with newer data (Debian 12: 15.0). A code
  // point of kNfcUnknown is to Hugging Face a starter that never decomposes, reorders or composes, so it
  // cuts the text: the stretches between such code points are normalized on their own and the code
  // points themselves are copied unchanged. (utf8proc would, say, compose U+11935 U+11930 into U+11938,
  // Unicode 13.0, or reorder a Unicode 14 mark of class 220 before one of class 230.)
  std::string out;
  size_t done = 0;  // s[0, done) is normalized into out
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    const uint32_t cp = utf8_next(s, &i);
    if (cp < kNfcUnknown[0].first || !in_ranges(kNfcUnknown, cp)) continue;
    if (utf8_encode(cp) != s.substr(at, i - at)) continue;  // invalid UTF-8: utf8proc refuses it below
    if (!append_nfc(s.substr(done, at - done), out)) return std::string(s);
    out.append(s.substr(at, i - at));
    done = i;
  }
  if (!append_nfc(s.substr(done), out)) return std::string(s);
  return out;
}

}  // namespace dawn
