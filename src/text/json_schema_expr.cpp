// GBNF expression builders, code-point sets and JSON string-character forms for the converter.
#include "text/json_schema_expr.h"

#include "text/unicode.h"

#include <algorithm>
#include <cstdio>

namespace dawn::schema_gbnf {

namespace {

std::string hex2(uint32_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02X", unsigned(v));
  return buf;
}

// The operand of a postfix operator: anything but a bare element needs parentheses.
std::string as_postfix_operand(const Expr& e) { return e.prec == Expr::kAtom ? e.text : "(" + e.text + ")"; }

Expr postfix(const Expr& e, const std::string& op) { return Expr{as_postfix_operand(e) + op, Expr::kPostfix}; }

}  // namespace

Expr eps() { return Expr{}; }

Expr lit(std::string_view bytes) {
  if (bytes.empty()) return eps();
  std::vector<uint32_t> cps;
  utf8_decode(bytes, &cps);  // callers pass valid UTF-8 (checked where it enters the converter)
  std::string t = "\"";
  for (uint32_t cp : cps) t += gbnf_escape(cp, false);
  t += "\"";
  return Expr{t, Expr::kAtom, std::string(bytes)};
}

Expr ref(std::string name) { return Expr{std::move(name), Expr::kAtom}; }

std::string as_seq_item(const Expr& e) { return e.prec == Expr::kAlt ? "(" + e.text + ")" : e.text; }

Expr seq(std::vector<Expr> parts) {
  std::vector<Expr> flat;
  for (Expr& p : parts) {
    if (p.prec == Expr::kSeq && !p.items.empty()) {
      for (Expr& q : p.items) flat.push_back(std::move(q));
    } else if (!p.empty()) {
      flat.push_back(std::move(p));
    }
  }
  std::vector<Expr> merged;
  for (Expr& p : flat) {
    if (p.literal && !merged.empty() && merged.back().literal) {
      merged.back() = lit(*merged.back().literal + *p.literal);
      continue;
    }
    merged.push_back(std::move(p));
  }
  if (merged.empty()) return eps();
  if (merged.size() == 1) return merged[0];
  std::string t;
  for (const Expr& p : merged) {
    if (!t.empty()) t += ' ';
    t += as_seq_item(p);
  }
  return Expr{t, Expr::kSeq, std::nullopt, std::move(merged)};
}

Expr alt(std::vector<Expr> options) {
  bool had_eps = false;
  std::vector<Expr> kept;
  for (Expr& o : options) {
    if (o.empty()) {
      had_eps = true;
      continue;
    }
    if (std::none_of(kept.begin(), kept.end(), [&](const Expr& k) { return k.text == o.text; }))
      kept.push_back(std::move(o));
  }
  if (kept.empty()) return eps();
  Expr r;
  if (kept.size() == 1) {
    r = kept[0];
  } else {
    std::string t;
    for (const Expr& k : kept) {
      if (!t.empty()) t += " | ";
      t += k.text;  // a sequence binds tighter than |
    }
    r = Expr{t, Expr::kAlt};
  }
  return had_eps ? opt(r) : r;
}

Expr opt(Expr e) { return e.empty() ? e : postfix(e, "?"); }

Expr rep(Expr e, uint64_t min, std::optional<uint64_t> max) {
  if (e.empty() || (max && *max == 0)) return eps();
  if (max && *max == 1) return min == 1 ? e : opt(e);
  if (!max) {
    if (min == 0) return postfix(e, "*");
    if (min == 1) return postfix(e, "+");
    return postfix(e, std::string("{") + std::to_string(min) + ",}");
  }
  if (min == *max) return postfix(e, std::string("{") + std::to_string(min) + "}");
  return postfix(e, std::string("{") + std::to_string(min) + "," + std::to_string(*max) + "}");
}

CharSet CharSet::range(uint32_t first, uint32_t last) {
  CharSet s;
  s.add(first, last);
  return s;
}

void CharSet::add(uint32_t first, uint32_t last) {
  if (first > last) return;
  ranges_.emplace_back(first, last);
  std::sort(ranges_.begin(), ranges_.end());
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const auto& r : ranges_) {
    if (!out.empty() && r.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  ranges_ = std::move(out);
}

void CharSet::add(const CharSet& other) {
  for (const auto& r : other.ranges_) add(r.first, r.second);
}

CharSet CharSet::complement() const {
  CharSet c;
  uint32_t next = 0;
  for (const auto& r : ranges_) {
    if (r.first > next) c.ranges_.emplace_back(next, r.first - 1);
    next = r.second + 1;
  }
  if (next <= kMax) c.ranges_.emplace_back(next, kMax);
  return c;
}

CharSet CharSet::intersect(const CharSet& other) const {
  CharSet c;
  for (const auto& a : ranges_)
    for (const auto& b : other.ranges_) {
      const uint32_t lo = std::max(a.first, b.first), hi = std::min(a.second, b.second);
      if (lo <= hi) c.add(lo, hi);
    }
  return c;
}

CharSet CharSet::minus(const CharSet& other) const { return intersect(other.complement()); }

bool CharSet::contains(uint32_t cp) const {
  return std::any_of(ranges_.begin(), ranges_.end(), [&](const auto& r) { return r.first <= cp && cp <= r.second; });
}

std::string gbnf_escape(uint32_t cp, bool in_class) {
  switch (cp) {
    case '\\': return "\\\\";
    case '"': return "\\\"";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
  }
  // Class metacharacters go as \xHH, so no reader has to know where '-' or '^' is literal.
  if (cp < 0x20 || cp == 0x7F || (in_class && (cp == '[' || cp == ']' || cp == '^' || cp == '-')))
    return "\\x" + hex2(cp);
  if (cp >= 0x80 && cp <= 0xFFFF) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04X", unsigned(cp));
    return buf;
  }
  return utf8_encode(cp);  // printable ASCII, and characters past U+FFFF (no \U escape in GBNF)
}

Expr char_class(const CharSet& set) {
  if (set.is_all()) return Expr{".", Expr::kAtom};
  const auto& r = set.ranges();
  if (r.size() == 1 && r[0].first == r[0].second) return lit(utf8_encode(r[0].first));
  // A set reaching U+10FFFF is written as what it leaves out.
  const bool negated = set.contains(CharSet::kMax);
  std::string t = negated ? "[^" : "[";
  const CharSet written = negated ? set.complement() : set;
  for (const auto& [a, b] : written.ranges()) {
    t += gbnf_escape(a, true);
    if (b == a + 1) t += gbnf_escape(b, true);
    if (b > a + 1) t += '-', t += gbnf_escape(b, true);
  }
  return Expr{t + "]", Expr::kAtom};
}

bool utf8_decode(std::string_view s, std::vector<uint32_t>* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
      n = 1, cp = c, min = 0;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > CharSet::kMax || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out->push_back(cp);
    i += n;
  }
  return true;
}

