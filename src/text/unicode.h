// UTF-8 helpers and Unicode normalization for the tokenizer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dawn {

// Bytes of the UTF-8 character whose lead byte is c (1 for invalid leads).
inline size_t utf8_len(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

std::string utf8_encode(uint32_t cp);

// The code point starting at s[*i], advancing *i past it (a truncated or invalid sequence
// yields what its bytes spell; an invalid lead byte stands for itself).
inline uint32_t utf8_next(std::string_view s, size_t* i) {
  const unsigned char c = s[*i];
  const size_t n = utf8_len(c) < s.size() - *i ? utf8_len(c) : s.size() - *i;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (uint8_t(s[*i + k]) & 0x3F);
  *i += n;
  return cp;
}

// Length of the longest prefix of s that does not end inside a UTF-8 character.
size_t utf8_complete_prefix(std::string_view s);

// Canonical composition (NFC), as Qwen's tokenizer.json normalizer applies it in Hugging Face
// tokenizers: with Unicode 9.0 data (code points assigned later neither decompose, reorder nor compose).
// Text that is not valid UTF-8 is returned unchanged.
std::string nfc(std::string_view s);

// An inclusive range of code points.
struct CodeRange {
  uint32_t first, last;
};

// The sorted, disjoint ranges of a Unicode 16.0 general category: 'L', 'M', 'N', 'P' or 'S' (any other
// letter: empty). Generated tables (unicode_tables.inc, tools/unicode/make_tables.mjs).
std::span<const CodeRange> unicode_category(char major);
// What Unicode 15.0 to 16.0 added to that category; no code point left it since Unicode 14.0, so
// Unicode 14.0's category plus these ranges is Unicode 16.0's.
std::span<const CodeRange> unicode_category_since14(char major);

bool in_ranges(std::span<const CodeRange> ranges, uint32_t cp);

}  // namespace dawn
