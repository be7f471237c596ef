// Fixed GBNF rules: JSON values, bounded whitespace, and the formats date, time, date-time, uuid
// and email.
#include "text/json_schema_formats.h"

#include <algorithm>

namespace dawn::schema_gbnf {

// Whitespace: at most one space, and only after ':' and ',' (the converter puts `ws` there and
// nowhere else), so a model cannot spin on whitespace.
//
// Strings: any character but '"', '\\' and controls raw, or an escape. \u escapes name one
// code point: a non-surrogate, or a high+low surrogate pair as one unit, so lengths count code
// points as JSON Schema does and no lone surrogate is ever accepted.
//
// Formats (RFC 3339 as JSON Schema names it, with these choices):
//   date       YYYY-MM-DD on the proleptic Gregorian calendar, years 0001-9999, exact month
//              lengths and leap years (Feb 29 only in years divisible by 4 and not by 100
//              unless by 400);
//   time       HH:MM:SS, optional fraction of 1-9 digits, then Z or +HH:MM / -HH:MM; the leap
//              second :60 and lowercase z are not produced;
//   date-time  date "T" time (uppercase T);
//   uuid       8-4-4-4-12 hex digits, either case;
//   email      a subset of RFC 5322 addr-spec: a dot-atom local part (atext characters) "@" a
//              domain of two or more DNS labels (letters, digits, inner hyphens, 1-63 each).
//              No quoted local parts, IP literals or single-label domains.
const std::vector<std::pair<std::string, std::string>>& library_rules() {
  static const std::vector<std::pair<std::string, std::string>> rules = {
      {"ws", R"(" "?)"},
      {"value", R"(object | array | string | number | boolean | null)"},
      {"object", R"("{" (string ":" ws value ("," ws string ":" ws value)*)? "}")"},
      {"array", R"("[" (value ("," ws value)*)? "]")"},
      {"string", R"("\"" char* "\"")"},
      {"char", R"([^\"\\\x00-\x1F] | "\\" ([\"\\/bfnrt] | "u" unicode-escape))"},
      {"unicode-escape",
       R"([0-9a-cA-Ce-fE-F] hex{3} | [dD] [0-7] hex{2} | [dD] [89abAB] hex{2} "\\u" [dD] [c-fC-F] hex{2})"},
      {"hex", R"([0-9a-fA-F])"},
      {"number", R"(integer ("." [0-9]+)? ([eE] [+\x2D]? [0-9]+)?)"},
      {"integer", R"("-"? ("0" | [1-9] [0-9]*))"},
      {"boolean", R"("true" | "false")"},
      {"null", R"("null")"},
      {"date",
       R"(date-year "-" (date-month-31 "-" date-day-31 | date-month-30 "-" date-day-30 | "02-" date-day-28) | date-leap-year "-02-29")"},
      {"date-year", R"([1-9] [0-9]{3} | "0" [1-9] [0-9]{2} | "00" [1-9] [0-9] | "000" [1-9])"},
      {"date-leap-year", R"([0-9]{2} date-four | date-four "00")"},
      {"date-four", R"("0" [48] | [2468] [048] | [13579] [26])"},
      {"date-month-31", R"("0" [13578] | "1" [02])"},
      {"date-month-30", R"("0" [469] | "11")"},
      {"date-day-28", R"("0" [1-9] | "1" [0-9] | "2" [0-8])"},
      {"date-day-30", R"("0" [1-9] | [12] [0-9] | "30")"},
      {"date-day-31", R"("0" [1-9] | [12] [0-9] | "3" [01])"},
      {"time", R"(time-hour ":" time-minute ":" time-minute ("." [0-9]{1,9})? time-offset)"},
      {"time-hour", R"([01] [0-9] | "2" [0-3])"},
      {"time-minute", R"([0-5] [0-9])"},
      {"time-offset", R"("Z" | [+\x2D] time-hour ":" time-minute)"},
      {"date-time", R"(date "T" time)"},
      {"uuid", R"(hex{8} "-" hex{4} "-" hex{4} "-" hex{4} "-" hex{12})"},
      {"email", R"(email-atom ("." email-atom)* "@" email-label ("." email-label)+)"},
      {"email-atom", R"([a-zA-Z0-9!#$%&'*+/=?\x5E_`{|}~\x2D]+)"},
      {"email-label", R"([a-zA-Z0-9] ([a-zA-Z0-9\x2D]{0,61} [a-zA-Z0-9])?)"},
  };
  return rules;
}

bool is_library_rule(const std::string& name) {
  const auto& r = library_rules();
  return std::any_of(r.begin(), r.end(), [&](const auto& p) { return p.first == name; });
}

std::optional<Expr> format_string(const std::string& format) {
  static const char* const kFormats[] = {"date", "time", "date-time", "uuid", "email"};
  for (const char* f : kFormats)
    if (format == f) return seq({lit("\""), ref(f), lit("\"")});
  return std::nullopt;
}

}  // namespace dawn::schema_gbnf
