// Integer and decimal ranges as GBNF (see json_schema_numbers.h).
#include "text/json_schema_numbers.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace dawn::schema_gbnf {

namespace {

constexpr size_t kMaxDigits = 100;

// --- magnitudes: canonical digit strings -------------------------------------------------------

int mag_cmp(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

std::string mag_inc(std::string a) {
  for (size_t i = a.size(); i-- > 0;) {
    if (a[i] != '9') {
      ++a[i];
      return a;
    }
    a[i] = '0';
  }
  return "1" + a;
}

std::string mag_dec(std::string a) {  // a > 0
  for (size_t i = a.size(); i-- > 0;) {
    if (a[i] != '0') {
      --a[i];
      break;
    }
    a[i] = '9';
  }
  if (a.size() > 1 && a[0] == '0') a.erase(0, 1);
  return a;
}

// A signed integer; zero is not negative.
struct SInt {
  bool neg = false;
  std::string mag = "0";
};

int sint_cmp(const SInt& a, const SInt& b) {
  if (a.neg != b.neg) return a.neg ? -1 : 1;
  return a.neg ? -mag_cmp(a.mag, b.mag) : mag_cmp(a.mag, b.mag);
}

SInt sint_add_one(const SInt& a) {
  if (!a.neg) return {false, mag_inc(a.mag)};
  const std::string m = mag_dec(a.mag);
  return {m != "0", m};
}

SInt sint_sub_one(const SInt& a) {
  if (a.neg) return {true, mag_inc(a.mag)};
  if (a.mag == "0") return {true, "1"};
  return {false, mag_dec(a.mag)};
}

SInt floor_of(const Decimal& d) {
  SInt i{d.neg, d.int_digits};
  if (i.mag == "0") i.neg = false;
  if (d.frac.empty() || !d.neg) return i;
  return {true, mag_inc(d.int_digits)};
}

SInt ceil_of(const Decimal& d) {
  SInt i{d.neg, d.int_digits};
  if (i.mag == "0") i.neg = false;
  if (d.frac.empty() || d.neg) return i;
  return {false, mag_inc(d.int_digits)};
}

bool all_of_digit(const std::string& s, char c) {
  return std::all_of(s.begin(), s.end(), [c](char x) { return x == c; });
}

Expr digits(char first, char last) { return char_class(CharSet::range(uint32_t(first), uint32_t(last))); }
Expr any_digits(uint64_t n) { return rep(digits('0', '9'), n, n); }

// Digit strings of the same length n between lo and hi (inclusive, lo <= hi; leading zeros
// allowed: the caller fixes the first digit).
Expr fixed_range(const std::string& lo, const std::string& hi) {
  if (lo.empty()) return eps();
  if (lo == hi) return lit(lo);
  const std::string lo_rest = lo.substr(1), hi_rest = hi.substr(1);
  if (lo[0] == hi[0]) return seq({lit(lo.substr(0, 1)), fixed_range(lo_rest, hi_rest)});
  const bool lo_full = all_of_digit(lo_rest, '0'), hi_full = all_of_digit(hi_rest, '9');
  std::vector<Expr> options;
  // lo's first digit with the rest at least lo_rest; then every digit strictly between with any
  // rest; then hi's first digit with the rest at most hi_rest (full ranges fold into the middle).
  if (!lo_full) options.push_back(seq({lit(lo.substr(0, 1)), fixed_range(lo_rest, std::string(lo_rest.size(), '9'))}));
  const char start = lo_full ? lo[0] : char(lo[0] + 1), end = hi_full ? hi[0] : char(hi[0] - 1);
  if (start <= end) options.push_back(seq({digits(start, end), any_digits(lo_rest.size())}));
  if (!hi_full) options.push_back(seq({lit(hi.substr(0, 1)), fixed_range(std::string(hi_rest.size(), '0'), hi_rest)}));
  return alt(std::move(options));
}

// Canonical magnitudes from a to b (b absent: unbounded), a <= b.
Expr mag_range(const std::string& a, const std::optional<std::string>& b) {
  const size_t la = a.size(), lb = b ? b->size() : la;
  if (!b && la > 1 && a[0] == '1' && all_of_digit(a.substr(1), '0'))  // 10^k and up: any k+1 digits or more
    return seq({digits('1', '9'), rep(digits('0', '9'), la - 1, std::nullopt)});
  if (!b && a == "1") return seq({digits('1', '9'), rep(digits('0', '9'), 0, std::nullopt)});
  std::vector<Expr> options;
  for (size_t len = la; len <= lb; ++len) {
    std::string lo = a;
    if (len != la) lo = std::string(len, '0'), lo[0] = '1';  // 10^(len-1)
    const std::string hi = b && len == lb ? *b : std::string(len, '9');
    options.push_back(fixed_range(lo, hi));
  }
  if (!b) options.push_back(seq({digits('1', '9'), rep(digits('0', '9'), la, std::nullopt)}));  // longer ones
  return alt(std::move(options));
}

// --- fractions -----------------------------------------------------------------------------------

// A bound on the fraction digits still to come: 0.s >= 0.rest (lower) or 0.s <= 0.rest (upper),
// strict when exclusive. rest has no trailing zeros.
struct FracBound {
  std::string rest;
  bool exclusive = false;
  bool operator==(const FracBound&) const = default;
};
using OptFrac = std::optional<FracBound>;

// The digit strings s that satisfy both bounds: the non-empty ones, and whether "" does.
struct FracLang {
  std::optional<Expr> nonempty;
  bool empty_ok = false;
};

FracLang frac_lang(OptFrac lo, OptFrac hi) {
  if (lo && lo->rest.empty() && !lo->exclusive) lo.reset();  // >= 0 always holds
  const Expr any_digit = digits('0', '9');
  if (hi && hi->rest.empty() && hi->exclusive) return {};           // < 0 never does
  if (lo && lo->rest.empty() && hi && hi->rest.empty()) return {};  // > 0 and <= 0
  if (!lo && !hi) return {rep(any_digit, 1, std::nullopt), true};
  if (lo && lo->rest.empty() && !hi)  // > 0: some digit is not 0
    return {seq({rep(lit("0"), 0, std::nullopt), digits('1', '9'), rep(any_digit, 0, std::nullopt)}), false};
  if (!lo && hi && hi->rest.empty()) return {rep(lit("0"), 1, std::nullopt), true};  // <= 0: all zeros
  FracLang out;
  out.empty_ok = !lo && (!hi || !hi->rest.empty() || !hi->exclusive);
  // Each next digit e moves both bounds on; digits leading to the same pair of bounds share one
  // class. This terminates: a non-empty rest shrinks at every step.
  std::vector<Expr> options;
  int e = 0;
  while (e <= 9) {
    auto next = [&](int d, bool* dead) {
      std::pair<OptFrac, OptFrac> r;
      *dead = false;
      if (lo) {
        if (lo->rest.empty()) {
          if (d == 0) r.first = lo;  // still needs a non-zero digit
        } else if (d == lo->rest[0] - '0') {
          r.first = FracBound{lo->rest.substr(1), lo->exclusive};
        } else if (d < lo->rest[0] - '0') {
          *dead = true;
        }
      }
      if (hi) {
        if (hi->rest.empty()) {
          if (d == 0)
            r.second = hi;
          else
            *dead = true;
        } else if (d == hi->rest[0] - '0') {
          r.second = FracBound{hi->rest.substr(1), hi->exclusive};
        } else if (d > hi->rest[0] - '0') {
          *dead = true;
        }
      }
      return r;
    };
    bool dead;
    const auto state = next(e, &dead);
    int last = e;
    for (bool d2; last + 1 <= 9 && next(last + 1, &d2) == state && d2 == dead;) ++last;
    if (!dead) {
      const FracLang cont = frac_lang(state.first, state.second);
      std::optional<Expr> tail;
      if (!state.first && !state.second)
        tail = rep(any_digit, 0, std::nullopt);
      else if (cont.nonempty)
        tail = cont.empty_ok ? opt(*cont.nonempty) : *cont.nonempty;
      else if (cont.empty_ok)
        tail = eps();
      if (tail) options.push_back(seq({digits(char('0' + e), char('0' + last)), *tail}));
    }
    e = last + 1;
  }
  if (!options.empty()) out.nonempty = alt(std::move(options));
  return out;
}

// The optional fraction part ("." digits+)? of numbers whose integer part is fixed.
std::optional<Expr> fraction(const OptFrac& lo, const OptFrac& hi) {
  const FracLang l = frac_lang(lo, hi);
  if (!l.nonempty) return l.empty_ok ? std::optional<Expr>(eps()) : std::nullopt;
  const Expr dotted = seq({lit("."), *l.nonempty});
  return l.empty_ok ? opt(dotted) : dotted;
}

// Non-negative numbers from lo to hi (hi absent: unbounded), lo >= 0.
std::optional<Expr> nonneg_range(const Bound& lo, const std::optional<Bound>& hi) {
  if (hi) {
    const int c = compare(lo.value, hi->value);
    if (c > 0 || (c == 0 && (lo.exclusive || hi->exclusive))) return std::nullopt;
  }
  const std::string& li = lo.value.int_digits;
  const OptFrac lo_frac = FracBound{lo.value.frac, lo.exclusive};
  std::vector<Expr> options;
  auto add = [&](const std::optional<Expr>& e) {
    if (e) options.push_back(*e);
  };
  if (hi && hi->value.int_digits == li) {
    if (auto f = fraction(lo_frac, FracBound{hi->value.frac, hi->exclusive})) add(seq({lit(li), *f}));
  } else {
    if (auto f = fraction(lo_frac, std::nullopt)) add(seq({lit(li), *f}));
    const std::string mid_lo = mag_inc(li);
    const std::optional<std::string> mid_hi =
        hi ? std::optional<std::string>(hi->value.int_digits == "0" ? "" : mag_dec(hi->value.int_digits))
           : std::nullopt;
    if (!mid_hi || (!mid_hi->empty() && mag_cmp(mid_lo, *mid_hi) <= 0))
      add(seq({mag_range(mid_lo, mid_hi), *fraction(std::nullopt, std::nullopt)}));
    if (hi)
      if (auto f = fraction(std::nullopt, FracBound{hi->value.frac, hi->exclusive}))
        add(seq({lit(hi->value.int_digits), *f}));
  }
  if (options.empty()) return std::nullopt;
  return alt(std::move(options));
}

Decimal magnitude(const Decimal& d) { return {false, d.int_digits, d.frac}; }
bool is_zero(const Decimal& d) { return d.int_digits == "0" && d.frac.empty(); }

}  // namespace

std::optional<Decimal> parse_decimal(const std::string& text) {
  size_t i = 0;
  Decimal d;
  bool neg = false;
  if (i < text.size() && text[i] == '-') neg = true, ++i;
  std::string digits_all;  // all mantissa digits; point = position of the decimal point in it
  size_t point = std::string::npos;
  for (; i < text.size() && (std::isdigit(uint8_t(text[i])) || text[i] == '.'); ++i) {
    if (text[i] == '.') {
      if (point != std::string::npos) return std::nullopt;
      point = digits_all.size();
    } else {
      digits_all += text[i];
    }
  }
  if (digits_all.empty()) return std::nullopt;
  if (point == std::string::npos) point = digits_all.size();
  long long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) eneg = text[i] == '-', ++i;
    if (i >= text.size()) return std::nullopt;
    for (; i < text.size() && std::isdigit(uint8_t(text[i])); ++i) {
      exp = exp * 10 + (text[i] - '0');
      if (exp > 100000) return std::nullopt;
    }
    if (eneg) exp = -exp;
  }
  if (i != text.size()) return std::nullopt;
  long long p = (long long)point + exp;  // the point moves by the exponent; pad with zeros
  if (p < 0) digits_all.insert(0, size_t(-p), '0'), p = 0;
  if (p > (long long)digits_all.size()) digits_all.append(size_t(p) - digits_all.size(), '0');
  std::string ip = digits_all.substr(0, size_t(p)), fp = digits_all.substr(size_t(p));
  ip.erase(0, std::min(ip.find_first_not_of('0'), ip.size()));
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  if (ip.size() + fp.size() > kMaxDigits) return std::nullopt;
  d.int_digits = ip.empty() ? "0" : ip;
  d.frac = fp;
  d.neg = neg && !is_zero(d);
  return d;
}

