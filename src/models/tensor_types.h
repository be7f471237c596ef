// Per-tensor type overrides in llama-quantize's syntax (--tensor-type REGEX=TYPE), shared by
// dawn quantize and dawn synth.
#pragma once
#include <regex>
#include <string>
#include <vector>

#include "kernels/types.h"

namespace dawn {

class TensorTypes {
 public:
  // specs: "REGEX=TYPE" each (case-insensitive; TYPE a type dawn can write). who names the
  // command in errors ("quantize", "synth"). Throws Error naming the bad spec.
  TensorTypes(const std::vector<std::string>& specs, const std::string& who);

  // The type of the last spec whose regex matches part of name, else t.
  DType apply(const std::string& name, DType t) const;

 private:
  struct Rule {
    std::regex re;
    DType type;
  };
  std::vector<Rule> rules_;
};

}  // namespace dawn
