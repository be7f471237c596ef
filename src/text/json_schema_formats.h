// The fixed rules converted grammars refer to: JSON's own (value, string, char, number, ...), the
// bounded whitespace, and the string formats. Internal to the converter.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "text/json_schema_expr.h"

namespace dawn::schema_gbnf {

// (name, body) in the order they are written after a grammar's own rules.
const std::vector<std::pair<std::string, std::string>>& library_rules();
bool is_library_rule(const std::string& name);

// The JSON string texts (quotes included) of a supported format; nullopt for any other format.
std::optional<Expr> format_string(const std::string& format);

}  // namespace dawn::schema_gbnf
