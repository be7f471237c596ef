// Whole-file reads with the one-line error dawn gives for bad input.
#pragma once
#include <string>

namespace dawn {

// The bytes of a file; throws Error naming it when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace dawn
