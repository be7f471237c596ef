// Per-tensor type overrides: parsed once, matched per tensor name (last match wins).
#include "models/tensor_types.h"

#include <algorithm>
#include <cctype>

#include "util/error.h"

namespace dawn {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

}  // namespace

TensorTypes::TensorTypes(const std::vector<std::string>& specs, const std::string& who) {
  for (const std::string& spec : specs) {
    const size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw Error(who + ": --tensor-type '" + spec + "' is not REGEX=TYPE");
    DType t;
    const std::string tname = lower(spec.substr(eq + 1)), pat = lower(spec.substr(0, eq));
    if (!parse_type_name(tname, &t) || t == DType::Q8_K || t == DType::Q8_1)
      throw Error(who + ": --tensor-type '" + spec + "': unknown type '" + tname + "'");
    if (!traits(t).from_float) throw Error(who + ": --tensor-type '" + spec + "': dawn cannot write " + tname);
    try {
      rules_.push_back({std::regex(pat), t});
    } catch (const std::regex_error& e) {
      throw Error(who + ": --tensor-type '" + spec + "': bad regular expression (" + e.what() + ")");
    }
  }
}

DType TensorTypes::apply(const std::string& name, DType t) const {
  for (const Rule& r : rules_) {
    if (std::regex_search(name, r.re)) t = r.type;
  }
  return t;
}

}  // namespace dawn
