// Marker matching for the tool-call parsers (see tool_call_markers.h).
#include "text/tool_call_markers.h"

#include <algorithm>
#include <span>

namespace dawn {

MarkerMatch match_literal(std::string_view text, std::string_view marker) {
  const size_t n = std::min(text.size(), marker.size());
  if (text.substr(0, n) != marker.substr(0, n)) return {};
  if (n < marker.size()) return {MarkerMatch::Partial, 0};
  return {MarkerMatch::Full, marker.size()};
}

MarkerMatch match_deepseek(std::string_view text, DsMarker marker) {
  static constexpr std::string_view kCallsBegin[] = {"tool", "calls", "begin"},
                                    kCallBegin[] = {"tool", "call", "begin"}, kSep[] = {"tool", "sep"},
                                    kCallEnd[] = {"tool", "call", "end"}, kCallsEnd[] = {"tool", "calls", "end"};
  std::span<const std::string_view> words;
  switch (marker) {
    case DsMarker::CallsBegin: words = kCallsBegin; break;
    case DsMarker::CallBegin: words = kCallBegin; break;
    case DsMarker::Sep: words = kSep; break;
    case DsMarker::CallEnd: words = kCallEnd; break;
    case DsMarker::CallsEnd: words = kCallsEnd; break;
  }
  size_t at = 0;
  // Matches s at text[at]: advances past it (Full), or text ends inside it (Partial).
  const auto part = [&](std::string_view s) {
    const MarkerMatch m = match_literal(text.substr(at), s);
    if (m.kind == MarkerMatch::Full) at += m.len;
    return m.kind;
  };
  if (const auto k = part("<｜"); k != MarkerMatch::Full) return {k, 0};
  bool first = true;
  for (const std::string_view w : words) {
    if (!first) {
      // The separators share no first byte, so at most one can match.
      MarkerMatch::Kind k = MarkerMatch::No;
      for (const std::string_view sep : {"▁", "_", " ", "\\_"}) {
        k = part(sep);
        if (k != MarkerMatch::No) break;
      }
      if (k != MarkerMatch::Full) return {k, 0};
    }
    first = false;
    if (const auto k = part(w); k != MarkerMatch::Full) return {k, 0};
  }
  if (const auto k = part("｜>"); k != MarkerMatch::Full) return {k, 0};
  return {MarkerMatch::Full, at};
}

}  // namespace dawn
