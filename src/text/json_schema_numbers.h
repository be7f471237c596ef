// Exact numeric ranges as GBNF for the converter: integers in [lo, hi] by the digit-range
// construction, and decimals in a range (written without exponent) by comparing the integer part
// and then the fraction digit by digit. Internal to src/text/json_schema_*.cpp.
#pragma once
#include <optional>
#include <string>

#include "text/json_schema_expr.h"

namespace dawn::schema_gbnf {

// An exact decimal: int_digits without leading zeros ("0" for zero), frac without trailing
// zeros; zero is never negative.
struct Decimal {
  bool neg = false;
  std::string int_digits = "0";
  std::string frac;
};

// Parses a JSON number's text ("-1.25e+3"); nullopt if it is not one, or has over 100 digits
// once the exponent is applied (the grammar would be that long).
std::optional<Decimal> parse_decimal(const std::string& json_number_text);
int compare(const Decimal& a, const Decimal& b);

struct Bound {
  Decimal value;
  bool exclusive = false;
};

// The canonical texts ("-"? ("0" | [1-9][0-9]*)) of the integers within the bounds (either may be
// absent, not both); nullopt if there is none.
std::optional<Expr> integer_range(const std::optional<Bound>& lower, const std::optional<Bound>& upper);

// Numbers within the bounds (either may be absent, not both), as "-"? int ("." digits+)? without
// exponent and without "-0"; nullopt if the range is empty.
std::optional<Expr> number_range(const std::optional<Bound>& lower, const std::optional<Bound>& upper);

}  // namespace dawn::schema_gbnf
