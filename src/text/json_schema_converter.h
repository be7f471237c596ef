// The converter's state: one GBNF rule per schema (conjunction of schemas) that needs a name,
// memoized by the schemas' pointers so $ref recursion becomes rule recursion. Internal to
// src/text/json_schema_*.cpp; the API is json_schema_grammar.h.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "text/json_schema_atoms.h"
#include "text/json_schema_expr.h"

namespace dawn::schema_gbnf {

class Converter {
 public:
  explicit Converter(const Json& root) : root_(root) {}

  // The whole grammar text, root first.
  std::string grammar();

  // The expression of the conjunction of locs (empty: any value); nullopt if nothing matches.
  std::optional<Expr> gen(const std::vector<Loc>& locs);

 private:
  struct Memo {
    std::string name;  // reserved rule name
    size_t slot = 0;   // index in rules_ while the rule is being built or once emitted
    bool done = false;
    bool referenced = false;  // used while being built: must stay a rule (recursion)
    std::optional<Expr> result;
  };

  std::optional<Expr> gen_atom(const Atom& a, const std::string& name);
  std::optional<Expr> values_expr(const Atom& a);
  Expr const_expr(const Json& v, const std::string& ptr);
  std::optional<Expr> string_expr(const Atom& a);
  std::optional<Expr> array_expr(const Atom& a);
  std::optional<Expr> object_expr(const Atom& a, const std::string& name);
  // The JSON text of a property name that is none of names (a rule named after base if long).
  Expr key_excluding(const std::vector<std::string>& names, const std::string& ptr, const std::string& base);

  std::string reserve_name(const std::string& ptr);
  std::string unique_name(const std::string& base);  // base, or base-2, base-3, ...; reserved
  // A new rule named after base; returns its reference.
  Expr add_rule(const std::string& base, const Expr& body);

  static constexpr int kMaxDepth = 200;
  const Json& root_;
  int depth_ = 0;  // gen() calls in progress
  std::map<std::string, Memo> memo_;
  std::set<std::string> names_;
  std::vector<std::optional<std::pair<std::string, std::string>>> rules_;  // nullopt: slot unused
};

}  // namespace dawn::schema_gbnf
