// The one exception type dawn throws for bad input: its message is the single
// line the user sees, naming the file, the field and the offending value.
#pragma once
#include <stdexcept>
#include <string>

namespace dawn {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace dawn