const CharSet& json_raw_chars() {
  static const CharSet s = [] {
    CharSet c = CharSet::range(0x20, CharSet::kMax);
    return c.minus(CharSet::of('"')).minus(CharSet::of('\\'));
  }();
  return s;
}

std::string json_char_text(uint32_t cp) {
  switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case 0x08: return "\\b";
    case 0x0C: return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
  }
  if (cp < 0x20) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
    return buf;
  }
  return utf8_encode(cp);
}

std::optional<Expr> json_chars(const CharSet& set) {
  if (set.empty()) return std::nullopt;
  if (set.is_all()) return ref("char");
  std::vector<Expr> forms;
  const CharSet raw = set.intersect(json_raw_chars());
  if (!raw.empty()) forms.push_back(char_class(raw));
  // Short escapes: the letter after the backslash for each character that has one.
  static const std::pair<uint32_t, char> kShort[] = {{'"', '"'},  {'\\', '\\'}, {0x08, 'b'}, {0x0C, 'f'},
                                                     {'\n', 'n'}, {'\r', 'r'},  {'\t', 't'}};
  CharSet letters;
  for (const auto& [cp, letter] : kShort)
    if (set.contains(cp)) letters.add(uint32_t(letter), uint32_t(letter));
  if (!letters.empty()) forms.push_back(seq({lit("\\"), char_class(letters)}));
  // Other control characters only exist as \u00XX; the hex letters in either case.
  for (uint32_t high = 0; high < 2; ++high) {
    CharSet lows;
    for (uint32_t low = 0; low < 16; ++low) {
      const uint32_t cp = high * 16 + low;
      if (!set.contains(cp) || cp == 0x08 || cp == 0x09 || cp == 0x0A || cp == 0x0C || cp == 0x0D) continue;
      const char digit = "0123456789ABCDEF"[low];
      lows.add(uint32_t(digit), uint32_t(digit));
      if (low >= 10) lows.add(uint32_t(digit + 32), uint32_t(digit + 32));
    }
    if (!lows.empty()) forms.push_back(seq({lit("\\u00" + std::to_string(high)), char_class(lows)}));
  }
  return alt(std::move(forms));
}

}  // namespace dawn::schema_gbnf
