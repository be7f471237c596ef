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

std::string nfc(std::string_view s) {
  // ASCII is already NFC; skip the library call.
  bool ascii = true;
  for (unsigned char c : s) ascii &= c < 0x80;
  if (ascii || s.empty()) return std::string(s);
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), utf8proc_ssize_t(s.size()), &out,
                   utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return std::string(s);
  std::string r(reinterpret_cast<const char*>(out), size_t(n));
  std::free(out);
  return r;
}

}  // namespace dawn