int compare(const Decimal& a, const Decimal& b) {
  if (a.neg != b.neg) return a.neg ? -1 : 1;
  int c = mag_cmp(a.int_digits, b.int_digits);
  if (c == 0) {
    const size_t n = std::max(a.frac.size(), b.frac.size());
    const std::string fa = a.frac + std::string(n - a.frac.size(), '0'),
                      fb = b.frac + std::string(n - b.frac.size(), '0');
    c = fa < fb ? -1 : fa > fb ? 1 : 0;
  }
  return a.neg ? -c : c;
}

std::optional<Expr> integer_range(const std::optional<Bound>& lower, const std::optional<Bound>& upper) {
  std::optional<SInt> lo, hi;
  if (lower) lo = lower->exclusive ? sint_add_one(floor_of(lower->value)) : ceil_of(lower->value);
  if (upper) hi = upper->exclusive ? sint_sub_one(ceil_of(upper->value)) : floor_of(upper->value);
  if (lo && hi && sint_cmp(*lo, *hi) > 0) return std::nullopt;
  std::vector<Expr> options;
  if (!hi || !hi->neg)
    options.push_back(mag_range(lo && !lo->neg ? lo->mag : "0", hi ? std::optional(hi->mag) : std::nullopt));
  if (!lo || lo->neg)
    options.push_back(
        seq({lit("-"), mag_range(hi && hi->neg ? hi->mag : "1", lo ? std::optional(lo->mag) : std::nullopt)}));
  return alt(std::move(options));
}

std::optional<Expr> number_range(const std::optional<Bound>& lower, const std::optional<Bound>& upper) {
  const Decimal zero;
  std::vector<Expr> options;
  // x >= 0 (written without sign) and x < 0 (as "-" and its magnitude y > 0; never "-0").
  if (!upper || compare(upper->value, zero) > 0 || (is_zero(upper->value) && !upper->exclusive)) {
    const Bound lo = lower && !lower->value.neg ? *lower : Bound{zero, false};
    if (auto e = nonneg_range(lo, upper)) options.push_back(*e);
  }
  if (!lower || lower->value.neg) {
    const Bound y_lo = upper && upper->value.neg ? Bound{magnitude(upper->value), upper->exclusive} : Bound{zero, true};
    std::optional<Bound> y_hi;
    if (lower) y_hi = Bound{magnitude(lower->value), lower->exclusive};
    if (auto e = nonneg_range(y_lo, y_hi)) options.push_back(seq({lit("-"), *e}));
  }
  if (options.empty()) return std::nullopt;
  return alt(std::move(options));
}

}  // namespace dawn::schema_gbnf
