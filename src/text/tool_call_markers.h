// The literal markers of the tool-call formats, matched against text that may stop mid-marker
// (a streamed piece), including the DeepSeek spellings the R1 distills produce.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dawn {

struct MarkerMatch {
  enum Kind : uint8_t { No, Partial, Full } kind = No;
  size_t len = 0;  // bytes of text the marker took (Full)
};

// text begins with marker (Full), or all of text is a proper prefix of it (Partial).
MarkerMatch match_literal(std::string_view text, std::string_view marker);

// DeepSeek's <｜tool▁calls▁begin｜> family (｜ is U+FF5C, ▁ U+2581). Between the words the
// model may write ▁, _, a space or \_ (an escaped underscore): the distills spell the
// markers out of ordinary tokens when they do not emit the special one.
enum class DsMarker : uint8_t { CallsBegin, CallBegin, Sep, CallEnd, CallsEnd };
MarkerMatch match_deepseek(std::string_view text, DsMarker marker);

}  // namespace dawn
